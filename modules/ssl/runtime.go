package ssl

import (
	"crypto/tls"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
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
	add := func(port int, srv *config.Server, what string) error {
		ss := ServerOf(srv)
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
	s.TLS = byPort
	return nil
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
