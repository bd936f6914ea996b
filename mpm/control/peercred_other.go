//go:build !linux

package control

import (
	"errors"
	"net"
)

// peerUID is only implemented with Linux's SO_PEERCRED; elsewhere every
// peer is refused rather than served unchecked.
func peerUID(*net.UnixConn) (uint32, error) {
	return 0, errors.New("peer credentials are not implemented on this system")
}
