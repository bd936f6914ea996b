// Package ssl is httpdg's ssl module.
package ssl
