// Package mpm holds the multi-processing modules: master, children,
// scoreboard, and the prefork, worker and event MPMs.
package mpm
