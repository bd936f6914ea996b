package authz

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// providers parse and check the arguments of "Require <provider> ...".
// Provider names are case-sensitive, as Apache's provider registry is.
var providers = map[string]func(*Rule) error{
	"all":         allProvider,
	"env":         needArgs("environment variable name"),
	"method":      methodProvider,
	"ip":          ipProvider,
	"host":        hostProvider,
	"forward-dns": hostProvider,
	"local":       noArgs,
	"user":        needArgs("user name"),
	"valid-user":  noArgs,
	"group":       needArgs("group name"),
}

func allProvider(r *Rule) error {
	if len(r.Args) != 1 || !strings.EqualFold(r.Args[0], "granted") && !strings.EqualFold(r.Args[0], "denied") {
		return fmt.Errorf("Argument for 'Require all' must be 'granted' or 'denied'")
	}
	r.Args[0] = strings.ToLower(r.Args[0])
	return nil
}

func needArgs(what string) func(*Rule) error {
	return func(r *Rule) error {
		if len(r.Args) == 0 {
			return fmt.Errorf("'require %s' requires an argument (at least one %s)", r.Provider, what)
		}
		return nil
	}
}

func noArgs(r *Rule) error {
	if len(r.Args) > 0 {
		return fmt.Errorf("'require %s' takes no arguments", r.Provider)
	}
	return nil
}

// methods are the methods Apache's ap_method_number_of knows (HEAD counts
// as GET). Like Apache, the names are case-sensitive.
var methods = map[string]bool{}

func init() {
	for _, m := range strings.Fields("GET HEAD PUT POST DELETE CONNECT OPTIONS TRACE PATCH PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK VERSION-CONTROL CHECKOUT UNCHECKOUT CHECKIN UPDATE LABEL REPORT MKWORKSPACE MKACTIVITY BASELINE-CONTROL MERGE") {
		methods[m] = true
	}
}

func methodProvider(r *Rule) error {
	for _, m := range r.Args {
		if !methods[m] {
			return fmt.Errorf("Invalid Method '%s'", m)
		}
	}
	if len(r.Args) == 0 {
		return fmt.Errorf("At least one method must be specified")
	}
	return nil
}

func hostProvider(r *Rule) error {
	if len(r.Args) == 0 {
		return fmt.Errorf("'require %s' requires an argument (at least one host or domain name)", r.Provider)
	}
	for _, h := range r.Args {
		ok := h != "" && h != "."
		for _, c := range h {
			ok = ok && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_')
		}
		if !ok {
			return fmt.Errorf("Require %s: '%s' is not a host or domain name", r.Provider, h)
		}
	}
	return nil
}

func ipProvider(r *Rule) error {
	if len(r.Args) == 0 {
		return fmt.Errorf("'require ip' requires an argument")
	}
	r.IPs = r.IPs[:0]
	for _, w := range r.Args {
		p, err := ParseSubnet(w)
		if err != nil {
			return err
		}
		r.IPs = append(r.IPs, p)
	}
	return nil
}

const (
	errBadIP   = "The specified IP address is invalid."
	errBadMask = "The specified network mask is invalid."
)

// ParseSubnet parses an address as mod_authz_host (apr_ipsubnet_create)
// does: an IPv4 or IPv6 address, a partial IPv4 network ("10.1" or
// "10.1." is 10.1.0.0/16), or an address with "/bits" or, for IPv4, a
// "/a.b.c.d" netmask. IPv4-mapped IPv6 addresses are refused, as Apache
// does; so are non-contiguous netmasks, which match nothing sensible.
func ParseSubnet(w string) (netip.Prefix, error) {
	invalid := func(why string) (netip.Prefix, error) {
		if why == "" {
			return netip.Prefix{}, fmt.Errorf("ip address '%s' appears to be invalid", w)
		}
		return netip.Prefix{}, fmt.Errorf("ip address '%s' appears to be invalid: %s", w, why)
	}
	addr, mask, hasMask := strings.Cut(w, "/")
	if !looksLikeIP(addr) {
		return invalid("")
	}
	var ip netip.Addr
	if strings.Contains(addr, ":") {
		a, err := netip.ParseAddr(addr)
		if err != nil || a.Zone() != "" || a.Is4In6() {
			return invalid(errBadIP)
		}
		ip = a
	} else if a, ok := parseIPv4(addr); ok {
		ip = a
	} else {
		if hasMask {
			return invalid(errBadIP)
		}
		p, ok := parseNetwork(addr)
		if !ok {
			return invalid(errBadIP)
		}
		return p, nil
	}
	if !hasMask {
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	if n, err := strconv.Atoi(mask); err == nil && isDigits(mask) {
		if n > 0 && n <= ip.BitLen() {
			return netip.PrefixFrom(ip, n).Masked(), nil
		}
	}
	if ip.Is4() {
		if m, ok := parseIPv4(mask); ok {
			v := m.As4()
			u := uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
			ones := bits.LeadingZeros32(^u)
			if ones > 0 && u<<ones == 0 {
				return netip.PrefixFrom(ip, ones).Masked(), nil
			}
		}
	}
	return invalid(errBadMask)
}

// looksLikeIP is APR's test for "meant as an IP address": anything with a
// colon, or only digits and dots.
func looksLikeIP(s string) bool {
	if s == "" {
		return false
	}
	if strings.Contains(s, ":") {
		return true
	}
	for _, c := range s {
		if c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// parseIPv4 parses exactly four decimal octets.
func parseIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || !isDigits(p) || n > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), true
}

// parseNetwork parses Apache's legacy partial network "a", "a.b", "a.b.c"
// (a trailing dot allowed).
func parseNetwork(s string) (netip.Prefix, bool) {
	parts := strings.Split(strings.TrimSuffix(s, "."), ".")
	if len(parts) > 4 {
		return netip.Prefix{}, false
	}
	var b [4]byte
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || !isDigits(p) || n > 255 {
			return netip.Prefix{}, false
		}
		b[i] = byte(n)
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(parts)), true
}
