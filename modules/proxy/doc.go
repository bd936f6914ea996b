// Package proxy is httpdg's proxy module.
package proxy
