package ssl_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

func TestHTTPSWithSNIAndH2(t *testing.T) {
	port := httpdgtest.FreePort(t)
	aCert, aKey, a := httpdgtest.SelfSigned(t, "a.test")
	bCert, bKey, b := httpdgtest.SelfSigned(t, "b.test")
	vhost := func(name string) string {
		return fmt.Sprintf("<VirtualHost *:%d>\nServerName %s\nSSLEngine on\nSSLCertificateFile conf/%s.crt\nSSLCertificateKeyFile conf/%s.key\n</VirtualHost>", port, name, name, name)
	}
	conf := fmt.Sprintf("Listen 127.0.0.1:%d https\nServerName localhost\nProtocols h2 http/1.1\n%s\n%s\n", port, vhost("a.test"), vhost("b.test"))
	root := httpdgtest.WriteTree(t, map[string]string{
		"conf/httpd.conf": conf,
		"conf/a.test.crt": aCert, "conf/a.test.key": aKey,
		"conf/b.test.crt": bCert, "conf/b.test.key": bKey,
	})
	s := httpdgtest.Start(t, root, port)
	pool := x509.NewCertPool()
	pool.AddCert(a)
	pool.AddCert(b)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for _, c := range []struct{ sni, wantCN string }{{"a.test", "a.test"}, {"b.test", "b.test"}, {"", "a.test"}} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: c.sni, RootCAs: pool, InsecureSkipVerify: c.sni == "", NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatalf("SNI %q: %v", c.sni, err)
		}
		st := conn.ConnectionState()
		conn.Close()
		if got := st.PeerCertificates[0].Subject.CommonName; got != c.wantCN {
			t.Errorf("SNI %q: certificate %s, want %s", c.sni, got, c.wantCN)
		}
		if st.NegotiatedProtocol != "h2" {
			t.Errorf("SNI %q: ALPN %q, want h2", c.sni, st.NegotiatedProtocol)
		}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{ServerName: "b.test", RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, err := client.Get("https://" + addr + "/missing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || resp.StatusCode != 404 {
		t.Fatalf("got %s %d, want HTTP/2.0 404", resp.Proto, resp.StatusCode)
	}
	_ = s
}

func TestHTTPSListenWithoutCertificateFails(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": fmt.Sprintf("Listen 127.0.0.1:%d https\n", port)})
	r := httpdgtest.Run(t, "-d", root, "-X")
	if r.Code != 1 || !strings.Contains(r.Stderr, "no server there has SSLEngine on with a certificate") {
		t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// SSLCipherSuite through the binary: the main server's set, inherited by
// a.test, and b.test's own; a TLS 1.2 client offering one suite outside
// the SNI server's set is refused, one offering a suite in it is served.
// TLS 1.3 handshakes are not restricted (Go chooses those suites).
func TestHTTPSCipherSuite(t *testing.T) {
	port := httpdgtest.FreePort(t)
	aCert, aKey, a := httpdgtest.SelfSigned(t, "a.test")
	bCert, bKey, b := httpdgtest.SelfSigned(t, "b.test")
	vhost := func(name, extra string) string {
		return fmt.Sprintf("<VirtualHost *:%d>\nServerName %s\nSSLEngine on\nSSLCertificateFile conf/%s.crt\nSSLCertificateKeyFile conf/%s.key\n%s</VirtualHost>", port, name, name, name, extra)
	}
	conf := fmt.Sprintf("Listen 127.0.0.1:%d https\nServerName localhost\nSSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256\nSSLHonorCipherOrder on\n%s\n%s\n",
		port, vhost("a.test", ""), vhost("b.test", "SSLCipherSuite ECDHE+AESGCM:!AES128\n"))
	root := httpdgtest.WriteTree(t, map[string]string{
		"conf/httpd.conf": conf,
		"conf/a.test.crt": aCert, "conf/a.test.key": aKey,
		"conf/b.test.crt": bCert, "conf/b.test.key": bKey,
	})
	httpdgtest.Start(t, root, port)
	pool := x509.NewCertPool()
	pool.AddCert(a)
	pool.AddCert(b)
	const (
		aes128 = tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		aes256 = tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
		chacha = tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	)
	for _, c := range []struct {
		sni   string
		suite uint16
		ok    bool
	}{
		{"a.test", aes128, true}, {"a.test", aes256, false}, {"a.test", chacha, false},
		{"b.test", aes256, true}, {"b.test", aes128, false}, {"b.test", chacha, false},
	} {
		conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: c.sni, RootCAs: pool,
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{c.suite}})
		if err == nil {
			got := conn.ConnectionState().CipherSuite
			conn.Close()
			if !c.ok || got != c.suite {
				t.Errorf("%s offering %s: agreed on %s", c.sni, tls.CipherSuiteName(c.suite), tls.CipherSuiteName(got))
			}
		} else if c.ok {
			t.Errorf("%s offering %s: %v", c.sni, tls.CipherSuiteName(c.suite), err)
		}
	}
	// A client offering suites of both servers' sets agrees on the SNI
	// server's, as with Apache: the handshake runs on that server's own
	// configuration, not on the port's union of sets (where Go would
	// prefer AES-128 and b.test would have to refuse it).
	for sni, want := range map[string]uint16{"a.test": aes128, "b.test": aes256} {
		conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: sni, RootCAs: pool,
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{aes128, aes256, chacha}})
		if err != nil {
			t.Errorf("%s offering all three: %v", sni, err)
			continue
		}
		if got := conn.ConnectionState().CipherSuite; got != want {
			t.Errorf("%s offering all three: agreed on %s, want %s", sni, tls.CipherSuiteName(got), tls.CipherSuiteName(want))
		}
		conn.Close()
	}
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: "a.test", RootCAs: pool, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatalf("TLS 1.3: %v", err)
	}
	conn.Close()
}

func TestHTTPSCipherSuiteNoneLeftFails(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{"conf/httpd.conf": fmt.Sprintf("Listen 127.0.0.1:%d\nSSLCipherSuite HIGH:!ECDHE\n", port)})
	r := httpdgtest.Run(t, "-d", root, "-t")
	if r.Code != 1 || !strings.Contains(r.Stderr, "line 2 of") || !strings.Contains(r.Stderr, "SSLCipherSuite: no cipher suite left from 'HIGH:!ECDHE'") {
		t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
	}
}
