// Package reqtimeout is httpdg's reqtimeout module.
package reqtimeout
