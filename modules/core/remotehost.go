package core

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// dnsTimeout bounds one reverse (or confirming forward) lookup: a slow
// resolver delays the request it is made for, never longer than this.
const dnsTimeout = 5 * time.Second

// remoteHostKey is the connection pool's userdata holding the client's
// looked-up name (Apache's c->remote_host): one lookup per connection.
const remoteHostKey = "core.remote_host"

type remoteHost struct {
	mu       sync.Mutex // h2 serves a connection's requests at once
	name     string     // lower case, without the trailing dot; "" when none
	verified bool       // the name resolves back to the client (double reverse)
	double   bool       // verified was checked
	looked   bool       // the reverse lookup was made
}

// HostnameLookups is the setting for r: its sections', else its virtual
// host's, else the main server's ("off" by default).
func HostnameLookups(r *phases.Request) string {
	v := ""
	if r.Server != nil && r.Server.Main != nil {
		v = ServerOf(r.Server.Main).HostnameLookups
	}
	if r.Vhost != nil && r.Server != nil && r.Vhost != r.Server.Main {
		if s := ServerOf(r.Vhost).HostnameLookups; s != "" {
			v = s
		}
	}
	for _, sec := range r.Sections {
		if s := config.SectionConf[DirSettings](sec, ModuleName).HostnameLookups; s != "" {
			v = s
		}
	}
	if v == "" {
		return "off"
	}
	return v
}

// RemoteHost is ap_get_remote_host(REMOTE_NAME) for the log's %h and
// REMOTE_HOST: under HostnameLookups On the client's reverse-DNS name,
// under Double that name only if it resolves back to the client; the
// client's address otherwise (Off, or no name).
func RemoteHost(r *phases.Request) string {
	if r.Conn == nil {
		return r.UseragentIP
	}
	if r.Server == nil || !GlobalOf(r.Server.Config).HostnameLookups {
		return r.Conn.ClientIP // the usual case: no lookups configured anywhere
	}
	mode := HostnameLookups(r)
	if mode == "off" {
		return r.Conn.ClientIP
	}
	name, verified := lookupRemoteHost(r.Conn, mode == "double")
	if name == "" || mode == "double" && !verified {
		return r.Conn.ClientIP
	}
	return name
}

// DoubleReverseHost is ap_get_useragent_host(REMOTE_DOUBLE_REV), what
// "Require host" checks: the client's name if it resolves back to the
// client, else "", whatever HostnameLookups says. Looked up once per
// connection.
func DoubleReverseHost(r *phases.Request) string {
	if r.Conn == nil || r.UseragentIP != r.Conn.ClientIP {
		return ""
	}
	if name, verified := lookupRemoteHost(r.Conn, true); verified {
		return name
	}
	return ""
}

// lookupRemoteHost does the connection's lookups once and keeps them on
// its pool: the name, and whether it resolves back (when double).
func lookupRemoteHost(c *phases.Connection, double bool) (string, bool) {
	h := &remoteHost{}
	if c.Pool != nil {
		if v, ok := c.Pool.Userdata(remoteHostKey); ok {
			h = v.(*remoteHost)
		} else {
			c.Pool.SetUserdata(remoteHostKey, h)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.looked {
		h.looked = true
		ctx, cancel := context.WithTimeout(context.Background(), dnsTimeout)
		names, err := net.DefaultResolver.LookupAddr(ctx, c.ClientIP)
		cancel()
		if err == nil && len(names) > 0 {
			h.name = strings.ToLower(strings.TrimSuffix(names[0], "."))
		}
	}
	if double && !h.double && h.name != "" {
		h.double, h.verified = true, resolvesTo(h.name, c.ClientIP)
	}
	return h.name, h.verified
}

// resolvesTo reports whether name's addresses include ip (the forward
// half of a double-reverse lookup).
func resolvesTo(name, ip string) bool {
	want, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), dnsTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if got, err := netip.ParseAddr(a); err == nil && got.Unmap() == want.Unmap() {
			return true
		}
	}
	return false
}
