// Package mime is httpdg's mime module.
package mime
