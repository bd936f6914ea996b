package headers

import (
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// requestTimeKey is the request pool's userdata where log_config notes
// the time a request the engine did not time was read; now is used when
// it is missing too.
const requestTimeKey = "log_config.request_time"

// registerHooks adds mod_headers's run-time points:
//   - post_read_request (after core picks the virtual host): the "early"
//     Header and RequestHeader lines;
//   - fixups: RequestHeader on the request headers;
//   - modify_response_headers, which the engine runs just before the
//     status line and headers go out (Apache's output and error filters):
//     "Header always" on the error headers (sent with every response),
//     "Header [onsuccess]" on the normal headers of a successful response.
//
// post_config warns about the expr= conditions and values httpdg cannot
// evaluate; those lines are skipped.
func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	origin := ModuleName + " (Go)"
	if !anyAction(cfg) {
		// No Header or RequestHeader line anywhere (and no .htaccess to
		// bring one later): nothing to run per request.
		return nil
	}
	h.Request.PostReadRequest.Add(phases.Entry[phases.RequestHookFunc]{Fn: early, Origin: origin, Module: ModuleName, Order: phases.Middle})
	h.Request.Fixups.Add(phases.Entry[phases.RequestHookFunc]{Fn: fixups, Origin: origin, Module: ModuleName, Order: phases.Middle})
	h.Request.ModifyResponseHeaders.Add(phases.Entry[phases.RequestHookFunc]{Fn: responseHeaders, Origin: origin, Module: ModuleName, Order: phases.Middle})
	h.PostConfig.Add(phases.Entry[phases.ServerHookFunc]{Fn: warnExpr, Origin: origin, Module: ModuleName})
	return nil
}

// eachAction calls fn for every Header and RequestHeader line of cfg.
func eachAction(cfg *config.Config, fn func(a *Action)) {
	walk := func(acts []Action) {
		for i := range acts {
			fn(&acts[i])
		}
	}
	var secs func([]*config.Section)
	secs = func(ss []*config.Section) {
		for _, sec := range ss {
			walk(SectionOf(sec).Response)
			walk(SectionOf(sec).Request)
			secs(sec.Children)
		}
	}
	for _, srv := range append([]*config.Server{cfg.Main}, cfg.Vhosts...) {
		walk(ServerDirOf(srv).Response)
		walk(ServerDirOf(srv).Request)
		secs(srv.Sections)
	}
}

func anyAction(cfg *config.Config) bool {
	found := false
	eachAction(cfg, func(*Action) { found = true })
	return found
}

func warnExpr(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
	if s.Log == nil {
		return nil
	}
	eachAction(s.Config, func(a *Action) {
		if a.Expr != "" || isExprValue(a.Value) {
			s.Log.Warn("headers", "%s:%d: expr= conditions and values are not supported by httpdg; this line is ignored", a.Origin.File, a.Origin.Line)
		}
	})
	return nil
}

func isExprValue(v string) bool { return len(v) >= 5 && strings.EqualFold(v[:5], "expr=") }

// confs returns the headers settings that apply to r in merge order (base
// first: mod_headers appends a section's lines to the enclosing ones).
func confs(r *phases.Request) []*DirSettings {
	if r.Server == nil {
		return nil
	}
	return phases.DirConfs[DirSettings](r, ModuleName)
}

func early(r *phases.Request) (phases.Status, error) {
	for _, ds := range confs(r) {
		for i := range ds.Request {
			if a := &ds.Request[i]; a.Early {
				apply(r, a, r.HeadersIn, false)
			}
		}
		for i := range ds.Response {
			a := &ds.Response[i]
			if !a.Early {
				continue
			}
			if a.Always {
				apply(r, a, r.ErrHeadersOut, true)
			} else {
				apply(r, a, r.HeadersOut, true)
			}
		}
	}
	return phases.DECLINED, nil
}

func fixups(r *phases.Request) (phases.Status, error) {
	for _, ds := range confs(r) {
		for i := range ds.Request {
			if a := &ds.Request[i]; !a.Early {
				apply(r, a, r.HeadersIn, false)
			}
		}
	}
	return phases.DECLINED, nil
}

// responseHeaders applies Header lines as the response goes out: the
// "always" ones to the error headers first, then, when the response is a
// success (not an error or redirect Apache would answer with its error
// response, which drops the normal headers), the others.
func responseHeaders(r *phases.Request) (phases.Status, error) {
	cs := confs(r)
	for _, ds := range cs {
		for i := range ds.Response {
			if a := &ds.Response[i]; a.Always && !a.Early {
				apply(r, a, r.ErrHeadersOut, true)
			}
		}
	}
	if r.Status >= 300 && r.Status != http.StatusNotModified {
		return phases.DECLINED, nil
	}
	for _, ds := range cs {
		for i := range ds.Response {
			if a := &ds.Response[i]; !a.Always && !a.Early {
				apply(r, a, r.HeadersOut, true)
			}
		}
	}
	return phases.DECLINED, nil
}

// apply is one step of do_headers_fixup on table t.
func apply(r *phases.Request, a *Action, t http.Header, response bool) {
	if a.Expr != "" || isExprValue(a.Value) {
		return
	}
	if a.EnvVar != "" {
		_, set := r.SubprocessEnv[a.EnvVar]
		if set == a.EnvNot {
			return
		}
	}
	isCT := response && strings.EqualFold(a.Header, "Content-Type")
	switch a.Action {
	case "add":
		t.Add(a.Header, format(r, a.Value))
	case "append":
		merge(t, a.Header, format(r, a.Value))
	case "merge":
		v := format(r, a.Value)
		if !hasToken(t.Values(a.Header), v) {
			merge(t, a.Header, v)
		}
	case "set":
		v := format(r, a.Value)
		if isCT {
			r.ContentType = v
		}
		t.Set(a.Header, v)
	case "setifempty":
		if len(t.Values(a.Header)) == 0 {
			v := format(r, a.Value)
			if isCT {
				r.ContentType = v
			}
			t.Set(a.Header, v)
		}
	case "unset":
		t.Del(a.Header)
	case "echo":
		for k, vs := range r.HeadersIn {
			if a.Regex.MatchString(k) {
				for _, v := range vs {
					r.HeadersOut.Add(k, v)
				}
			}
		}
	case "edit", "edit*":
		all := a.Action == "edit*"
		if isCT && r.ContentType != "" {
			r.ContentType = edit(a.Regex, r.ContentType, format(r, a.Replacement), all)
		}
		vs := t.Values(a.Header)
		if len(vs) == 0 {
			return
		}
		repl := format(r, a.Replacement)
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = edit(a.Regex, v, repl, all)
		}
		t[http.CanonicalHeaderKey(a.Header)] = out
	case "note":
		if v := t.Values(a.Header); len(v) > 0 {
			r.Notes[format(r, a.Value)] = v[0]
		}
	}
}

// merge is apr_table_mergen: the value joins the first one with ", ".
func merge(t http.Header, name, v string) {
	vs := t.Values(name)
	if len(vs) == 0 {
		t.Set(name, v)
		return
	}
	vs[0] += ", " + v
}

// hasToken is mod_headers' merge test: v is already one of the
// comma-separated tokens (quoted strings kept whole) of the first value.
func hasToken(vs []string, v string) bool {
	if len(vs) == 0 {
		return false
	}
	val := vs[0]
	for len(val) > 0 {
		val = strings.TrimLeft(val, " \t\r\n\v\f")
		i := 0
		for i < len(val) && val[i] != ',' {
			if val[i] == '"' {
				i++
				for i < len(val) && val[i] != '"' {
					i++
				}
			}
			if i < len(val) {
				i++
			}
		}
		if val[:i] == v {
			return true
		}
		val = val[i:]
		if len(val) > 0 {
			val = val[1:]
		}
	}
	return false
}

// edit replaces the first match of re in s (every match when all) with
// repl, whose $0..$9 name the match's groups.
func edit(re *regexp.Regexp, s, repl string, all bool) string {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		b.WriteString(phases.Pregsub(repl, s, m))
		last = m[1]
		if !all {
			break
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

func requestTime(r *phases.Request) time.Time {
	if !r.RequestTime.IsZero() {
		return r.RequestTime
	}
	if r.Pool != nil {
		if v, ok := r.Pool.Userdata(requestTimeKey); ok {
			if t, ok := v.(time.Time); ok {
				return t
			}
		}
	}
	return time.Now()
}

// format expands mod_headers' %-specifiers: %t and %D (t= and D= in
// microseconds), %{NAME}e, %{NAME}s (no SSL variables: "(null)"), %l, %i,
// %b (load average, idle and busy workers), %%.
func format(r *phases.Request, s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		arg := ""
		if s[i] == '{' {
			end := strings.IndexByte(s[i:], '}')
			arg = s[i+1 : i+end]
			i += end + 1
		}
		tag := s[i : i+1]
		if strings.HasPrefix(s[i:], "^ti") || strings.HasPrefix(s[i:], "^to") {
			tag = s[i : i+3]
			i += 2
		}
		switch tag {
		case "t":
			b.WriteString("t=" + strconv.FormatInt(requestTime(r).UnixMicro(), 10))
		case "D":
			b.WriteString("D=" + strconv.FormatInt(time.Since(requestTime(r)).Microseconds(), 10))
		case "e":
			if v, ok := r.SubprocessEnv[arg]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("(null)")
			}
		case "l":
			b.WriteString("l=" + loadavg())
		case "i":
			b.WriteString("i=-1")
		case "b":
			b.WriteString("b=-1")
		default: // %{NAME}s, %{NAME}^ti, %{NAME}^to
			b.WriteString("(null)")
		}
	}
	return b.String()
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "-1.00/-1.00/-1.00"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "-1.00/-1.00/-1.00"
	}
	return f[0] + "/" + f[1] + "/" + f[2]
}
