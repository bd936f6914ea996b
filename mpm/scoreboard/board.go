// Package scoreboard is the server's scoreboard: one slot per worker in
// shared memory, written by children, read by the master and server-status.
package scoreboard

// Board is a scoreboard mapped into this process.
type Board struct{}
