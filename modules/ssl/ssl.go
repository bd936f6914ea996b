package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the module's identifier.
const ModuleName = "ssl_module"

// ServerSettings are the TLS settings of one server (main or virtual).
type ServerSettings struct {
	Engine               string   // "on", "off" or "optional"; "" when unset
	CertificateFiles     []string // absolute; several for several key types
	CertificateKeyFiles  []string // absolute; the n-th pairs with the n-th certificate
	CertificateChainFile string   // absolute
	// Protocols are the enabled TLS versions (tls.VersionTLS10...) in
	// ascending order; nil when SSLProtocol was not given.
	Protocols        []uint16
	CipherSuite      string // the TLSv1.2-and-older OpenSSL cipher string, as written
	TLS13CipherSuite string // "SSLCipherSuite TLSv1.3 ..." as written
	HonorCipherOrder *bool
}

// DirSettings are the TLS settings of a per-directory section.
type DirSettings struct {
	CipherSuite string // a per-directory SSLCipherSuite (renegotiation in Apache)
}

// ServerOf returns the TLS settings of server s.
func ServerOf(s *config.Server) *ServerSettings {
	return config.ServerConf[ServerSettings](s, ModuleName)
}

// SectionOf returns the TLS settings of a per-directory section.
func SectionOf(sec *config.Section) *DirSettings {
	return config.SectionConf[DirSettings](sec, ModuleName)
}

func init() {
	d := func(name string, form config.ArgForm, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Form: form, Contexts: ctx, Help: help, Handler: h}
	}
	srv := config.ServerVhost
	directives := []*config.Directive{
		d("SSLEngine", config.Take1, srv, "turns TLS on for this server: on, off or optional", sslEngine),
		d("SSLCertificateFile", config.Take1, srv, "the server's certificate ('/path/to/file', PEM)", sslCertificateFile),
		d("SSLCertificateKeyFile", config.Take1, srv, "the private key of the server's certificate ('/path/to/file', PEM)", sslCertificateKeyFile),
		d("SSLCertificateChainFile", config.Take1, srv, "intermediate CA certificates sent along with the server's ('/path/to/file', PEM)", sslCertificateChainFile),
		d("SSLProtocol", config.RawArgs, srv, "the TLS versions to enable or disable ('[+-]all|TLSv1|TLSv1.1|TLSv1.2|TLSv1.3 ...')", sslProtocol),
		d("SSLCipherSuite", config.Take12, config.AnyContext, "the permitted ciphers as an OpenSSL cipher string, optionally after a protocol (SSL or TLSv1.3)", sslCipherSuite),
		d("SSLHonorCipherOrder", config.Flag, srv, "accepted; the permitted suites are SSLCipherSuite's, their order is always Go's (crypto/tls ignores a server order)", func(c *config.Cmd) error {
			v := c.Flag()
			ServerOf(c.Server).HonorCipherOrder = &v
			return nil
		}),
	}
	// All served by the TLS listeners (runtime.go). SSLCipherSuite sets
	// the TLS 1.0-1.2 suites (not the TLS 1.3 ones, nor per directory:
	// warned when configured); SSLHonorCipherOrder is accepted with Go's
	// meaning: the order is always Go's (see doc.go).
	for _, d := range directives {
		d.Built = true
	}
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_ssl.c", RegisterHooks: registerHooks, Directives: directives})
}

func sslEngine(c *config.Cmd) error {
	for _, v := range []string{"on", "off", "optional"} {
		if strings.EqualFold(c.Args[0], v) {
			ServerOf(c.Server).Engine = v
			return nil
		}
	}
	return fmt.Errorf("Argument must be On, Off, or Optional")
}

// readFile is mod_ssl's ssl_cmd_check_file: the file must exist, be a
// regular file and not be empty. It returns the absolute path and content.
func readFile(c *config.Cmd) (string, []byte, error) {
	path := c.Path(c.Args[0])
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return "", nil, fmt.Errorf("%s: file '%s' does not exist or is empty", c.Directive.Name, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("%s: cannot read '%s': %v", c.Directive.Name, path, err)
	}
	return path, data, nil
}

// certificates returns the parsed CERTIFICATE blocks of PEM data.
func certificates(name, path string, data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d in '%s' does not parse: %v", name, len(certs)+1, path, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: '%s' holds no PEM certificate (-----BEGIN CERTIFICATE-----)", name, path)
	}
	return certs, nil
}

func sslCertificateFile(c *config.Cmd) error {
	path, data, err := readFile(c)
	if err != nil {
		return err
	}
	if _, err := certificates(c.Directive.Name, path, data); err != nil {
		return err
	}
	s := ServerOf(c.Server)
	s.CertificateFiles = append(s.CertificateFiles, path)
	i := len(s.CertificateFiles) - 1
	if i < len(s.CertificateKeyFiles) {
		return checkPair(c.Directive.Name, path, s.CertificateKeyFiles[i])
	}
	return nil
}

func sslCertificateKeyFile(c *config.Cmd) error {
	path, data, err := readFile(c)
	if err != nil {
		return err
	}
	if err := checkKey(path, data); err != nil {
		return err
	}
	s := ServerOf(c.Server)
	s.CertificateKeyFiles = append(s.CertificateKeyFiles, path)
	i := len(s.CertificateKeyFiles) - 1
	if i < len(s.CertificateFiles) {
		return checkPair(c.Directive.Name, s.CertificateFiles[i], path)
	}
	return nil
}

// checkKey checks data holds an unencrypted PEM private key Go can use.
func checkKey(path string, data []byte) error {
	const name = "SSLCertificateKeyFile"
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			continue
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return fmt.Errorf("%s: the private key in '%s' is encrypted; httpdg has no SSLPassPhraseDialog, decrypt it (openssl pkey -in key -out key.plain)", name, path)
		}
		var err error
		switch b.Type {
		case "RSA PRIVATE KEY":
			_, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			_, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			_, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		}
		if err != nil {
			return fmt.Errorf("%s: the private key in '%s' does not parse: %v", name, path, err)
		}
		return nil
	}
	return fmt.Errorf("%s: '%s' holds no PEM private key (-----BEGIN PRIVATE KEY-----)", name, path)
}

// checkPair checks the key matches the certificate it is paired with, as
// Apache does when it starts.
func checkPair(name, certPath, keyPath string) error {
	certPEM, err1 := os.ReadFile(certPath)
	keyPEM, err2 := os.ReadFile(keyPath)
	if err1 != nil || err2 != nil {
		return nil // already reported when each was read
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return fmt.Errorf("%s: the private key in '%s' does not match the certificate in '%s' (%v)", name, keyPath, certPath, err)
	}
	return nil
}

func sslCertificateChainFile(c *config.Cmd) error {
	path, data, err := readFile(c)
	if err != nil {
		return err
	}
	if _, err := certificates(c.Directive.Name, path, data); err != nil {
		return err
	}
	ServerOf(c.Server).CertificateChainFile = path
	return nil
}

var protocolBits = []struct {
	name    string
	version uint16
}{
	{"TLSv1", tls.VersionTLS10},
	{"TLSv1.1", tls.VersionTLS11},
	{"TLSv1.2", tls.VersionTLS12},
	{"TLSv1.3", tls.VersionTLS13},
}

// sslProtocol follows mod_ssl's ssl_cmd_protocol_parse: words are applied
// left to right, "+x" adds, "-x" removes, a bare word replaces the set.
func sslProtocol(c *config.Cmd) error {
	if len(c.Args) == 0 {
		return fmt.Errorf("SSLProtocol requires at least one argument, %s", c.Directive.Help)
	}
	set := map[uint16]bool{}
	seen := false
	for _, arg := range c.Args {
		w, action := arg, byte(0)
		if strings.HasPrefix(w, "+") || strings.HasPrefix(w, "-") {
			action, w = w[0], w[1:]
		}
		var this []uint16
		switch {
		case strings.EqualFold(w, "SSLv2"):
			if action == '-' {
				continue
			}
			return fmt.Errorf("SSLProtocol: SSLv2 is no longer supported")
		case strings.EqualFold(w, "SSLv3"):
			if action == '-' {
				continue
			}
			return fmt.Errorf("SSLProtocol: SSLv3 is not supported (httpdg's TLS stack has no SSLv3)")
		case strings.EqualFold(w, "all"):
			for _, p := range protocolBits {
				this = append(this, p.version)
			}
		default:
			for _, p := range protocolBits {
				if strings.EqualFold(w, p.name) {
					this = []uint16{p.version}
				}
			}
			if this == nil {
				return fmt.Errorf("SSLProtocol: Illegal protocol '%s'", w)
			}
		}
		switch action {
		case '-':
			for _, v := range this {
				delete(set, v)
			}
		case '+':
			for _, v := range this {
				set[v] = true
			}
		default:
			if seen {
				c.Warn("SSLProtocol: Protocol '%s' overrides already set parameter(s). Check if a +/- prefix is missing.", w)
			}
			set = map[uint16]bool{}
			for _, v := range this {
				set[v] = true
			}
		}
		seen = true
	}
	var out []uint16
	for _, p := range protocolBits {
		if set[p.version] {
			out = append(out, p.version)
		}
	}
	if len(out) == 0 {
		return fmt.Errorf("SSLProtocol: No SSL protocols available [hint: SSLProtocol]")
	}
	ServerOf(c.Server).Protocols = out
	return nil
}

// goTLS13Ciphers are the TLS 1.3 suites Go's server always enables.
var goTLS13Ciphers = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

var tls13Ciphers = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"}

// sslCipherSuite handles "SSLCipherSuite [SSL|TLSv1.3] cipher-string".
func sslCipherSuite(c *config.Cmd) error {
	proto, spec := "SSL", c.Args[0]
	if len(c.Args) == 2 {
		proto, spec = c.Args[0], c.Args[1]
	}
	switch proto {
	case "SSL":
		cs, err := EvalCipherString(spec)
		if err != nil {
			return err
		}
		if len(cs.NotInGo) > 0 {
			c.Warn("SSLCipherSuite: %s: not implemented by Go's TLS, ignored", strings.Join(cs.NotInGo, ", "))
		}
		if len(cs.Insecure) > 0 {
			c.Warn("SSLCipherSuite: %s: enabled, but insecure (Go's tls.InsecureCipherSuites)", strings.Join(cs.Insecure, ", "))
		}
		if c.Section != nil {
			c.Warn("SSLCipherSuite in a directory context is not applied: it needs a TLS renegotiation, which Go's TLS server does not do")
			SectionOf(c.Section).CipherSuite = spec
		} else {
			ServerOf(c.Server).CipherSuite = spec
		}
	case "TLSv1.3":
		if c.Section != nil {
			return fmt.Errorf("TLSv1.3 ciphers cannot be set inside a directory context")
		}
		for _, name := range strings.Split(spec, ":") {
			known := false
			for _, k := range tls13Ciphers {
				known = known || name == k
			}
			if !known {
				return fmt.Errorf("SSLCipherSuite: '%s' is not a TLSv1.3 cipher suite (%s)", name, strings.Join(tls13Ciphers, ", "))
			}
		}
		var kept []string
		for _, name := range goTLS13Ciphers {
			if !slices.Contains(strings.Split(spec, ":"), name) {
				kept = append(kept, name)
			}
		}
		if len(kept) > 0 {
			c.Warn("SSLCipherSuite TLSv1.3: Go's TLS does not let a server choose its TLS 1.3 cipher suites; %s stay enabled for TLS 1.3 handshakes", strings.Join(kept, ", "))
		}
		ServerOf(c.Server).TLS13CipherSuite = spec
	default:
		return fmt.Errorf("protocol '%s' not supported", proto)
	}
	return nil
}

// checkCipherString checks the syntax of an OpenSSL cipher string: elements
// separated by ':', ',' or spaces, each an optional '!', '-' or '+' then
// cipher names or aliases joined by '+', or '@STRENGTH' / '@SECLEVEL=n'.
func checkCipherString(spec string) error {
	elems := strings.FieldsFunc(spec, func(r rune) bool { return r == ':' || r == ',' || r == ' ' })
	if len(elems) == 0 {
		return fmt.Errorf("SSLCipherSuite: empty cipher string")
	}
	for _, e := range elems {
		body := strings.TrimLeft(e, "!-+")
		if len(e)-len(body) > 1 {
			return fmt.Errorf("SSLCipherSuite: '%s' is not a valid cipher string element", e)
		}
		if strings.HasPrefix(body, "@") {
			u := strings.ToUpper(body)
			if u != "@STRENGTH" && !(strings.HasPrefix(u, "@SECLEVEL=") && len(u) == len("@SECLEVEL=")+1 && u[len(u)-1] >= '0' && u[len(u)-1] <= '5') {
				return fmt.Errorf("SSLCipherSuite: '%s' is not a valid cipher string element", e)
			}
			continue
		}
		for _, part := range strings.Split(body, "+") {
			if part == "" || strings.IndexFunc(part, func(r rune) bool {
				return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
			}) >= 0 {
				return fmt.Errorf("SSLCipherSuite: '%s' is not a valid cipher string element", e)
			}
		}
	}
	return nil
}
