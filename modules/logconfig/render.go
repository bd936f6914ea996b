package logconfig

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// logRequest is one request being logged: the request and the times its
// %-directives refer to.
type logRequest struct {
	r     *phases.Request
	begin time.Time // r->request_time
	end   time.Time // when logging started
}

func newLogRequest(r *phases.Request) *logRequest {
	return &logRequest{r: r, begin: requestTime(r), end: time.Now()}
}

// format renders items into one line ending in "\n", as
// config_log_transaction does.
func (lr *logRequest) format(items []Item) []byte {
	b := make([]byte, 0, 256)
	for i := range items {
		it := &items[i]
		if it.Literal != "" {
			b = append(b, it.Literal...)
			continue
		}
		b = append(b, lr.item(it)...)
	}
	return append(b, '\n')
}

// item renders one %-directive; "-" when it has no value or a status
// condition rules it out.
func (lr *logRequest) item(it *Item) string {
	r := lr.r
	if len(it.Statuses) > 0 {
		in := false
		for _, s := range it.Statuses {
			in = in || s == r.Status
		}
		if in == it.Negate {
			return "-"
		}
	}
	v, ok := lr.value(it)
	if !ok {
		return "-"
	}
	return v
}

// value returns the item's text (already escaped) and whether it has one.
func (lr *logRequest) value(it *Item) (string, bool) {
	r := lr.r
	switch it.Directive {
	case "a":
		if strings.EqualFold(it.Arg, "c") && r.Conn != nil {
			return r.Conn.ClientIP, true
		}
		return r.UseragentIP, r.UseragentIP != ""
	case "h":
		if strings.EqualFold(it.Arg, "c") && r.Conn != nil {
			return r.Conn.ClientIP, true
		}
		if r.Conn != nil && r.UseragentIP == r.Conn.ClientIP {
			// The client's name under HostnameLookups On/Double.
			return EscapeLogItem(core.RemoteHost(r)), true
		}
		return EscapeLogItem(r.UseragentIP), r.UseragentIP != ""
	case "A":
		if r.Conn == nil {
			return "", false
		}
		return r.Conn.LocalIP, true
	case "B":
		return strconv.FormatInt(r.BytesSent, 10), true
	case "b":
		if r.BytesSent == 0 {
			return "", false
		}
		return strconv.FormatInt(r.BytesSent, 10), true
	case "C":
		return cookie(r.HeadersIn, it.Arg)
	case "D":
		return strconv.FormatInt(lr.end.Sub(lr.begin).Microseconds(), 10), true
	case "T":
		d := lr.end.Sub(lr.begin)
		switch strings.ToLower(it.Arg) {
		case "ms":
			return strconv.FormatInt(d.Milliseconds(), 10), true
		case "us":
			return strconv.FormatInt(d.Microseconds(), 10), true
		}
		return strconv.FormatInt(int64(d/time.Second), 10), true
	case "e":
		v, ok := r.SubprocessEnv[it.Arg]
		return EscapeLogItem(v), ok
	case "n":
		v, ok := r.Notes[it.Arg]
		return EscapeLogItem(v), ok
	case "f":
		return EscapeLogItem(r.Filename), r.Filename != ""
	case "H":
		return EscapeLogItem(r.Protocol), true
	case "i":
		vs := r.HeadersIn.Values(it.Arg)
		if len(vs) == 0 {
			return "", false
		}
		return EscapeLogItem(strings.Join(vs, ", ")), true
	case "o":
		return headerOut(r, it.Arg)
	case "k":
		// The keep-alive requests before this one on the connection
		// (Apache's c->keepalives - 1): 0 for a connection's first.
		if r.Conn == nil {
			return "0", true
		}
		return strconv.Itoa(r.Conn.Keepalives), true
	case "l", "L":
		return "", false
	case "m":
		return EscapeLogItem(r.Method), true
	case "p":
		return lr.port(it.Arg), true
	case "P":
		switch strings.ToLower(it.Arg) {
		case "tid":
			return strconv.Itoa(syscall.Gettid()), true
		case "hextid":
			return strconv.FormatInt(int64(syscall.Gettid()), 16), true
		}
		return strconv.Itoa(os.Getpid()), true
	case "q":
		if r.Args == "" {
			return "", true
		}
		return EscapeLogItem("?" + r.Args), true
	case "r":
		return EscapeLogItem(r.TheRequest), true
	case "R":
		return EscapeLogItem(r.Handler), r.Handler != ""
	case "s":
		if r.Status <= 0 {
			return "", false
		}
		return strconv.Itoa(r.Status), true
	case "t":
		return lr.time(it.Arg), true
	case "u":
		return EscapeLogItem(r.User), r.User != ""
	case "U":
		return EscapeLogItem(r.URI), true
	case "v":
		return EscapeLogItem(serverName(r)), true
	case "V":
		if r.Hostname != "" {
			return EscapeLogItem(r.Hostname), true
		}
		return EscapeLogItem(serverName(r)), true
	case "X":
		return connStatus(r), true
	}
	// %I %O %S %^FB (mod_logio), %{VAR}x %{VAR}c (mod_ssl) and the
	// trailers %^ti %^to: not measured by httpdg yet.
	return "", false
}

// headerOut is log_header_out: Content-Type is the response's type without
// parameters, Set-Cookie every value joined, else the first value of the
// response headers (the error headers when the normal ones lack it).
func headerOut(r *phases.Request, name string) (string, bool) {
	if strings.EqualFold(name, "Content-Type") && r.ContentType != "" {
		ct, _, _ := strings.Cut(r.ContentType, ";")
		return EscapeLogItem(strings.TrimSpace(ct)), true
	}
	for _, h := range []http.Header{r.HeadersOut, r.ErrHeadersOut} {
		vs := h.Values(name)
		if len(vs) == 0 {
			continue
		}
		if strings.EqualFold(name, "Set-Cookie") {
			return EscapeLogItem(strings.Join(vs, ", ")), true
		}
		return EscapeLogItem(vs[0]), true
	}
	return "", false
}

func cookie(h http.Header, name string) (string, bool) {
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				return EscapeLogItem(v), true
			}
		}
	}
	return "", false
}

// connStatus is %X: "+" when the connection may be kept alive after the
// response, "-" when it will close.
func connStatus(r *phases.Request) string {
	if r.Conn == nil || !r.Conn.Keepalive {
		return "-"
	}
	conn := strings.ToLower(strings.Join(r.HeadersIn.Values("Connection"), ","))
	if strings.Contains(conn, "close") {
		return "-"
	}
	if r.Protocol == "HTTP/1.0" && !strings.Contains(conn, "keep-alive") {
		return "-"
	}
	if r.Protocol == "HTTP/0.9" {
		return "-"
	}
	return "+"
}

// serverName is the virtual host's ServerName (Apache's
// r->server->server_hostname), the main server's when it has none, the
// system's host name when neither has one.
func serverName(r *phases.Request) string {
	name, _ := serverHostPort(r.Vhost)
	if name == "" && r.Server != nil {
		name, _ = serverHostPort(r.Server.Main)
	}
	if name == "" {
		name, _ = os.Hostname()
	}
	return name
}

// serverHostPort splits a server's ServerName "[scheme://]host[:port]".
func serverHostPort(s *config.Server) (string, int) {
	if s == nil {
		return "", 0
	}
	name := core.ServerOf(s).ServerName
	if i := strings.Index(name, "://"); i >= 0 {
		name = name[i+3:]
	}
	port := 0
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.Contains(name[i:], "]") {
		port, _ = strconv.Atoi(name[i+1:])
		name = name[:i]
	}
	return name, port
}

// port is %p: canonical (the ServerName's port, else the scheme's default,
// as Apache logs it), local or remote.
func (lr *logRequest) port(arg string) string {
	r := lr.r
	switch strings.ToLower(arg) {
	case "local":
		if r.Conn != nil {
			return strconv.Itoa(r.Conn.LocalPort)
		}
	case "remote":
		if r.Conn != nil {
			return strconv.Itoa(r.Conn.ClientPort)
		}
	}
	_, p := serverHostPort(r.Vhost)
	if p == 0 && r.Server != nil && r.Vhost != r.Server.Main {
		_, p = serverHostPort(r.Server.Main)
	}
	if p == 0 {
		p = 80
		if r.IsHTTPS {
			p = 443
		}
	}
	return strconv.Itoa(p)
}

// time renders %t and %{format}t.
func (lr *logRequest) time(arg string) string {
	if arg == "" {
		return lr.begin.Format("[02/Jan/2006:15:04:05 -0700]")
	}
	t := lr.begin
	if rest, ok := strings.CutPrefix(arg, "begin:"); ok {
		arg = rest
	} else if rest, ok := strings.CutPrefix(arg, "end:"); ok {
		arg, t = rest, lr.end
	}
	switch arg {
	case "sec":
		return strconv.FormatInt(t.Unix(), 10)
	case "msec":
		return strconv.FormatInt(t.UnixMilli(), 10)
	case "usec":
		return strconv.FormatInt(t.UnixMicro(), 10)
	case "msec_frac":
		return pad(t.Nanosecond()/1e6, 3)
	case "usec_frac":
		return pad(t.Nanosecond()/1e3, 6)
	}
	return Strftime(arg, t)
}

func spacePad(n int) string {
	if n < 10 {
		return " " + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// Strftime formats t with a C strftime format (the conversions glibc
// documents that do not depend on the locale, in the C locale).
func Strftime(f string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'c':
			b.WriteString(t.Format("Mon Jan _2 15:04:05 2006"))
		case 'C':
			b.WriteString(pad(t.Year()/100, 2))
		case 'd':
			b.WriteString(pad(t.Day(), 2))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'e':
			b.WriteString(t.Format("_2"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'H':
			b.WriteString(pad(t.Hour(), 2))
		case 'I':
			b.WriteString(t.Format("03"))
		case 'j':
			b.WriteString(pad(t.YearDay(), 3))
		case 'k':
			b.WriteString(spacePad(t.Hour()))
		case 'l':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(spacePad(h))
		case 'm':
			b.WriteString(pad(int(t.Month()), 2))
		case 'M':
			b.WriteString(pad(t.Minute(), 2))
		case 'n':
			b.WriteByte('\n')
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'r':
			b.WriteString(t.Format("03:04:05 PM"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'S':
			b.WriteString(pad(t.Second(), 2))
		case 't':
			b.WriteByte('\t')
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'x':
			b.WriteString(t.Format("01/02/06"))
		case 'X':
			b.WriteString(t.Format("15:04:05"))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// EscapeLogItem is Apache's ap_escape_logitem: '"' and '\' get a
// backslash, \b \n \r \t \v their C escapes, other control characters and
// bytes above 126 \xhh.
func EscapeLogItem(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\v':
			b = append(b, '\\', 'v')
		case c < 0x20 || c > 0x7e:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return string(b)
}
