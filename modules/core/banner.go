package core

import (
	"net"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ServerBanner is the Server header's value for ServerTokens (Apache's
// ap_get_server_banner, with httpdg as the product): ProductOnly
// "httpdg", Major "httpdg/0", Minor "httpdg/0.1", Minimal "httpdg/0.1.0",
// OS and Full (the default) "httpdg/0.1.0 (Unix)".
func ServerBanner(cfg *config.Config) string {
	v := phases.Version
	parts := strings.SplitN(v, ".", 3)
	switch GlobalOf(cfg).ServerTokens {
	case "ProductOnly":
		return "httpdg"
	case "Major":
		return "httpdg/" + parts[0]
	case "Minor":
		if len(parts) > 1 {
			return "httpdg/" + parts[0] + "." + parts[1]
		}
		return "httpdg/" + v
	case "Minimal":
		return "httpdg/" + v
	}
	return "httpdg/" + v + " (Unix)"
}

// Signature is Apache's ap_psignature for r: with ServerSignature On,
// prefix then "<address>banner Server at name Port port</address>\n"; with
// EMail the name links to the ServerAdmin; "" when Off (the default).
func Signature(r *phases.Request, prefix string) string {
	mode := ""
	for ds := range phases.EachDirConf[DirSettings](r, ModuleName) {
		if ds.ServerSignature != "" {
			mode = ds.ServerSignature
		}
	}
	if mode == "" || mode == "Off" || r.Server == nil {
		return ""
	}
	name, port := nameAndPort(r)
	shown := escapeHTML(name)
	if mode == "EMail" {
		shown = `<a href="mailto:` + escapeHTML(ServerAdmin(r)) + `">` + shown + "</a>"
	}
	return prefix + "<address>" + ServerBanner(r.Server.Config) + " Server at " + shown + " Port " + strconv.Itoa(port) + "</address>\n"
}

// nameAndPort are ap_get_server_name and ap_get_server_port with
// UseCanonicalName Off: the Host header's name and port; without a Host,
// the ServerName; without a port there, the scheme's default.
func nameAndPort(r *phases.Request) (string, int) {
	port := 80
	if r.IsHTTPS {
		port = 443
	}
	if h := r.HeadersIn.Get("Host"); h != "" {
		if host, p, err := net.SplitHostPort(h); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				port = n
			}
			return host, port
		}
		return strings.Trim(h, "[]"), port
	}
	name := ""
	if r.Vhost != nil {
		name = ServerOf(r.Vhost).ServerName
	}
	if name == "" && r.Server.Main != nil {
		name = ServerOf(r.Server.Main).ServerName
	}
	if i := strings.Index(name, "://"); i >= 0 {
		name = name[i+3:]
	}
	if host, p, err := net.SplitHostPort(name); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
		name = host
	}
	return name, port
}

// ServerAdmin is the ServerAdmin of r's virtual host, else the main
// server's ("" when neither sets one).
func ServerAdmin(r *phases.Request) string {
	if r.Vhost != nil {
		if a := ServerOf(r.Vhost).ServerAdmin; a != "" {
			return a
		}
	}
	if r.Server.Main != nil {
		return ServerOf(r.Server.Main).ServerAdmin
	}
	return ""
}

// escapeHTML is ap_escape_html: &, <, > and " only.
var escapeHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace
