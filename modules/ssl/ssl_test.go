package ssl_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/ssl"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// pems returns a self-signed certificate and its private key (PKCS#8), and
// the same key in its type-specific form (PKCS#1 / SEC 1).
func pems(t *testing.T, rsaKey bool) (cert, key, legacyKey string) {
	t.Helper()
	var priv any
	var pub any
	if rsaKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
		legacyKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		legacyKey = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	key = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
	return cert, key, legacyKey
}

func TestValid(t *testing.T) {
	cert, key, _ := pems(t, false)
	rsaCert, _, rsaKey := pems(t, true)
	conf := `Listen 443
<VirtualHost *:443>
SSLEngine on
SSLCertificateFile conf/server.crt
SSLCertificateKeyFile conf/server.key
SSLCertificateKeyFile conf/rsa.key
SSLCertificateFile conf/rsa.crt
SSLCertificateChainFile conf/chain.pem
SSLProtocol all -TLSv1 -TLSv1.1 -SSLv3
SSLCipherSuite HIGH:!aNULL:!MD5:ECDHE+AESGCM:@STRENGTH
SSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
SSLHonorCipherOrder on
<Location /secure>
SSLCipherSuite AES256-SHA
</Location>
</VirtualHost>
`
	cfg, root, err := phasestest.Load(t, map[string]string{
		"conf/httpd.conf": conf,
		"conf/server.crt": cert, "conf/server.key": key,
		"conf/rsa.crt": rsaCert, "conf/rsa.key": rsaKey,
		"conf/chain.pem": cert + rsaCert,
	})
	if err != nil {
		t.Fatal(err)
	}
	on := true
	p := func(f string) string { return filepath.Join(root, "conf", f) }
	want := &ssl.ServerSettings{
		Engine:               "on",
		CertificateFiles:     []string{p("server.crt"), p("rsa.crt")},
		CertificateKeyFiles:  []string{p("server.key"), p("rsa.key")},
		CertificateChainFile: p("chain.pem"),
		Protocols:            []uint16{tls.VersionTLS12, tls.VersionTLS13},
		CipherSuite:          "HIGH:!aNULL:!MD5:ECDHE+AESGCM:@STRENGTH",
		TLS13CipherSuite:     "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
		HonorCipherOrder:     &on,
	}
	vh := cfg.Vhosts[0]
	if got := ssl.ServerOf(vh); !reflect.DeepEqual(got, want) {
		t.Errorf("settings = %+v\nwant %+v", got, want)
	}
	if got := ssl.SectionOf(vh.Sections[0]).CipherSuite; got != "AES256-SHA" {
		t.Errorf("per-dir cipher suite = %q", got)
	}
	if ssl.ServerOf(cfg.Main).Engine != "" {
		t.Error("main server got the vhost's SSLEngine")
	}
}

func TestProtocol(t *testing.T) {
	tests := map[string][]uint16{
		"TLSv1.2":           {tls.VersionTLS12},
		"tlsv1.2 +TLSv1.3":  {tls.VersionTLS12, tls.VersionTLS13},
		"-all +TLSv1.3":     {tls.VersionTLS13},
		"all -SSLv2 -SSLv3": {tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13},
		"+TLSv1.1 +TLSv1":   {tls.VersionTLS10, tls.VersionTLS11},
	}
	for args, want := range tests {
		cfg, err := phasestest.LoadConf(t, "SSLProtocol "+args+"\n")
		if err != nil {
			t.Errorf("%s: %v", args, err)
			continue
		}
		if got := ssl.ServerOf(cfg.Main).Protocols; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: protocols %v, want %v", args, got, want)
		}
	}
	// A bare word after others replaces them, with Apache's warning.
	cfg := phasestest.MustLoad(t, "SSLProtocol TLSv1 TLSv1.3\n")
	if got := ssl.ServerOf(cfg.Main).Protocols; !reflect.DeepEqual(got, []uint16{tls.VersionTLS13}) {
		t.Errorf("protocols %v", got)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, "Protocol 'TLSv1.3' overrides already set parameter(s)") {
		t.Errorf("warnings %v", cfg.Warnings)
	}
}

func TestInvalid(t *testing.T) {
	cert, key, _ := pems(t, false)
	otherCert, otherKey, _ := pems(t, false)
	encrypted := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n"
	files := map[string]string{
		"conf/server.crt": cert, "conf/server.key": key,
		"conf/other.crt": otherCert, "conf/other.key": otherKey,
		"conf/empty": "", "conf/enc.key": encrypted,
		"conf/garbage.crt": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	}
	tests := []struct {
		conf string
		line int
		want string
	}{
		{"SSLEngine maybe\n", 1, "Argument must be On, Off, or Optional"},
		{"<Directory /srv>\nSSLEngine on\n</Directory>\n", 2, "SSLEngine not allowed here"},
		{"SSLCertificateFile conf/missing.crt\n", 1, "SSLCertificateFile: file '"},
		{"SSLCertificateFile conf/empty\n", 1, "conf/empty' does not exist or is empty"},
		{"SSLCertificateFile conf/server.key\n", 1, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"},
		{"SSLCertificateFile conf/garbage.crt\n", 1, "certificate 1 in"},
		{"SSLCertificateKeyFile conf/server.crt\n", 1, "holds no PEM private key"},
		{"SSLCertificateKeyFile conf/enc.key\n", 1, "is encrypted"},
		{"SSLCertificateFile conf/server.crt\nSSLCertificateKeyFile conf/other.key\n", 2, "does not match the certificate in"},
		{"SSLCertificateKeyFile conf/other.key\n\nSSLCertificateFile conf/server.crt\n", 3, "SSLCertificateFile: the private key in"},
		{"SSLCertificateChainFile conf/server.key\n", 1, "SSLCertificateChainFile: '"},
		{"SSLCertificateFile conf/server.crt conf/server.key\n", 1, "SSLCertificateFile takes one argument"},
		{"SSLProtocol\n", 1, "SSLProtocol requires at least one argument"},
		{"SSLProtocol TLSv1.4\n", 1, "SSLProtocol: Illegal protocol 'TLSv1.4'"},
		{"SSLProtocol +SSLv3\n", 1, "SSLv3 is not supported"},
		{"SSLProtocol SSLv2\n", 1, "SSLProtocol: SSLv2 is no longer supported"},
		{"SSLProtocol all -all\n", 1, "No SSL protocols available"},
		{"SSLProtocol -TLSv1\n", 1, "No SSL protocols available"},
		{"<Location />\nSSLProtocol TLSv1.2\n</Location>\n", 2, "SSLProtocol not allowed here"},
		{"SSLCipherSuite TLSv1.2 HIGH\n", 1, "protocol 'TLSv1.2' not supported"},
		{"SSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384:AES256\n", 1, "'AES256' is not a TLSv1.3 cipher suite"},
		{"<Directory /srv>\nSSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384\n</Directory>\n", 2, "TLSv1.3 ciphers cannot be set inside a directory context"},
		{"SSLCipherSuite HIGH:!!aNULL\n", 1, "'!!aNULL' is not a valid cipher string element"},
		{"SSLCipherSuite HIGH:@BOGUS\n", 1, "'@BOGUS' is not a valid cipher string element"},
		{"SSLCipherSuite HIGH:ECDHE+\n", 1, "'ECDHE+' is not a valid cipher string element"},
		{"SSLCipherSuite ::\n", 1, "empty cipher string"},
		{"SSLHonorCipherOrder yes\n", 1, "SSLHonorCipherOrder must be On or Off"},
	}
	for _, tt := range tests {
		t.Run(tt.conf, func(t *testing.T) {
			fs := map[string]string{"conf/httpd.conf": tt.conf}
			for k, v := range files {
				fs[k] = v
			}
			_, _, err := phasestest.Load(t, fs)
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("Syntax error on line %d of ", tt.line)) || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q; want line %d and %q", msg, tt.line, tt.want)
			}
		})
	}
}
