package authz_test

import (
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/authz"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// dirConf wraps body in a <Directory> section starting on line 1, so the
// body's first line is line 2.
func dirConf(body string) string {
	return "<Directory /srv>\n" + body + "\n</Directory>\n"
}

func firstSection(t *testing.T, cfg *config.Config) *authz.DirSettings {
	t.Helper()
	if len(cfg.Main.Sections) == 0 {
		t.Fatal("no section")
	}
	return authz.SectionOf(cfg.Main.Sections[0])
}

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // rendering of the section's rules
	}{
		{"all granted", "Require all granted", "any[Require all granted]"},
		{"all denied, case", "Require all DENIED", "any[Require all denied]"},
		{"several lines", "Require ip 10.1 192.168.0.0/16\nRequire host example.com .example.org", "any[Require ip 10.1 192.168.0.0/16,Require host example.com .example.org]"},
		{"method", "Require method GET POST HEAD", "any[Require method GET POST HEAD]"},
		{"user group valid-user", "Require user alice bob\nRequire group admins\nRequire valid-user", "any[Require user alice bob,Require group admins,Require valid-user ]"},
		{"env local", "Require env TRUSTED\nRequire local", "any[Require env TRUSTED,Require local ]"},
		{"all with not", "<RequireAll>\nRequire all granted\nRequire not ip 10.0.0.1\n</RequireAll>", "any[<RequireAll>[Require all granted,Require not ip 10.0.0.1]]"},
		{"none in all", "<RequireAll>\nRequire valid-user\n<RequireNone>\nRequire user eve\n</RequireNone>\n</RequireAll>", "any[<RequireAll>[Require valid-user ,<RequireNone>[Require user eve]]]"},
		{"nested any", "<RequireAny>\n<RequireAll>\nRequire ip ::1 fe80::/10\nRequire method GET\n</RequireAll>\nRequire user root\n</RequireAny>", "any[<RequireAny>[<RequireAll>[Require ip ::1 fe80::/10,Require method GET],Require user root]]"},
		{"nested all merges with its parent for the negative check", "<RequireAll>\nRequire all granted\n<RequireAll>\nRequire not ip 10.2\n</RequireAll>\n</RequireAll>", "any[<RequireAll>[Require all granted,<RequireAll>[Require not ip 10.2]]]"},
		{"not is case-insensitive", "<RequireAll>\nRequire all granted\nRequire NOT env BAD\n</RequireAll>", "any[<RequireAll>[Require all granted,Require not env BAD]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := phasestest.MustLoad(t, dirConf(tt.body))
			if got := renderTop(firstSection(t, cfg).Rules); got != tt.want {
				t.Errorf("rules = %s, want %s", got, tt.want)
			}
		})
	}
}

// renderTop renders the implicit section as "any[...]".
func renderTop(r *authz.Rule) string {
	if r == nil {
		return "nil"
	}
	return "any" + strings.TrimPrefix(render(r), "<RequireAny>")
}

func render(r *authz.Rule) string {
	if r == nil {
		return "nil"
	}
	if !r.IsSection() {
		return r.String()
	}
	var parts []string
	for _, c := range r.Rules {
		parts = append(parts, render(c))
	}
	return r.String() + "[" + strings.Join(parts, ",") + "]"
}

func TestIPs(t *testing.T) {
	tests := map[string]string{
		"10.1":                    "10.1.0.0/16",
		"10.1.":                   "10.1.0.0/16",
		"10":                      "10.0.0.0/8",
		"192.168.1.7":             "192.168.1.7/32",
		"192.168.1.7/24":          "192.168.1.0/24",
		"172.16.0.0/255.240.0.0":  "172.16.0.0/12",
		"2001:db8::/32":           "2001:db8::/32",
		"::1":                     "::1/128",
		"2001:db8::1/255.255.0.0": "",
	}
	for in, want := range tests {
		p, err := authz.ParseSubnet(in)
		if want == "" {
			if err == nil {
				t.Errorf("%s: parsed as %s, want an error", in, p)
			}
			continue
		}
		if err != nil || p.String() != want {
			t.Errorf("%s: got %v, %v; want %s", in, p, err, want)
		}
	}
}

func TestAuthMerging(t *testing.T) {
	cfg := phasestest.MustLoad(t, dirConf("AuthMerging and\nRequire all granted"))
	if got := firstSection(t, cfg).Merging; got != "And" {
		t.Errorf("Merging = %q", got)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name string
		conf string
		line int
		want string
	}{
		{"server context", "Require all granted\n", 1, "Require not allowed here"},
		{"vhost context", "<VirtualHost *:80>\nRequire all granted\n</VirtualHost>\n", 2, "Require not allowed here"},
		{"unknown provider", dirConf("Require everyone"), 2, "Unknown Authz provider: everyone"},
		{"provider case", dirConf("Require All granted"), 2, "Unknown Authz provider: All (provider names are case-sensitive: did you mean 'all'?)"},
		{"expr", dirConf("Require expr %{REMOTE_ADDR} == '1.2.3.4'"), 2, "Require expr is not supported"},
		{"no provider", dirConf("Require"), 2, "Unknown Authz provider: "},
		{"all bad", dirConf("Require all yes"), 2, "Argument for 'Require all' must be 'granted' or 'denied'"},
		{"all extra", dirConf("Require all granted please"), 2, "Argument for 'Require all' must be 'granted' or 'denied'"},
		{"ip none", dirConf("Require ip"), 2, "'require ip' requires an argument"},
		{"ip hostname", dirConf("Require ip example.com"), 2, "ip address 'example.com' appears to be invalid"},
		{"ip octet", dirConf("Require ip 10.0.0.256"), 2, "ip address '10.0.0.256' appears to be invalid: The specified IP address is invalid."},
		{"ip five", dirConf("Require ip 1.2.3.4.5"), 2, "ip address '1.2.3.4.5' appears to be invalid: The specified IP address is invalid."},
		{"ip partial with mask", dirConf("Require ip 10.1/16"), 2, "ip address '10.1/16' appears to be invalid: The specified IP address is invalid."},
		{"ip bits", dirConf("Require ip 10.0.0.0/33"), 2, "ip address '10.0.0.0/33' appears to be invalid: The specified network mask is invalid."},
		{"ip zero bits", dirConf("Require ip 10.0.0.0/0"), 2, "The specified network mask is invalid."},
		{"ip v6 bits", dirConf("Require ip 2001:db8::/129"), 2, "The specified network mask is invalid."},
		{"ip v6 bad", dirConf("Require ip 2001:db8:::1"), 2, "ip address '2001:db8:::1' appears to be invalid: The specified IP address is invalid."},
		{"ip mapped", dirConf("Require ip ::ffff:10.0.0.1"), 2, "The specified IP address is invalid."},
		{"ip holes in mask", dirConf("Require ip 10.0.0.0/255.0.255.0"), 2, "The specified network mask is invalid."},
		{"host none", dirConf("Require host"), 2, "'require host' requires an argument"},
		{"host bad", dirConf("Require host exa$mple.com"), 2, "Require host: 'exa$mple.com' is not a host or domain name"},
		{"method lower", dirConf("Require method get"), 2, "Invalid Method 'get'"},
		{"method unknown", dirConf("Require method GET BREW"), 2, "Invalid Method 'BREW'"},
		{"method none", dirConf("Require method"), 2, "At least one method must be specified"},
		{"user none", dirConf("Require user"), 2, "'require user' requires an argument"},
		{"valid-user args", dirConf("Require valid-user bob"), 2, "'require valid-user' takes no arguments"},
		{"negative at top", dirConf("Require not ip 10.1"), 2, "negative Require directive has no effect in <RequireAny> directive"},
		{"negative in any", dirConf("<RequireAny>\nRequire all granted\nRequire not host evil.com\n</RequireAny>"), 4, "negative Require directive has no effect in <RequireAny> directive"},
		{"negative in none", dirConf("<RequireAll>\nRequire all granted\n<RequireNone>\nRequire not user bob\n</RequireNone>\n</RequireAll>"), 5, "negative Require directive has no effect in <RequireNone> directive"},
		{"none at top", dirConf("<RequireNone>\nRequire ip 10.1\n</RequireNone>"), 2, "<RequireNone> directive has no effect in <RequireAny> directive"},
		{"none in any", dirConf("<RequireAny>\nRequire all granted\n<RequireNone>\nRequire ip 10.1\n</RequireNone>\n</RequireAny>"), 4, "<RequireNone> directive has no effect in <RequireAny> directive"},
		{"empty", dirConf("<RequireAll>\n</RequireAll>"), 2, "<RequireAll> directive contains no authorization directives"},
		{"empty none", dirConf("<RequireAll>\nRequire all granted\n<RequireNone>\n</RequireNone>\n</RequireAll>"), 4, "<RequireNone> directive contains no authorization directives"},
		{"args", dirConf("<RequireAny foo>\nRequire all granted\n</RequireAny>"), 2, "<RequireAny> directive doesn't take additional arguments"},
		{"only negative", dirConf("<RequireAll>\nRequire not ip 10.1\n</RequireAll>"), 2, "<RequireAll> directive contains only negative authorization directives"},
		{"only negative via none", dirConf("<RequireAll>\n<RequireNone>\nRequire ip 10.1\n</RequireNone>\n</RequireAll>"), 2, "<RequireAll> directive contains only negative authorization directives"},
		{"only negative nested", dirConf("<RequireAny>\nRequire all granted\n<RequireAll>\nRequire not ip 10.1\n</RequireAll>\n</RequireAny>"), 4, "<RequireAll> directive contains only negative authorization directives"},
		{"foreign directive in body", dirConf("<RequireAll>\nRequire all granted\nOptions Indexes\n</RequireAll>"), 4, "Options cannot occur within <RequireAll> section"},
		{"section outside directory", "<RequireAll>\nRequire all granted\n</RequireAll>\n", 1, "<RequireAll> not allowed here"},
		{"AuthMerging bad", dirConf("AuthMerging both"), 2, "AuthMerging must be one of: Off | And | Or"},
		{"AuthMerging args", dirConf("AuthMerging and or"), 2, "AuthMerging takes one argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phasestest.WantError(t, tt.conf, tt.line, tt.want)
		})
	}
}
