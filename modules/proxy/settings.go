package proxy

import (
	"regexp"
	"time"

	"github.com/httpdg/httpdg/config"
)

// ModuleName is the module's identifier.
const ModuleName = "proxy_module"

// Worker is a backend: the target of a ProxyPass, a <Proxy url> section or
// a BalancerMember.
type Worker struct {
	Name        string            // normalised URL: scheme and host lower-cased, default port dropped
	URL         string            // as written (with any "unix:/path|" prefix)
	Params      map[string]string // key (lower-cased) → value, checked
	HealthCheck HealthCheck       // the hc* parameters
	Origin      *config.Origin    // the line that defined it
}

// Balancer is a balancer://name group of workers.
type Balancer struct {
	Name    string            // "balancer://name", lower-cased, without path
	Members []*Worker         // BalancerMember lines, in order
	Params  map[string]string // key (lower-cased) → value, checked
	Origin  *config.Origin
}

// Pass is a ProxyPass line.
type Pass struct {
	Path        string         // the local URL path (the <Location> path inside one)
	Regex       *regexp.Regexp // for "ProxyPass ~ regex url" and <LocationMatch>
	URL         string         // the backend URL, balancer://name/..., or "!" for an exclusion
	NoCanon     bool
	Interpolate bool
	NoQuery     bool
	Mapping     string            // "", "encoded" or "servlet"
	Params      map[string]string // worker or balancer parameters, key lower-cased
	Origin      *config.Origin
}

// ReversePass is a ProxyPassReverse line.
type ReversePass struct {
	Path        string
	URL         string
	Interpolate bool
	Origin      *config.Origin
}

// ServerSettings are the proxy settings of one server (main or virtual).
type ServerSettings struct {
	Passes       []*Pass // server-level ProxyPass lines, in order
	Reverse      []ReversePass
	Timeout      time.Duration // ProxyTimeout; 0 when unset
	Requests     *bool         // ProxyRequests
	PreserveHost *bool         // ProxyPreserveHost outside sections
	Workers      []*Worker     // workers outside balancers, in definition order
	Balancers    []*Balancer   // in definition order
}

// DirSettings are the proxy settings of a per-directory section.
type DirSettings struct {
	Pass         *Pass // ProxyPass inside <Location>
	Reverse      []ReversePass
	PreserveHost *bool
}

// ServerOf returns the proxy settings of server s.
func ServerOf(s *config.Server) *ServerSettings {
	return config.ServerConf[ServerSettings](s, ModuleName)
}

// SectionOf returns the proxy settings of a per-directory section.
func SectionOf(sec *config.Section) *DirSettings {
	return config.SectionConf[DirSettings](sec, ModuleName)
}

// Balancer returns the balancer called name (balancer://x) in s, or nil.
func (s *ServerSettings) Balancer(name string) *Balancer {
	n, err := balancerName(name)
	if err != nil {
		return nil
	}
	for _, b := range s.Balancers {
		if b.Name == n {
			return b
		}
	}
	return nil
}
