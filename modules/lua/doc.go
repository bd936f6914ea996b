// Package lua is httpdg's lua module.
package lua
