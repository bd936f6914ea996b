package ssl

import (
	"crypto/tls"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// registerHooks builds, in post_config, the TLS configuration of every port
// that serves TLS: the certificates of the servers with SSLEngine on that
// answer there, the first being the default, the client's SNI name picking
// among them by the names the certificates carry.
func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	h.PostConfig.Add(phases.Entry[phases.ServerHookFunc]{Fn: buildTLS, Origin: "ssl_module (Go)", Module: ModuleName, Order: phases.ReallyFirst, RerunInChild: true})
	return nil
}

func buildTLS(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
	byPort := map[int]*tls.Config{}
	servers := map[int][]*config.Server{}
	add := func(port int, srv *config.Server, what string) error {
		ss := ServerOf(srv)
		if !slices.Contains(servers[port], srv) {
			servers[port] = append(servers[port], srv)
		}
		if len(ss.CertificateFiles) == 0 {
			return fmt.Errorf("%s: Server should be SSL-aware but has no certificate configured [Hint: SSLCertificateFile]", what)
		}
		cfg := byPort[port]
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
			if len(ss.Protocols) > 0 {
				cfg.MinVersion, cfg.MaxVersion = ss.Protocols[0], ss.Protocols[len(ss.Protocols)-1]
			}
			byPort[port] = cfg
		}
		for i, certFile := range ss.CertificateFiles {
			keyFile := certFile
			if i < len(ss.CertificateKeyFiles) {
				keyFile = ss.CertificateKeyFiles[i]
			}
			certPEM, err := os.ReadFile(certFile)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if ss.CertificateChainFile != "" {
				chain, err := os.ReadFile(ss.CertificateChainFile)
				if err != nil {
					return fmt.Errorf("%s: %w", what, err)
				}
				certPEM = append(append(certPEM, '\n'), chain...)
			}
			keyPEM, err := os.ReadFile(keyFile)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			pair, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				return fmt.Errorf("%s: certificate %s and key %s: %w", what, certFile, keyFile, err)
			}
			cfg.Certificates = append(cfg.Certificates, pair)
		}
		return nil
	}
	httpsPorts := map[int]bool{}
	for _, l := range s.Listen {
		if l.Protocol == "https" {
			httpsPorts[l.Port] = true
		}
	}
	for _, vh := range s.Config.Vhosts {
		if !strings.EqualFold(ServerOf(vh).Engine, "on") {
			continue
		}
		for _, port := range vhostPorts(vh, s.Listen) {
			if err := add(port, vh, "<VirtualHost> at "+vh.Origin.Short()); err != nil {
				return err
			}
		}
	}
	if strings.EqualFold(ServerOf(s.Main).Engine, "on") {
		for _, l := range s.Listen {
			if err := add(l.Port, s.Main, "main server"); err != nil {
				return err
			}
		}
	}
	for port := range httpsPorts {
		if byPort[port] == nil {
			return fmt.Errorf("Listen on port %d is https, but no server there has SSLEngine on with a certificate [Hint: SSLCertificateFile]", port)
		}
	}
	for port, cfg := range byPort {
		if err := applyCipherSuites(cfg, servers[port], s.Main); err != nil {
			return err
		}
	}
	s.TLS = byPort
	return nil
}

// tlsServer is one server answering TLS on a port, with its TLS 1.0-1.2
// suites (nil: Go's defaults).
type tlsServer struct {
	srv    *config.Server
	suites []uint16
}

// applyCipherSuites sets the port's suites from SSLCipherSuite: a server
// without one inherits the main server's (Apache's merge). When all the
// servers on the port have the same set, cfg has that set. When they
// differ, SNI picks the server (its ServerName or ServerAlias, else the
// first server on the port): cfg.GetConfigForClient returns a config with
// that server's set (the MPM runs each handshake on it), and, for a caller
// that serves cfg itself, cfg offers the union of the sets and
// VerifyConnection refuses a handshake whose suite is not in the SNI
// server's set.
func applyCipherSuites(cfg *tls.Config, srvs []*config.Server, main *config.Server) error {
	mainSpec := ServerOf(main).CipherSuite
	var list []tlsServer
	differ := false
	for _, srv := range srvs {
		spec := ServerOf(srv).CipherSuite
		if spec == "" {
			spec = mainSpec
		}
		var suites []uint16
		if spec != "" {
			cs, err := EvalCipherString(spec)
			if err != nil {
				return err // checked when read
			}
			suites = cs.Suites
		}
		if len(list) > 0 && !sameSet(suites, list[0].suites) {
			differ = true
		}
		list = append(list, tlsServer{srv, suites})
	}
	if len(list) == 0 {
		return nil
	}
	if !differ {
		cfg.CipherSuites = list[0].suites
		return nil
	}
	perServer := make([]*tls.Config, len(list))
	var union []uint16
	for i, ts := range list {
		c := cfg.Clone()
		c.CipherSuites = ts.suites
		perServer[i] = c
		set := ts.suites
		if set == nil {
			set = goDefaultSuites()
		}
		for _, id := range set {
			if !slices.Contains(union, id) {
				union = append(union, id)
			}
		}
	}
	pick := func(sni string) int {
		sni = strings.ToLower(strings.TrimSuffix(sni, "."))
		if sni == "" {
			return 0
		}
		for i, ts := range list {
			if serverNamed(ts.srv, sni) {
				return i
			}
		}
		return 0
	}
	cfg.CipherSuites = union
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		return perServer[pick(hello.ServerName)], nil
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if cs.Version >= tls.VersionTLS13 {
			return nil
		}
		set := list[pick(cs.ServerName)].suites
		if set == nil {
			set = goDefaultSuites()
		}
		if !slices.Contains(set, cs.CipherSuite) {
			return fmt.Errorf("ssl: cipher suite %s is not enabled (SSLCipherSuite) for the server named %q", tls.CipherSuiteName(cs.CipherSuite), cs.ServerName)
		}
		return nil
	}
	return nil
}

// serverNamed says whether the lower-case host name is srv's ServerName
// or matches one of its ServerAlias patterns (core's name-based choice).
func serverNamed(srv *config.Server, host string) bool {
	cs := core.ServerOf(srv)
	name := cs.ServerName
	if i := strings.Index(name, "://"); i >= 0 {
		name = name[i+3:]
	}
	if i := strings.LastIndex(name, ":"); i >= 0 && !strings.Contains(name[i:], "]") {
		name = name[:i]
	}
	if name != "" && strings.EqualFold(name, host) {
		return true
	}
	for _, a := range cs.ServerAliases {
		if ok, _ := path.Match(strings.ToLower(a), host); ok {
			return true
		}
	}
	return false
}

func sameSet(a, b []uint16) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for _, id := range a {
		if !slices.Contains(b, id) {
			return false
		}
	}
	return true
}

// vhostPorts are the listening ports a <VirtualHost> answers on.
func vhostPorts(vh *config.Server, listen []phases.ListenAddr) []int {
	var ports []int
	for _, a := range vh.Addrs {
		i := strings.LastIndex(a, ":")
		if i < 0 || strings.HasSuffix(a, "]") {
			for _, l := range listen {
				ports = append(ports, l.Port)
			}
			continue
		}
		if p, err := strconv.Atoi(a[i+1:]); err == nil {
			ports = append(ports, p)
		} else {
			for _, l := range listen {
				ports = append(ports, l.Port)
			}
		}
	}
	return ports
}
