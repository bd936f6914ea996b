// Package authz is httpdg's authz module.
package authz
