// Package static is httpdg's static_module: Apache's default handler
// (core.c's default_handler) for files, with mod_autoindex's listing for
// directories.
//
// It serves r.Filename when no other handler is named (r.Handler is "" or
// "default-handler"): GET, HEAD and POST (Apache serves a file to POST
// too), OPTIONS with Allow, 405 for the other known methods and 501 for
// unknown ones. Files get Last-Modified, an ETag in the form of Apache's
// default "FileETag MTime Size", Accept-Ranges, and the conditional
// (If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since,
// If-Range) and byte-range rules of Apache 2.4, which differ from
// net/http's ServeContent in several places (see conditions and
// parseRanges). A directory, once mod_dir's fixup found no DirectoryIndex,
// is listed under "Options Indexes" and refused (403) otherwise.
//
// In map_to_storage it refuses (403) a path that goes through a symbolic
// link where the <Directory> sections in effect do not allow
// FollowSymLinks (or SymLinksIfOwnerMatch with the same owner), as
// Apache's directory walk does.
package static

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the static module's identifier.
const ModuleName = "static_module"

const origin = "static_module (Go)"

func init() {
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_static.c", RegisterHooks: registerHooks})
}

// module is the static module's state for one generation.
type module struct {
	// followAll is true when no Options anywhere turns FollowSymLinks off,
	// so map_to_storage needs no lstat at all.
	followAll bool
	// cache holds small files' contents (see filecache.go).
	cache *fileCache
}

func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	limit := int64(cacheMaxBytes)
	if cfg.MPM == "prefork" {
		limit = cacheMaxBytesPrefork
	}
	m := &module{followAll: followsEverywhere(cfg), cache: newFileCache(limit)}
	h.Request.MapToStorage.Add(phases.Entry[phases.RequestHookFunc]{Fn: m.checkSymlinks, Origin: origin, Module: ModuleName, Order: phases.Last, Replayable: true})
	h.Request.Handler.Add(phases.Entry[phases.RequestHookFunc]{Fn: m.handler, Origin: origin, Module: ModuleName, Order: phases.ReallyLast, Replayable: true})
	return nil
}

// checkSymlinks is Apache's directory-walk symlink rule: every component
// of r.Filename that is a symbolic link needs FollowSymLinks (or
// SymLinksIfOwnerMatch and the owner of the link matching its target's) in
// the Options of the directory holding it.
func (m *module) checkSymlinks(r *phases.Request) (phases.Status, error) {
	if m.followAll || r.Filename == "" || !filepath.IsAbs(r.Filename) {
		return phases.DECLINED, nil
	}
	name := filepath.Clean(r.Filename)
	parent := "/"
	for _, comp := range strings.Split(strings.TrimPrefix(name, "/"), "/") {
		if comp == "" {
			continue
		}
		p := filepath.Join(parent, comp)
		o := dirOpts(r, parent)
		parent = p
		if o&optFollowSymLinks != 0 {
			continue
		}
		// The answer now depends on whether p is a link, which a replay
		// (one stat of the file) would not see change.
		r.NotReplayable()
		fi, err := os.Lstat(p)
		if err != nil {
			break // missing: the handler answers 404
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			continue
		}
		if o&optSymLinksIfOwnerMatch != 0 {
			if target, err := os.Stat(p); err == nil && owner(fi) == owner(target) {
				continue
			}
		}
		logf(r, "info", "Symbolic link not allowed or link target not accessible: %s", p)
		return http.StatusForbidden, nil
	}
	return phases.DECLINED, nil
}

func owner(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Uid)
	}
	return -1
}

// knownMethods are the methods Apache registers; any other gets 501 from
// the default handler.
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true, "CONNECT": true, "OPTIONS": true,
	"TRACE": true, "PATCH": true, "PROPFIND": true, "PROPPATCH": true, "MKCOL": true, "COPY": true,
	"MOVE": true, "LOCK": true, "UNLOCK": true, "VERSION-CONTROL": true, "CHECKOUT": true,
	"UNCHECKOUT": true, "CHECKIN": true, "UPDATE": true, "LABEL": true, "REPORT": true,
	"MKWORKSPACE": true, "MKACTIVITY": true, "BASELINE-CONTROL": true, "MERGE": true,
}

// handler is Apache's default_handler plus mod_autoindex for directories.
func (m *module) handler(r *phases.Request) (phases.Status, error) {
	if r.Handler != "" && !strings.EqualFold(r.Handler, "default-handler") {
		return phases.DECLINED, nil
	}
	if r.Filename == "" {
		return phases.DECLINED, nil
	}
	// Like Apache's default_handler, read and drop the request body
	// first, whatever the method: a body past LimitRequestBody is 413
	// even when it comes chunked (no Content-Length to refuse it early).
	if st := discardBody(r); st != phases.OK {
		return st, nil
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	case http.MethodOptions:
		// OPTIONS * asks about the server, not a resource: Apache answers
		// without an Allow.
		if r.URI != "*" {
			r.HeadersOut.Set("Allow", core.DefaultAllow(r))
		}
		r.HeadersOut.Set("Content-Length", "0")
		r.Output.WriteHeader(http.StatusOK)
		return phases.OK, nil
	default:
		r.ErrHeadersOut.Set("Allow", core.DefaultAllow(r))
		if !knownMethods[r.Method] {
			logf(r, "info", "Invalid method in request %s", r.TheRequest)
			return http.StatusNotImplemented, nil
		}
		logf(r, "error", "This resource does not accept the %s method.", r.Method)
		return http.StatusMethodNotAllowed, nil
	}
	if st, took := perlbalHook(r, hookStartServeRequest); took {
		return st, nil
	}
	now := r.RequestTime
	if now.IsZero() {
		now = time.Now()
	}
	fi, err := r.Stat()
	if err != nil {
		if os.IsPermission(err) {
			logf(r, "error", "file permissions deny server access: %s", r.Filename)
			return http.StatusForbidden, nil
		}
		if st, took := perlbalHook(r, hookFileMissing); took {
			return st, nil
		}
		logf(r, "info", "File does not exist: %s%s", r.Filename, r.PathInfo)
		return http.StatusNotFound, nil
	}
	if fi.IsDir() {
		if r.Method == http.MethodPost {
			logf(r, "info", "Attempt to serve directory: %s", r.Filename)
			return http.StatusNotFound, nil
		}
		if requestOpts(r)&optIndexes == 0 {
			names := r.Notes["dir-index-names"]
			if names == "" {
				names = "index.html"
			}
			logf(r, "error", "Cannot serve directory %s: No matching DirectoryIndex (%s) found, and server-generated directory index forbidden by Options directive", r.Filename, names)
			return http.StatusForbidden, nil
		}
		return listDirectory(r)
	}
	if r.PathInfo != "" {
		logf(r, "info", "File does not exist: %s%s", r.Filename, r.PathInfo)
		return http.StatusNotFound, nil
	}
	if !fi.Mode().IsRegular() {
		logf(r, "error", "file permissions deny server access: %s", r.Filename)
		return http.StatusForbidden, nil
	}
	if st, took := perlbalHook(r, hookPreSend); took {
		return st, nil
	}
	// A file renamed over (or truncated) between the stat and its open is
	// stat'ed again, so that headers and bytes are of one version; one
	// that keeps changing that fast is a 503.
	for attempt := 0; attempt < 3; attempt++ {
		st, err := m.serveFile(r, fi, now)
		if err != errFileReplaced {
			return st, err
		}
		if fi, err = r.Restat(); err != nil || !fi.Mode().IsRegular() {
			logf(r, "info", "File does not exist: %s", r.Filename)
			return http.StatusNotFound, nil
		}
	}
	logf(r, "error", "file kept changing while being opened: %s", r.Filename)
	return http.StatusServiceUnavailable, nil
}

// The Perlbal hooks of SPEC §8 the static handler runs.
const (
	hookStartServeRequest = iota
	hookFileMissing
	hookPreSend
	hookStartSendFile
)

// perlbalHook runs one of SPEC §8's RUN_FIRST hooks around the static
// handler, when it has handlers: an answer other than DECLINED is the
// request's (the handler took the request over: OK or DONE when it
// answered, an HTTP status for the error page).
func perlbalHook(r *phases.Request, which int) (phases.Status, bool) {
	h := r.Hooks
	if h == nil {
		return phases.DECLINED, false
	}
	hook := [...]*phases.Hook[phases.RequestHookFunc]{h.StartServeRequest, h.StaticGetPoststatFileMissing, h.StaticGetPoststatPreSend, h.StartSendFile}[which]
	if hook == nil || !hook.HasHandlers() {
		return phases.DECLINED, false
	}
	st := phases.RunHook(hook, r)
	return st, st != phases.DECLINED
}

// discardBody is Apache's ap_discard_request_body: it reads the body to
// its end and answers 413 past LimitRequestBody, 400 for a body that does
// not read (a malformed chunk).
func discardBody(r *phases.Request) phases.Status {
	if r.Body == nil || r.Body == http.NoBody {
		return phases.OK
	}
	_, err := io.Copy(io.Discard, r.Body)
	switch {
	case err == nil:
		return phases.OK
	case errors.Is(err, core.ErrBodyTooLarge):
		logf(r, "error", "Request body is larger than the configured limit (LimitRequestBody)")
		return http.StatusRequestEntityTooLarge
	}
	logf(r, "info", "Error reading request body: %v", err)
	return http.StatusBadRequest
}

// logf writes to the error log at level, if there is one.
func logf(r *phases.Request, level, format string, args ...any) {
	if r.Log() != nil {
		r.Log().Log("core", level, format, args...)
	}
}
