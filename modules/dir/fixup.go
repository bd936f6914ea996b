package dir

import (
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// maxDepth bounds nested index lookups (Apache's LimitInternalRecursion).
const maxDepth = 10

// depthNote is the note a lookup's subrequest carries its nesting in.
const depthNote = "httpdg-dir-subrequest-depth"

func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	hooks := h.Request
	h.Request.Fixups.Add(phases.Entry[phases.RequestHookFunc]{
		Fn:     func(r *phases.Request) (phases.Status, error) { return fixup(hooks, r) },
		Origin: "dir_module (Go)", Module: ModuleName, Order: phases.Last,
		// A regular file is left alone; a directory's answer is a redirect
		// or an internal one, neither of which is replayed.
		Replayable: true,
	})
	return nil
}

// merged is the dir settings in effect for a request.
type merged struct {
	index    []string // nil: the default, index.html
	disabled bool
	slash    bool
	fallback string
}

func settings(r *phases.Request) merged {
	m := merged{slash: true}
	for ds := range phases.EachDirConf[DirSettings](r, ModuleName) {
		if ds.IndexSet {
			m.index, m.disabled = ds.Index, ds.IndexDisabled
		}
		if ds.Slash != nil {
			m.slash = *ds.Slash
		}
		if ds.Fallback != "" {
			m.fallback = ds.Fallback
		}
	}
	return m
}

// fixup is mod_dir's fixups hook: for a directory, the trailing-slash
// redirect (DirectorySlash) or the first DirectoryIndex that maps to a
// file, served in place of the directory; for a URL that maps to nothing,
// FallbackResource.
func fixup(hooks *phases.RequestHooks, r *phases.Request) (phases.Status, error) {
	if r.Filename == "" || (r.Handler != "" && !strings.EqualFold(r.Handler, "default-handler")) {
		return phases.DECLINED, nil
	}
	fi, err := r.Stat()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return fallback(hooks, r)
		}
		return phases.DECLINED, nil
	}
	if !fi.IsDir() {
		return phases.DECLINED, nil
	}
	m := settings(r)
	if !strings.HasSuffix(r.URI, "/") {
		if !m.slash {
			return phases.DECLINED, nil
		}
		if r.Method != http.MethodGet && r.SubprocessEnv["redirect-carefully"] != "" {
			return phases.DECLINED, nil
		}
		loc := core.EscapePath(r.URI) + "/"
		if r.Args != "" {
			loc += "?" + r.Args
		}
		return redirect(r, ConstructURL(r, loc))
	}
	if m.disabled {
		return phases.DECLINED, nil
	}
	names := m.index
	if names == nil {
		names = []string{"index.html"}
	}
	r.Notes["dir-index-names"] = strings.Join(names, ",")
	for _, name := range names {
		uri := name
		if !strings.HasPrefix(name, "/") {
			uri = r.URI + name
		}
		sub, st := lookup(hooks, r, uri)
		if sub == nil {
			return st, nil
		}
		if st == phases.OK || st == http.StatusOK {
			if sfi, err := os.Stat(sub.Filename); err == nil && sfi.Mode().IsRegular() {
				fastRedirect(sub, r)
				return phases.OK, nil
			}
			continue
		}
		if (st >= 300 && st < 400) || (len(names) == 1 && (st == http.StatusNotAcceptable || st == http.StatusUnauthorized || st == http.StatusForbidden)) {
			overlay(r.HeadersOut, sub.HeadersOut)
			overlay(r.ErrHeadersOut, sub.ErrHeadersOut)
			for k, v := range sub.Notes {
				r.Notes[k] = v
			}
			return st, nil
		}
	}
	return phases.DECLINED, nil
}

// fallback serves FallbackResource for a request that maps to no file
// and has no handler.
func fallback(hooks *phases.RequestHooks, r *phases.Request) (phases.Status, error) {
	if r.Handler != "" {
		return phases.DECLINED, nil
	}
	m := settings(r)
	if m.fallback == "" || m.fallback == "disabled" {
		return phases.DECLINED, nil
	}
	uri := m.fallback
	if !strings.HasPrefix(uri, "/") {
		uri = r.URI[:strings.LastIndex(r.URI, "/")+1] + uri
	}
	sub, st := lookup(hooks, r, uri)
	if sub == nil {
		return st, nil
	}
	if st == phases.OK || st == http.StatusOK {
		if sfi, err := os.Stat(sub.Filename); err == nil && sfi.Mode().IsRegular() {
			fastRedirect(sub, r)
			return phases.OK, nil
		}
		return http.StatusNotFound, nil
	}
	if st >= 300 && st < 400 {
		overlay(r.HeadersOut, sub.HeadersOut)
	}
	return st, nil
}

// lookup is Apache's ap_sub_req_lookup_uri: it runs the request phases up
// to fixups for uri as a GET on a copy of r (nothing is sent) and returns
// the copy and the status the phases ended with (OK when all passed). A
// nil request means the nesting limit was hit.
func lookup(hooks *phases.RequestHooks, r *phases.Request, uri string) (*phases.Request, phases.Status) {
	depth, _ := strconv.Atoi(r.Notes[depthNote])
	if depth >= maxDepth {
		if r.Log() != nil {
			r.Log().Error("core", "Request exceeded the limit of %d subrequest nesting levels due to probable configuration error.", maxDepth)
		}
		return nil, http.StatusInternalServerError
	}
	env := make(map[string]string, len(r.SubprocessEnv))
	for k, v := range r.SubprocessEnv {
		env[k] = v
	}
	sub := &phases.Request{
		TheRequest:    r.TheRequest,
		Method:        http.MethodGet,
		UnparsedURI:   r.UnparsedURI,
		URI:           uri,
		Args:          r.Args,
		Protocol:      r.Protocol,
		Hostname:      r.Hostname,
		Port:          r.Port,
		IsHTTPS:       r.IsHTTPS,
		UseragentIP:   r.UseragentIP,
		HeadersIn:     r.HeadersIn,
		HeadersOut:    http.Header{},
		ErrHeadersOut: http.Header{},
		Notes:         map[string]string{depthNote: strconv.Itoa(depth + 1)},
		SubprocessEnv: env,
		Server:        r.Server,
		Vhost:         r.Vhost,
		Pool:          r.Pool,
		Conn:          r.Conn,
		User:          r.User,
		Output:        &discard{},
	}
	run := func(h *phases.Hook[phases.RequestHookFunc]) phases.Status {
		res, err := h.Run(func(f phases.RequestHookFunc) (phases.Status, error) { return f(sub) }, nil)
		if err != nil {
			return http.StatusInternalServerError
		}
		return res.Status
	}
	for _, h := range []*phases.Hook[phases.RequestHookFunc]{hooks.TranslateName, hooks.MapToStorage, hooks.HeaderParser,
		hooks.AccessChecker, hooks.CheckUserID, hooks.AuthChecker, hooks.TypeChecker, hooks.Fixups} {
		st := run(h)
		if st == phases.DONE {
			if d := sub.Output.(*discard); d.status != 0 {
				st = phases.Status(d.status)
			}
		}
		if st != phases.OK && st != phases.DECLINED {
			return sub, st
		}
	}
	return sub, phases.OK
}

// fastRedirect is Apache's ap_internal_fast_redirect: r becomes the
// subrequest's mapping of the index file and goes on to its handler.
func fastRedirect(sub, r *phases.Request) {
	r.URI = sub.URI
	r.Args = sub.Args
	r.Filename = sub.Filename
	r.PathInfo = sub.PathInfo
	r.Handler = sub.Handler
	r.ContentType = sub.ContentType
	r.Sections = sub.Sections
	r.User = sub.User
	overlay(r.HeadersOut, sub.HeadersOut)
	overlay(r.ErrHeadersOut, sub.ErrHeadersOut)
	for k, v := range sub.SubprocessEnv {
		r.SubprocessEnv[k] = v
	}
	for k, v := range sub.Notes {
		if k != depthNote {
			r.Notes[k] = v
		}
	}
}

func overlay(dst, src http.Header) {
	for k, v := range src {
		dst[k] = append(dst[k], v...)
	}
}

// discard is a subrequest's output: nothing is sent, the status kept.
type discard struct{ status int }

func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(status int) {
	if d.status == 0 {
		d.status = status
	}
}
func (d *discard) Flush() error { return nil }

// ConstructURL is Apache's ap_construct_url with UseCanonicalName Off: the
// scheme, the host (and port, unless the scheme's default) the client
// asked for, then path (already escaped).
func ConstructURL(r *phases.Request, path string) string {
	scheme, def := "http", 80
	if r.IsHTTPS {
		scheme, def = "https", 443
	}
	host, port := r.Hostname, r.Port
	if h := r.HeadersIn.Get("Host"); h != "" {
		// The Host header as sent: its port, or none (the default).
		port = def
		if hh, p, err := net.SplitHostPort(h); err == nil {
			host = hh
			if n, err := strconv.Atoi(p); err == nil {
				port = n
			}
		} else {
			host = strings.Trim(h, "[]")
		}
	}
	if host == "" && r.Vhost != nil {
		// HTTP/1.0 without Host, or HTTP/0.9: the ServerName, with its
		// port or none (not the one the request came to), as Apache.
		host = core.ServerOf(r.Vhost).ServerName
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		port = 0
		if hh, p, err := net.SplitHostPort(host); err == nil {
			host = hh
			port, _ = strconv.Atoi(p)
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != 0 && port != def {
		host += ":" + strconv.Itoa(port)
	}
	return scheme + "://" + strings.ToLower(host) + path
}

// redirect answers 301 with Location; the engine sends Apache's "Moved
// Permanently" page, as ap_die does for a redirect a phase returns.
func redirect(r *phases.Request, location string) (phases.Status, error) {
	r.HeadersOut.Set("Location", location)
	return http.StatusMovedPermanently, nil
}
