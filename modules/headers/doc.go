// Package headers is httpdg's headers module.
package headers
