// Package authbasic is httpdg's authbasic module.
package authbasic
