// Package alias is httpdg's alias module.
package alias
