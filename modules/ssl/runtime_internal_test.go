package ssl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func testCert(t *testing.T, name string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// handshake runs a TLS 1.2 handshake of a client offering suites with
// server name sni against srv, returning the suite agreed on.
func handshake(srv *tls.Config, sni string, suites ...uint16) (uint16, error) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	errc := make(chan error, 1)
	go func() { errc <- tls.Server(b, srv).Handshake(); b.Close() }()
	c := tls.Client(a, &tls.Config{ServerName: sni, InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: suites})
	err := c.Handshake()
	a.Close()
	if serr := <-errc; err == nil {
		err = serr
	}
	return c.ConnectionState().CipherSuite, err
}

// The servers on one port: a vhost inheriting the main server's
// SSLCipherSuite, one with its own, one with none anywhere (Go's set).
func TestCipherSuitesPerVhost(t *testing.T) {
	files := map[string]string{}
	vhost := func(name, extra string) string {
		files["conf/"+name+".crt"], files["conf/"+name+".key"] = testCert(t, name)
		return fmt.Sprintf("<VirtualHost *:443>\nServerName %s\nSSLEngine on\nSSLCertificateFile conf/%s.crt\nSSLCertificateKeyFile conf/%s.key\n%s</VirtualHost>\n", name, name, name, extra)
	}
	files["conf/httpd.conf"] = "Listen 443 https\nSSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256\n" +
		vhost("a.test", "") + vhost("b.test", "SSLCipherSuite ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-SHA\n")
	cfg, _, err := phasestest.Load(t, files)
	if err != nil {
		t.Fatal(err)
	}
	s := &phases.Server{Config: cfg, Main: cfg.Main, Listen: []phases.ListenAddr{{Port: 443, Protocol: "https"}}}
	if err := buildTLS(nil, nil, nil, s); err != nil {
		t.Fatal(err)
	}
	base := s.TLS[443]
	const (
		aes128 = tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		aes256 = tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
		cbc    = tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
		chacha = tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	)
	// A server that takes the port's per-SNI config (GetConfigForClient).
	delegating := &tls.Config{GetConfigForClient: base.GetConfigForClient}
	// The port's config served as it is, each handshake a clone, as the
	// MPM serves it (the clone's GetConfigForClient is not called).
	direct := &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return base.Clone(), nil }}
	tests := []struct {
		sni    string
		offer  []uint16
		want   uint16 // 0: the handshake fails
		direct bool   // the same result with direct
	}{
		{"a.test", []uint16{aes128}, aes128, true},
		{"a.test", []uint16{aes256, chacha}, 0, true},
		{"", []uint16{aes128}, aes128, true}, // no SNI: the first vhost
		{"", []uint16{aes256}, 0, true},
		{"b.test", []uint16{aes256}, aes256, true},
		{"b.test", []uint16{cbc}, cbc, true},
		{"b.test", []uint16{aes128, chacha}, 0, true},
		// Go prefers AES128-GCM from the port's union of sets: served
		// directly, the handshake is refused rather than use it.
		{"b.test", []uint16{aes128, aes256}, aes256, false},
	}
	for _, tt := range tests {
		for _, srv := range []*tls.Config{delegating, direct} {
			if srv == direct && !tt.direct {
				continue
			}
			got, err := handshake(srv, tt.sni, tt.offer...)
			what := fmt.Sprintf("SNI %q offering %v (delegating %v)", tt.sni, tt.offer, srv == delegating)
			switch {
			case tt.want == 0 && err == nil:
				t.Errorf("%s: agreed on %s, want a failure", what, tls.CipherSuiteName(got))
			case tt.want != 0 && err != nil:
				t.Errorf("%s: %v", what, err)
			case tt.want != 0 && got != tt.want:
				t.Errorf("%s: agreed on %s, want %s", what, tls.CipherSuiteName(got), tls.CipherSuiteName(tt.want))
			}
		}
	}
	if _, err := handshake(direct, "b.test", aes128, aes256); err == nil {
		t.Error("direct: b.test agreed on AES128-GCM")
	}
}

// One set for every server of a port: the port's config has it, with no
// per-handshake callbacks.
func TestCipherSuitesOneSet(t *testing.T) {
	files := map[string]string{}
	files["conf/a.crt"], files["conf/a.key"] = testCert(t, "a.test")
	files["conf/httpd.conf"] = "Listen 443 https\nSSLEngine on\nSSLCertificateFile conf/a.crt\nSSLCertificateKeyFile conf/a.key\nSSLCipherSuite ECDHE+AESGCM:!AES256\n"
	cfg, _, err := phasestest.Load(t, files)
	if err != nil {
		t.Fatal(err)
	}
	s := &phases.Server{Config: cfg, Main: cfg.Main, Listen: []phases.ListenAddr{{Port: 443, Protocol: "https"}}}
	if err := buildTLS(nil, nil, nil, s); err != nil {
		t.Fatal(err)
	}
	c := s.TLS[443]
	want := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	if fmt.Sprint(c.CipherSuites) != fmt.Sprint(want) || c.GetConfigForClient != nil || c.VerifyConnection != nil {
		t.Errorf("suites %v (want %v), callbacks %v %v", c.CipherSuites, want, c.GetConfigForClient != nil, c.VerifyConnection != nil)
	}
}
