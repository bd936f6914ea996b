// Package logconfig is httpdg's logconfig module.
package logconfig
