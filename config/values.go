package config

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Value parsers shared by directive handlers. Their errors are the text after
// "Syntax error on line N of F:", so they name the directive.

// Int parses a whole number in [lo, hi].
func (c *Cmd) Int(s string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: '%s' is not a whole number", c.Directive.Name, s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s: %d is out of range (%d to %d)", c.Directive.Name, n, lo, hi)
	}
	return n, nil
}

// Seconds parses a timeout in seconds, or with a unit (ms, s, m, h) where
// Apache's directive allows one.
func (c *Cmd) Seconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%s: a timeout cannot be negative", c.Directive.Name)
		}
		return time.Duration(n) * time.Second, nil
	}
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}} {
		if num, ok := strings.CutSuffix(strings.ToLower(s), u.suffix); ok {
			if n, err := strconv.ParseInt(num, 10, 64); err == nil && n >= 0 {
				return time.Duration(n) * u.unit, nil
			}
		}
	}
	return 0, fmt.Errorf("%s: '%s' is not a time in seconds", c.Directive.Name, s)
}

// Size parses a byte count with an optional K, M or G suffix.
func (c *Cmd) Size(s string) (int64, error) {
	mult := int64(1)
	t := strings.ToUpper(s)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = num, u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: '%s' is not a size (a number, optionally followed by K, M or G)", c.Directive.Name, s)
	}
	return n * mult, nil
}

// Regex compiles a regular expression.
func (c *Cmd) Regex(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("%s: regular expression '%s' does not compile: %v", c.Directive.Name, s, err)
	}
	return re, nil
}

// ExistingFile resolves p against ServerRoot and checks it is a readable file.
func (c *Cmd) ExistingFile(p string) (string, error) {
	path := c.Path(p)
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: could not open %s: %s", c.Directive.Name, path, describeErr(err))
	}
	if st.IsDir() {
		return "", fmt.Errorf("%s: %s is a directory, not a file", c.Directive.Name, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: could not open %s: %s", c.Directive.Name, path, describeErr(err))
	}
	f.Close()
	return path, nil
}

// OneOf checks s is one of the choices (case-insensitive) and returns the
// choice as declared.
func (c *Cmd) OneOf(s string, choices ...string) (string, error) {
	for _, ch := range choices {
		if strings.EqualFold(s, ch) {
			return ch, nil
		}
	}
	return "", fmt.Errorf("%s: '%s' must be one of %s", c.Directive.Name, s, strings.Join(choices, ", "))
}

// HostPort is a parsed "[host:]port" address.
type HostPort struct {
	Host string // "" or "*" for every address
	Port int
}

// ParseHostPort parses "[host:]port" with an IPv6 host in brackets. A port
// is required when requirePort is set; otherwise 0 means "not given".
func ParseHostPort(s string, requirePort bool) (HostPort, error) {
	host, portStr := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return HostPort{}, fmt.Errorf("'%s' has an unclosed '['", s)
		}
		host = s[1:end]
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return HostPort{}, fmt.Errorf("'%s' is not an IPv6 address", host)
		}
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return HostPort{}, fmt.Errorf("'%s' is not [address]:port", s)
			}
			portStr = rest[1:]
		}
	case strings.Count(s, ":") == 1:
		i := strings.LastIndex(s, ":")
		host, portStr = s[:i], s[i+1:]
	case strings.Count(s, ":") > 1:
		return HostPort{}, fmt.Errorf("'%s': an IPv6 address must be written in brackets", s)
	default:
		if _, err := strconv.Atoi(s); err == nil {
			host, portStr = "", s
		}
	}
	hp := HostPort{Host: host}
	if portStr == "" || portStr == "*" {
		if requirePort {
			return HostPort{}, fmt.Errorf("Port must be specified")
		}
		return hp, nil
	}
	p, err := strconv.Atoi(portStr)
	if err != nil || p < 1 || p > 65535 {
		return HostPort{}, fmt.Errorf("Invalid port '%s' (1 to 65535)", portStr)
	}
	hp.Port = p
	return hp, nil
}
