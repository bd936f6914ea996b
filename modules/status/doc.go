// Package status is httpdg's status module.
package status
