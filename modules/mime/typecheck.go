package mime

import (
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// DefaultTypesFile is where the types file is looked for, under
// ServerRoot, when the config has no TypesConfig.
const DefaultTypesFile = "conf/mime.types"

// typeChecker is mod_mime's type_checker for one generation.
type typeChecker struct {
	types map[string]string // from TypesConfig (or the default file)
	// filters: the config has AddOutputFilter or AddInputFilter.
	filters bool
}

func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	tc := &typeChecker{types: GlobalOf(cfg).Types, filters: GlobalOf(cfg).Filters}
	if GlobalOf(cfg).TypesConfig == "" {
		p := filepath.Join(cfg.ServerRoot, DefaultTypesFile)
		if _, err := os.Stat(p); err == nil {
			types, err := ParseTypesFile(p)
			if err != nil {
				return fmt.Errorf("TypesConfig (default %s): %v", p, err)
			}
			tc.types = types
		}
	}
	h.Request.TypeChecker.Add(phases.Entry[phases.RequestHookFunc]{Fn: tc.check, Origin: "mime_module (Go)", Module: ModuleName, Order: phases.Middle, Replayable: true})
	return nil
}

// Extensions returns the extensions of a file name as mod_mime reads them:
// every dot-separated part after the first, lower case, in order
// ("a.tar.GZ" → "tar", "gz"; ".htaccess" → "htaccess").
func Extensions(name string) []string {
	var out []string
	for ext := range eachExtension(name) {
		out = append(out, ext)
	}
	return out
}

// eachExtension is Extensions as an iterator, which the type checker uses
// on every request.
func eachExtension(name string) iter.Seq[string] {
	return func(yield func(string) bool) {
		_, rest, found := strings.Cut(name, ".")
		for found {
			var p string
			p, rest, found = strings.Cut(rest, ".")
			if p != "" && !yield(strings.ToLower(p)) {
				return
			}
		}
	}
}

// check is the type_checker: the content type, handler, charset and
// encodings of r.Filename from its extensions (AddType over TypesConfig;
// the last extension with a type wins, so "x.html.bak" is text/html as
// in Apache), DefaultType when none has one, ForceType over all, and
// AddDefaultCharset on text/plain and text/html.
func (tc *typeChecker) check(r *phases.Request) (phases.Status, error) {
	if r.Filename == "" || strings.HasSuffix(r.Filename, "/") {
		return phases.DECLINED, nil
	}
	var buf [8]*DirSettings // nearly always enough: no allocation
	confs := buf[:0]
	for c := range phases.EachDirConf[DirSettings](r, ModuleName) {
		confs = append(confs, c)
	}
	var forceType, defaultType string
	for _, c := range confs {
		if c.ForceType != "" {
			forceType = c.ForceType
		}
		if c.DefaultType != "" {
			defaultType = c.DefaultType
		}
	}
	ctype, handler, charset := "", "", ""
	var encodings []string
	if forceType == "" || forceType == "none" {
		for ext := range eachExtension(filepath.Base(r.Filename)) {
			if t := lookup(confs, ext, func(c *DirSettings) map[string]string { return c.Types }); t != "" {
				ctype = t
			} else if t := tc.types[ext]; t != "" {
				ctype = t
			}
			if h := handlerFor(confs, ext); h != "" {
				handler = h
			}
			if cs := lookup(confs, ext, func(c *DirSettings) map[string]string { return c.Charsets }); cs != "" {
				charset = cs
			}
			if enc := lookup(confs, ext, func(c *DirSettings) map[string]string { return c.Encodings }); enc != "" {
				encodings = append(encodings, enc)
			}
		}
		if ctype == "" && defaultType != "" && defaultType != "none" {
			ctype = defaultType
		}
	} else {
		ctype = forceType
	}
	if tc.filters {
		addFilters(r, confs)
	}
	if ctype != "" && charset != "" && !strings.Contains(strings.ToLower(ctype), "charset=") {
		ctype += "; charset=" + charset
	}
	if ctype != "" {
		ctype = withDefaultCharset(r, ctype)
	}
	if len(encodings) > 0 {
		r.HeadersOut.Set("Content-Encoding", strings.Join(encodings, ", "))
	}
	if handler != "" && r.Handler == "" { // SetHandler wins, as in Apache
		r.Handler = handler
	}
	if ctype == "" {
		return phases.DECLINED, nil
	}
	r.ContentType = ctype
	return phases.OK, nil
}

// lookup returns ext's value in the last of confs whose map has it.
func lookup(confs []*DirSettings, ext string, m func(*DirSettings) map[string]string) string {
	for i := len(confs) - 1; i >= 0; i-- {
		if v, ok := m(confs[i])[ext]; ok {
			return v
		}
	}
	return ""
}

// handlerFor merges AddHandler and RemoveHandler for ext in merge order.
func handlerFor(confs []*DirSettings, ext string) string {
	h := ""
	for _, c := range confs {
		for _, rm := range c.RemoveHandlers {
			if rm == ext {
				h = ""
			}
		}
		if v, ok := c.Handlers[ext]; ok {
			h = v
		}
	}
	return h
}

// withDefaultCharset appends core's AddDefaultCharset to a text/plain or
// text/html type that names no charset.
func withDefaultCharset(r *phases.Request, ctype string) string {
	cs := ""
	for c := range phases.EachDirConf[core.DirSettings](r, core.ModuleName) {
		if c.AddDefaultCharset != "" {
			cs = c.AddDefaultCharset
		}
	}
	if cs == "" || strings.EqualFold(cs, "off") {
		return ctype
	}
	base, _, _ := strings.Cut(ctype, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	if (base == "text/plain" || base == "text/html") && !strings.Contains(strings.ToLower(ctype), "charset=") {
		return ctype + "; charset=" + cs
	}
	return ctype
}

// addFilters inserts the AddOutputFilter and AddInputFilter filters of
// every extension of r.Filename, in order, as mod_mime's find_ct does.
func addFilters(r *phases.Request, confs []*DirSettings) {
	for ext := range eachExtension(filepath.Base(r.Filename)) {
		addEach(lookup(confs, ext, func(c *DirSettings) map[string]string { return c.OutputFilters }), r.AddOutputFilter)
		addEach(lookup(confs, ext, func(c *DirSettings) map[string]string { return c.InputFilters }), r.AddInputFilter)
	}
}

// addEach calls add with each name of a ';'-separated filter list.
func addEach(list string, add func(name string)) {
	for n := range strings.SplitSeq(list, ";") {
		if n = strings.TrimSpace(n); n != "" {
			add(n)
		}
	}
}
