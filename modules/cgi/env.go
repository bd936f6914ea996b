package cgi

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/httpdg/httpdg/modules/authbasic"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// defaultPath is the script's PATH when the server has none (Apache's
// DEFAULT_PATH).
const defaultPath = "/bin:/usr/bin:/usr/local/bin"

// defaultAdmin is SERVER_ADMIN when no ServerAdmin is set (Apache's
// DEFAULT_ADMIN).
const defaultAdmin = "[no address given]"

// environ is the script's environment: r.SubprocessEnv, overridden by the
// meta-variables of Apache's ap_add_common_vars and ap_add_cgi_vars,
// their names made safe as ap_create_environment does, sorted.
func environ(r *phases.Request) []string {
	e := make(map[string]string, len(r.SubprocessEnv)+len(r.HeadersIn)+32)
	addCommonVars(r, e)
	addCGIVars(r, e)
	for k, v := range r.SubprocessEnv {
		if _, set := e[k]; !set {
			e[k] = v
		}
	}
	out := make([]string, 0, len(e))
	for k, v := range e {
		if strings.IndexByte(v, 0) >= 0 || k == "" {
			continue // exec(2) cannot pass it
		}
		out = append(out, envName(k)+"="+v)
	}
	sort.Strings(out)
	return out
}

// addCommonVars is ap_add_common_vars: the request's header fields as
// HTTP_*, CONTENT_TYPE and CONTENT_LENGTH, and the server's and client's
// addresses and names.
func addCommonVars(r *phases.Request, e map[string]string) {
	keys := make([]string, 0, len(r.HeadersIn))
	for k := range r.HeadersIn {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.Join(r.HeadersIn[k], ", ")
		switch {
		case strings.EqualFold(k, "Content-Type"):
			e["CONTENT_TYPE"] = v
		case strings.EqualFold(k, "Content-Length"):
			e["CONTENT_LENGTH"] = v
		case strings.EqualFold(k, "Proxy"):
			// HTTP_PROXY is what HTTP clients take their proxy from: a
			// client must not set it for the script (httpoxy, CVE-2016-5387).
		case strings.EqualFold(k, "Authorization"), strings.EqualFold(k, "Proxy-Authorization"):
			// Credentials stay out of the environment (ps -e shows it), as
			// Apache's default (CGIPassAuth Off).
		default:
			name, ok := http2env(k)
			if !ok {
				continue // Apache does not export a name with other characters
			}
			if prev, dup := e[name]; dup {
				v = prev + ", " + v // two spellings of one field name
			}
			e[name] = v
		}
	}
	path, ok := r.SubprocessEnv["PATH"]
	if !ok {
		path = os.Getenv("PATH")
	}
	if path == "" {
		path = defaultPath
	}
	e["PATH"] = path
	if v, ok := os.LookupEnv("LD_LIBRARY_PATH"); ok {
		e["LD_LIBRARY_PATH"] = v
	}
	if _, set := r.SubprocessEnv["TZ"]; !set {
		if v, ok := os.LookupEnv("TZ"); ok {
			e["TZ"] = v // ap_create_environment
		}
	}
	e["SERVER_SIGNATURE"] = core.Signature(r, "")
	if r.Server != nil && r.Server.Config != nil {
		e["SERVER_SOFTWARE"] = core.ServerBanner(r.Server.Config)
	}
	name, port := serverNameAndPort(r)
	if strings.Contains(name, ":") {
		name = "[" + name + "]" // ap_get_server_name_for_url
	}
	e["SERVER_NAME"] = name
	e["SERVER_PORT"] = strconv.Itoa(port)
	if r.Conn != nil {
		e["SERVER_ADDR"] = r.Conn.LocalIP
		e["REMOTE_PORT"] = strconv.Itoa(r.Conn.ClientPort)
		if h := core.RemoteHost(r); h != "" && h != r.Conn.ClientIP {
			e["REMOTE_HOST"] = h
		}
	}
	e["REMOTE_ADDR"] = r.UseragentIP
	e["DOCUMENT_ROOT"] = documentRoot(r)
	scheme := "http"
	if r.IsHTTPS {
		scheme = "https"
		e["HTTPS"] = "on" // mod_ssl's fixup sets it for every request over TLS
	}
	e["REQUEST_SCHEME"] = scheme
	admin := ""
	if r.Server != nil {
		admin = core.ServerAdmin(r)
	}
	if admin == "" {
		admin = defaultAdmin
	}
	e["SERVER_ADMIN"] = admin
	e["SCRIPT_FILENAME"] = r.Filename
	if r.User != "" {
		e["REMOTE_USER"] = r.User
		if t := authbasic.AuthType(r); t != "" {
			e["AUTH_TYPE"] = t
		}
	} else {
		for p := r.Prev; p != nil; p = p.Prev {
			if p.User != "" {
				e["REDIRECT_REMOTE_USER"] = p.User
				break
			}
		}
	}
	if r.Prev != nil {
		if r.Prev.Args != "" {
			e["REDIRECT_QUERY_STRING"] = r.Prev.Args
		}
		e["REDIRECT_URL"] = r.Prev.URI
	}
}

// addCGIVars is ap_add_cgi_vars: the request line's parts and the
// script's name, with PATH_INFO and PATH_TRANSLATED when the URL goes on
// past the script.
func addCGIVars(r *phases.Request, e map[string]string) {
	e["GATEWAY_INTERFACE"] = "CGI/1.1"
	e["SERVER_PROTOCOL"] = r.Protocol
	e["REQUEST_METHOD"] = r.Method
	e["QUERY_STRING"] = r.Args
	e["REQUEST_URI"] = originalURI(r)
	if r.PathInfo == "" {
		e["SCRIPT_NAME"] = r.URI
		return
	}
	e["SCRIPT_NAME"] = r.URI[:findPathInfo(r.URI, r.PathInfo)]
	e["PATH_INFO"] = r.PathInfo
	if pt := pathTranslated(r); pt != "" {
		e["PATH_TRANSLATED"] = pt
	}
}

// originalURI is the request target the client sent (Apache's
// original_uri: the first request's, across internal redirects).
func originalURI(r *phases.Request) string {
	for r.Prev != nil {
		r = r.Prev
	}
	return r.UnparsedURI
}

// findPathInfo is Apache's ap_find_path_info: where in uri the path info
// starts, matching it from the end (runs of '/' in uri count as one).
func findPathInfo(uri, pathInfo string) int {
	lu, lp := len(uri), len(pathInfo)
	for {
		if lu == 0 {
			lu = -1
			break
		}
		lu--
		if lp == 0 {
			break
		}
		lp--
		if uri[lu] != pathInfo[lp] {
			break
		}
		if pathInfo[lp] == '/' {
			for lu > 0 && uri[lu-1] == '/' {
				lu--
			}
		}
	}
	if lu < 0 {
		lu = 0
	}
	for lu < len(uri) && uri[lu] != '/' {
		lu++
	}
	return lu
}

// pathTranslated is PATH_TRANSLATED: PATH_INFO mapped to a file as a
// request for it would be (Apache looks it up with a subrequest;
// translate_name is what maps a URL: Alias, then DocumentRoot).
func pathTranslated(r *phases.Request) (translated string) {
	defer func() {
		// A translate_name handler that fails leaves it out (the request's
		// own run of the hook recovers the same way).
		if recover() != nil {
			translated = ""
		}
	}()
	if r.Hooks == nil || r.Hooks.TranslateName == nil {
		return filepath.Join(documentRoot(r), r.PathInfo)
	}
	sub := &phases.Request{
		TheRequest: r.TheRequest, Method: http.MethodGet, UnparsedURI: r.PathInfo, URI: r.PathInfo,
		Protocol: r.Protocol, Hostname: r.Hostname, Port: r.Port, IsHTTPS: r.IsHTTPS, UseragentIP: r.UseragentIP,
		RequestTime: r.RequestTime, HeadersIn: r.HeadersIn, HeadersOut: http.Header{}, ErrHeadersOut: http.Header{},
		Notes: map[string]string{}, SubprocessEnv: map[string]string{},
		Server: r.Server, Vhost: r.Vhost, Pool: r.Pool, Conn: r.Conn, User: r.User, Output: discard{}, Hooks: r.Hooks, Prev: r.Prev,
	}
	res, err := r.Hooks.TranslateName.Run(func(f phases.RequestHookFunc) (phases.Status, error) { return f(sub) }, nil)
	if err != nil || (res.Status != phases.OK && res.Status != phases.DECLINED) {
		return ""
	}
	return sub.Filename
}

// discard is the output of PATH_TRANSLATED's lookup: nothing is sent.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
func (discard) Flush() error                { return nil }

// documentRoot is Apache's ap_document_root for r: its virtual host's
// DocumentRoot, else the main server's, else ServerRoot/htdocs, as core's
// translate_name uses.
func documentRoot(r *phases.Request) string {
	if r.Vhost != nil {
		if d := core.ServerOf(r.Vhost).DocumentRoot; d != "" {
			return d
		}
	}
	if r.Server == nil {
		return ""
	}
	if r.Server.Main != nil {
		if d := core.ServerOf(r.Server.Main).DocumentRoot; d != "" {
			return d
		}
	}
	if r.Server.Config != nil {
		return filepath.Join(r.Server.Config.ServerRoot, "htdocs")
	}
	return ""
}

// serverNameAndPort are ap_get_server_name and ap_get_server_port under
// UseCanonicalName Off, as core computes them for the signature: the
// name the client asked for and the port of its Host header; else the
// ServerName and its port; else the scheme's default port.
func serverNameAndPort(r *phases.Request) (string, int) {
	port := 80
	if r.IsHTTPS {
		port = 443
	}
	if h := r.HeadersIn.Get("Host"); h != "" {
		host := h
		if hh, p, err := net.SplitHostPort(h); err == nil {
			host = hh
			if n, err := strconv.Atoi(p); err == nil {
				port = n
			}
		}
		if r.Hostname != "" {
			host = r.Hostname
		}
		return strings.Trim(host, "[]"), port
	}
	name := ""
	if r.Vhost != nil {
		name = core.ServerOf(r.Vhost).ServerName
	}
	if name == "" && r.Server != nil && r.Server.Main != nil {
		name = core.ServerOf(r.Server.Main).ServerName
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
	if name == "" {
		name = r.Hostname
	}
	if name == "" && r.Conn != nil {
		name = r.Conn.LocalIP
	}
	return name, port
}

// http2env is Apache's http2env: HTTP_ and the field name in upper case
// with '-' as '_'; false for a name with any other character (Apache logs
// "Not exporting header with invalid name as envvar" and drops it).
func http2env(name string) (string, bool) {
	b := make([]byte, 0, 5+len(name))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b = append(b, c)
		case c == '-':
			b = append(b, '_')
		default:
			return "", false
		}
	}
	return string(b), true
}

// envName is ap_create_environment's clean-up of a variable name: a
// leading digit and every character but letters and digits become '_'.
func envName(k string) string {
	b := []byte(k)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') || (i == 0 && c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// scriptArgs is the script's argv as mod_cgi builds it: argv[0] is the
// file's name; a query string without '=' (an ISINDEX query) adds its
// '+'-separated words, each URL-decoded and shell-escaped as
// ap_escape_shell_cmd does.
func scriptArgs(r *phases.Request) []string {
	args := []string{filepath.Base(r.Filename)}
	if r.Args == "" || strings.IndexByte(r.Args, '=') >= 0 {
		return args
	}
	for _, w := range strings.Split(r.Args, "+") {
		args = append(args, escapeShell(unescapeURL(w)))
	}
	return args
}

// unescapeURL decodes %XX escapes, leaving a malformed one as it is.
func unescapeURL(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// escapeShell is ap_escape_shell_cmd: a backslash before each shell
// metacharacter.
func escapeShell(s string) string {
	const meta = "&;`'\"|*?~<>^()[]{}$\\\n\xff"
	if !strings.ContainsAny(s, meta) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(meta, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
