package cgi

import (
	"encoding/binary"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"github.com/httpdg/httpdg/phases"
)

// clientProbe asks the kernel, through a sock_diag netlink socket, for the
// state of the request's TCP connection, named by its four addresses:
// phases.Request gives a handler no way to learn that the client went
// away before anything is written (mpm/http1 has no background read), and
// the connection's socket is the HTTP layer's. The probe only reads the
// socket's state: ESTABLISHED while the client is there; CLOSE_WAIT once
// it has closed (or half-closed) its side, as nginx treats a client's
// end of stream; not found (or the listening socket found in its place)
// once the connection is gone.
type clientProbe struct {
	fd  int
	seq uint32
	req []byte
	buf []byte
}

// Linux's TCP states (include/net/tcp_states.h).
const tcpEstablished = 1

// Byte offsets in a SOCK_DIAG_BY_FAMILY request and answer: a 16-byte
// nlmsghdr, then struct inet_diag_req_v2 (family, protocol, ext, pad,
// states, then inet_diag_sockid: sport, dport, src[16], dst[16], if,
// cookie[2]) or struct inet_diag_msg (family, state, ...).
const (
	nlHeaderLen  = 16
	diagReqLen   = 56
	diagMsgState = nlHeaderLen + 1
	nlErrorCode  = nlHeaderLen
)

// newClientProbe returns a probe for c's connection, or nil when there is
// none to watch: no connection, addresses that are not TCP/IP (a test's),
// or a kernel without sock_diag. The connection must be established now.
func newClientProbe(c *phases.Connection) *clientProbe {
	if c == nil {
		return nil
	}
	local, remote := net.ParseIP(c.LocalIP), net.ParseIP(c.ClientIP)
	if local == nil || remote == nil || c.LocalPort <= 0 || c.ClientPort <= 0 {
		return nil
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil
	}
	// A lost answer must not hang the watch.
	tv := unix.NsecToTimeval(int64(time.Second))
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	p := &clientProbe{fd: fd, req: diagRequest(local, c.LocalPort, remote, c.ClientPort), buf: make([]byte, 4096)}
	if st, found, err := p.state(); err != nil || !found || st != tcpEstablished {
		p.close()
		return nil
	}
	return p
}

// diagRequest is an exact-match SOCK_DIAG_BY_FAMILY request for the TCP
// socket whose own address is local and whose peer is remote.
func diagRequest(local net.IP, lport int, remote net.IP, rport int) []byte {
	b := make([]byte, nlHeaderLen+diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST)
	req := b[nlHeaderLen:]
	family := byte(unix.AF_INET6)
	if local.To4() != nil && remote.To4() != nil {
		// Also finds an IPv4 client of a dual-stack ([::]) listener.
		family = unix.AF_INET
		local, remote = local.To4(), remote.To4()
	} else {
		local, remote = local.To16(), remote.To16()
	}
	req[0] = family
	req[1] = unix.IPPROTO_TCP
	ne.PutUint32(req[4:], 0xffffffff) // every state
	binary.BigEndian.PutUint16(req[8:], uint16(lport))
	binary.BigEndian.PutUint16(req[10:], uint16(rport))
	copy(req[12:28], local)
	copy(req[28:44], remote)
	ne.PutUint32(req[48:], 0xffffffff) // INET_DIAG_NOCOOKIE: no cookie check
	ne.PutUint32(req[52:], 0xffffffff)
	return b
}

// state asks for the connection's TCP state; found is false when no
// such socket exists, err set when the kernel did not answer.
func (p *clientProbe) state() (state int, found bool, err error) {
	p.seq++
	binary.NativeEndian.PutUint32(p.req[8:], p.seq)
	if err := unix.Sendto(p.fd, p.req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, false, err
	}
	for {
		n, _, err := unix.Recvfrom(p.fd, p.buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, false, err
		}
		if n < diagMsgState+1 {
			return 0, false, unix.EBADMSG
		}
		if binary.NativeEndian.Uint32(p.buf[8:]) != p.seq {
			continue // the late answer to an earlier query
		}
		switch binary.NativeEndian.Uint16(p.buf[4:]) {
		case unix.NLMSG_ERROR:
			if code := -int32(binary.NativeEndian.Uint32(p.buf[nlErrorCode:])); code != int32(unix.ENOENT) {
				return 0, false, unix.Errno(code)
			}
			return 0, false, nil
		case unix.SOCK_DIAG_BY_FAMILY:
			return int(p.buf[diagMsgState]), true, nil
		}
		return 0, false, unix.EBADMSG
	}
}

// gone reports whether the client has left: its connection is no longer
// established, or no longer exists. A failed query says nothing (the
// script goes on).
func (p *clientProbe) gone() bool {
	st, found, err := p.state()
	if err != nil {
		return false
	}
	return !found || st != tcpEstablished
}

func (p *clientProbe) close() { _ = unix.Close(p.fd) }
