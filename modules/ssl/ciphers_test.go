package ssl_test

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/modules/ssl"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// Go's secure TLS 1.0-1.2 suites, in the evaluator's table order.
var (
	ecdheGCM = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	}
	ecdheChaCha = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}
	ecdheCBC    = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	}
	secure = slices.Concat(ecdheGCM, ecdheChaCha, ecdheCBC)
)

const intermediate = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

func TestEvalCipherString(t *testing.T) {
	tests := []struct {
		spec     string
		want     []uint16 // in order
		notInGo  []string
		insecure []string
	}{
		{spec: intermediate, want: slices.Concat(ecdheGCM, ecdheChaCha)},
		// Mozilla's intermediate with its DHE suites, which Go lacks.
		{spec: intermediate + ":DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305",
			want: slices.Concat(ecdheGCM, ecdheChaCha), notInGo: []string{"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305"}},
		{spec: "HIGH:!aNULL:!MD5", want: secure},
		{spec: "ALL", want: secure},
		{spec: "DEFAULT:@STRENGTH", want: secure},
		{spec: "HIGH:!aNULL:!MD5:!3DES:!CAMELLIA:!PSK:!SRP:!DSS:!EXPORT:!LOW:!RC4:!SEED:!IDEA:!kEDH", want: secure},
		{spec: "ECDHE+AESGCM", want: ecdheGCM},
		{spec: "EECDH+AESGCM:EDH+AESGCM", want: ecdheGCM},
		{spec: "kEECDH+aECDSA+AES256", want: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}},
		{spec: "ECDSA+CHACHA20", want: ecdheChaCha[:1]},
		{spec: "aRSA+TLSv1.2", want: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}},
		{spec: "SHA1+AES128", want: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}},
		// "-" removes, a later element adds back; "!" is for good.
		{spec: "-ALL:+ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", want: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
		{spec: "ALL:-AESGCM:ECDHE-ECDSA-AES128-GCM-SHA256", want: slices.Concat(ecdheChaCha, ecdheCBC, ecdheGCM[:1])},
		{spec: "ALL:!AESGCM:ECDHE-ECDSA-AES128-GCM-SHA256", want: slices.Concat(ecdheChaCha, ecdheCBC)},
		// "+" moves the enabled ones to the end (the order Go ignores).
		{spec: "ECDHE+AESGCM:+AES128", want: []uint16{ecdheGCM[2], ecdheGCM[3], ecdheGCM[0], ecdheGCM[1]}},
		{spec: "AESGCM,CHACHA20 !AES256", want: []uint16{ecdheGCM[0], ecdheGCM[1], ecdheChaCha[0], ecdheChaCha[1]}},
		// Go's insecure suites only when named.
		{spec: "ALL:3DES:RC4:kRSA", want: secure},
		{spec: "ECDHE+AESGCM:AES128-GCM-SHA256:DES-CBC3-SHA", want: slices.Concat(ecdheGCM, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}),
			insecure: []string{"AES128-GCM-SHA256", "DES-CBC3-SHA"}},
		{spec: "AES256-SHA:DES-CBC3-SHA:!3DES", want: []uint16{tls.TLS_RSA_WITH_AES_256_CBC_SHA}, insecure: []string{"AES256-SHA"}},
	}
	for _, tt := range tests {
		cs, err := ssl.EvalCipherString(tt.spec)
		if err != nil {
			t.Errorf("%s: %v", tt.spec, err)
			continue
		}
		if !slices.Equal(cs.Suites, tt.want) {
			t.Errorf("%s:\n got %s\nwant %s", tt.spec, names(cs.Suites), names(tt.want))
		}
		if !slices.Equal(cs.NotInGo, tt.notInGo) || !slices.Equal(cs.Insecure, tt.insecure) {
			t.Errorf("%s: not in Go %q, insecure %q; want %q, %q", tt.spec, cs.NotInGo, cs.Insecure, tt.notInGo, tt.insecure)
		}
	}
}

func TestEvalCipherStringErrors(t *testing.T) {
	tests := map[string]string{
		"HIGH:BOGUS":                           "unknown cipher or alias 'BOGUS' in 'HIGH:BOGUS'",
		"ECDHE-RSA-AES128-GCM-SHA265":          "unknown cipher or alias 'ECDHE-RSA-AES128-GCM-SHA265'",
		"ECDHE+AESGMC":                         "unknown cipher or alias 'AESGMC'",
		"high":                                 "unknown cipher or alias 'high'",
		"RC4":                                  "no cipher suite left from 'RC4'",
		"MEDIUM:LOW":                           "no cipher suite left",
		"DHE-RSA-AES128-GCM-SHA256":            "no cipher suite left",
		"-ALL:+ECDHE-RSA-AES128-GCM-SHA256":    "no cipher suite left",
		"!ALL:ECDHE-RSA-AES128-GCM-SHA256":     "no cipher suite left",
		"aNULL:eNULL":                          "no cipher suite left",
		"HIGH:!!aNULL":                         "'!!aNULL' is not a valid cipher string element",
		"ECDHE-ECDSA-AES128-GCM-SHA256:!ECDSA": "no cipher suite left",
	}
	for spec, want := range tests {
		_, err := ssl.EvalCipherString(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", spec, err, want)
		}
	}
}

// Every suite Go implements for TLS 1.0-1.2 has an OpenSSL name.
func TestEvalCipherStringCoversGo(t *testing.T) {
	var all []string
	for _, c := range slices.Concat(tls.CipherSuites(), tls.InsecureCipherSuites()) {
		if slices.Contains(c.SupportedVersions, tls.VersionTLS13) {
			continue
		}
		all = append(all, c.Name)
	}
	cs, err := ssl.EvalCipherString("ALL:RC4-SHA:DES-CBC3-SHA:AES128-SHA:AES256-SHA:AES128-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:ECDHE-ECDSA-RC4-SHA:ECDHE-RSA-RC4-SHA:ECDHE-RSA-DES-CBC3-SHA:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256")
	if err != nil {
		t.Fatal(err)
	}
	got := names(cs.Suites)
	slices.Sort(got)
	slices.Sort(all)
	if !slices.Equal(got, all) {
		t.Errorf("named suites %v\nGo has %v", got, all)
	}
}

func TestCipherSuiteConfig(t *testing.T) {
	cfg := phasestest.MustLoad(t, "SSLCipherSuite HIGH:!aNULL:DHE-RSA-AES128-GCM-SHA256:DES-CBC3-SHA\nSSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384\nSSLHonorCipherOrder off\n")
	var msgs []string
	for _, w := range cfg.Warnings {
		msgs = append(msgs, w.String())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		":1: SSLCipherSuite: DHE-RSA-AES128-GCM-SHA256: not implemented by Go's TLS, ignored",
		":1: SSLCipherSuite: DES-CBC3-SHA: enabled, but insecure",
		":2: SSLCipherSuite TLSv1.3: Go's TLS does not let a server choose its TLS 1.3 cipher suites; TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256 stay enabled",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings %q\nlack %q", all, want)
		}
	}
	if len(msgs) != 3 {
		t.Errorf("warnings %q, want 3", msgs)
	}
	// All three of Go's TLS 1.3 suites: nothing to warn about.
	cfg = phasestest.MustLoad(t, "SSLCipherSuite TLSv1.3 TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256\n")
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	cfg = phasestest.MustLoad(t, "<Location /x>\nSSLCipherSuite ECDHE+AESGCM\n</Location>\n")
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].String(), ":2: SSLCipherSuite in a directory context is not applied") {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	phasestest.WantError(t, "ServerName x\n\nSSLCipherSuite RC4:MEDIUM\n", 3, "SSLCipherSuite: no cipher suite left from 'RC4:MEDIUM'")
	phasestest.WantError(t, "SSLCipherSuite HIGH:NOPE\n", 1, "SSLCipherSuite: unknown cipher or alias 'NOPE'")
}

func names(ids []uint16) []string {
	var out []string
	for _, id := range ids {
		out = append(out, tls.CipherSuiteName(id))
	}
	return out
}
