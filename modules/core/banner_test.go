package core_test

import (
	"testing"

	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func TestServerBanner(t *testing.T) {
	v := phases.Version // "X.Y.Z"
	for _, tc := range []struct{ conf, want string }{
		{"", "httpdg/" + v + " (Unix)"},
		{"ServerTokens Full\n", "httpdg/" + v + " (Unix)"},
		{"ServerTokens OS\n", "httpdg/" + v + " (Unix)"},
		{"ServerTokens Min\n", "httpdg/" + v},
		{"ServerTokens Minor\n", "httpdg/" + v[:len(v)-2]},
		{"ServerTokens Major\n", "httpdg/" + v[:1]},
		{"ServerTokens Prod\n", "httpdg"},
		{"ServerTokens ProductOnly\n", "httpdg"},
	} {
		cfg, _, err := phasestest.Load(t, map[string]string{"conf/httpd.conf": tc.conf})
		if err != nil {
			t.Fatal(err)
		}
		if got := core.ServerBanner(cfg); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.conf, got, tc.want)
		}
	}
}
