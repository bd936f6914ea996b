// Package dir is httpdg's dir module.
package dir
