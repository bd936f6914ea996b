package lua

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// DefaultBodyLimit is what r:parsebody() and r:requestbody() read at most
// when the script names no limit.
const DefaultBodyLimit = 8 << 20

// newRequest is the request object r handed to a hook.
func (v *vm) newRequest(r *phases.Request) lua.LValue {
	ud := v.L.NewUserData()
	ud.Value = r
	ud.Metatable = v.requestMeta()
	return ud
}

func checkRequest(L *lua.LState) *phases.Request {
	ud := L.CheckUserData(1)
	r, ok := ud.Value.(*phases.Request)
	if !ok {
		L.ArgError(1, "request_rec expected")
	}
	return r
}

// requestMethods are r's methods; a state makes the function of one the
// first time a script asks for it.
var requestMethods map[string]func(v *vm, L *lua.LState) int

func init() {
	requestMethods = map[string]func(v *vm, L *lua.LState) int{
		"puts": func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			var b strings.Builder
			for i := 2; i <= L.GetTop(); i++ {
				b.WriteString(L.ToStringMeta(L.Get(i)).String())
			}
			if _, err := io.WriteString(r.Output, b.String()); err != nil {
				v.log(r.Log(), "debug", "r:puts: "+err.Error())
			}
			return 0
		},
		"write": func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			n, err := io.WriteString(r.Output, L.CheckString(2))
			if err != nil {
				v.log(r.Log(), "debug", "r:write: "+err.Error())
			}
			L.Push(lua.LNumber(n))
			return 1
		},
		"flush": func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			L.Push(lua.LBool(r.Output.Flush() == nil))
			return 1
		},
		"parseargs": func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			q, _ := url.ParseQuery(r.Args)
			v.pushForm(q)
			return 2
		},
		"parsebody": func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			form, err := parseBody(r, int64(L.OptInt(2, DefaultBodyLimit)))
			if err != nil {
				L.RaiseError("r:parsebody: %v", err)
			}
			v.pushForm(form)
			return 2
		},
		"requestbody": func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			body, err := readBody(r, DefaultBodyLimit)
			if err != nil {
				L.RaiseError("r:requestbody: %v", err)
			}
			if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
				if !v.io {
					L.RaiseError("r:requestbody: writing a file needs LuaAllowIO On")
				}
				if err := os.WriteFile(L.CheckString(2), body, 0o644); err != nil {
					L.Push(lua.LNil)
					L.Push(lua.LString(err.Error()))
					return 2
				}
				L.Push(lua.LNumber(len(body)))
				return 1
			}
			L.Push(lua.LString(body))
			return 1
		},
		"getcookie": func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			c, err := (&http.Request{Header: r.HeadersIn}).Cookie(L.CheckString(2))
			if err != nil {
				L.Push(lua.LNil)
			} else {
				L.Push(lua.LString(c.Value))
			}
			return 1
		},
		"setcookie": func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			c := &http.Cookie{}
			if t, ok := L.Get(2).(*lua.LTable); ok {
				c.Name = lua.LVAsString(t.RawGetString("key"))
				c.Value = lua.LVAsString(t.RawGetString("value"))
				c.Path = lua.LVAsString(t.RawGetString("path"))
				c.Domain = lua.LVAsString(t.RawGetString("domain"))
				c.Secure = lua.LVAsBool(t.RawGetString("secure"))
				c.HttpOnly = lua.LVAsBool(t.RawGetString("httponly"))
				if n, ok := t.RawGetString("expires").(lua.LNumber); ok && n > 0 {
					c.Expires = time.Unix(int64(n), 0)
				}
			} else {
				c.Name, c.Value = L.CheckString(2), L.OptString(3, "")
				c.Secure = lua.LVAsBool(L.Get(4))
				if n, ok := L.Get(5).(lua.LNumber); ok && n > 0 {
					c.Expires = time.Unix(int64(n), 0)
				}
				c.HttpOnly = lua.LVAsBool(L.Get(6))
				c.Path = L.OptString(7, "")
				c.Domain = L.OptString(8, "")
			}
			if c.Name == "" {
				L.ArgError(2, "a cookie needs a key")
			}
			if s := c.String(); s != "" {
				r.HeadersOut.Add("Set-Cookie", s)
			}
			return 0
		},
		"escape_html": func(v *vm, L *lua.LState) int {
			L.Push(lua.LString(escapeHTML(L.CheckString(2))))
			return 1
		},
		"escape": func(v *vm, L *lua.LState) int {
			L.Push(lua.LString(url.QueryEscape(L.CheckString(2))))
			return 1
		},
		"unescape": func(v *vm, L *lua.LState) int {
			s, err := url.QueryUnescape(L.CheckString(2))
			if err != nil {
				L.Push(lua.LNil)
				return 1
			}
			L.Push(lua.LString(s))
			return 1
		},
		"base64_encode": func(v *vm, L *lua.LState) int {
			L.Push(lua.LString(base64.StdEncoding.EncodeToString([]byte(L.CheckString(2)))))
			return 1
		},
		"base64_decode": func(v *vm, L *lua.LState) int {
			b, err := base64.StdEncoding.DecodeString(L.CheckString(2))
			if err != nil {
				L.Push(lua.LNil)
				return 1
			}
			L.Push(lua.LString(b))
			return 1
		},
		"md5": func(v *vm, L *lua.LState) int {
			s := md5.Sum([]byte(L.CheckString(2)))
			L.Push(lua.LString(hex.EncodeToString(s[:])))
			return 1
		},
		"sha1": func(v *vm, L *lua.LState) int {
			s := sha1.Sum([]byte(L.CheckString(2)))
			L.Push(lua.LString(hex.EncodeToString(s[:])))
			return 1
		},
		"sha256": func(v *vm, L *lua.LState) int {
			s := sha256.Sum256([]byte(L.CheckString(2)))
			L.Push(lua.LString(hex.EncodeToString(s[:])))
			return 1
		},
		"regex": func(v *vm, L *lua.LState) int {
			checkRequest(L)
			s, pat := L.CheckString(2), L.CheckString(3)
			if L.OptInt(4, 0)&1 != 0 {
				pat = "(?i)" + pat
			}
			re, err := cachedRegex(pat)
			if err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			m := re.FindStringSubmatch(s)
			if m == nil {
				L.Push(lua.LNil)
				return 1
			}
			t := L.NewTable()
			for i, x := range m {
				t.RawSetInt(i, lua.LString(x))
			}
			L.Push(t)
			return 1
		},
		"sendfile": func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			name := L.CheckString(2)
			if !filepath.IsAbs(name) {
				name = filepath.Join(v.rt.cfg.ServerRoot, name)
			}
			f, err := os.Open(name)
			if err != nil {
				L.Push(lua.LFalse)
				return 1
			}
			defer f.Close()
			if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
				L.Push(lua.LFalse)
				return 1
			}
			_, err = io.Copy(r.Output, f)
			L.Push(lua.LBool(err == nil))
			return 1
		},
	}
	for _, name := range logMethods {
		level, _ := logLevel(name)
		requestMethods[name] = func(v *vm, L *lua.LState) int {
			r := checkRequest(L)
			v.log(r.Log(), level, L.CheckString(2))
			return 0
		}
	}
}

// requestMeta is the request object's metatable, made on first use.
func (v *vm) requestMeta() *lua.LTable {
	if v.reqMeta == nil {
		L := v.L
		v.reqMeta = L.NewTable()
		v.reqMeta.RawSetString("__index", L.NewFunction(v.reqIndex))
		v.reqMeta.RawSetString("__newindex", L.NewFunction(v.reqNewIndex))
		v.reqMeta.RawSetString("__metatable", lua.LString("request_rec"))
	}
	return v.reqMeta
}

// reqIndex reads a field of r (mod_lua's req_index).
func (v *vm) reqIndex(L *lua.LState) int {
	r := checkRequest(L)
	k := L.CheckString(2)
	if f := v.reqMethods[k]; f != nil {
		L.Push(f)
		return 1
	}
	if m := requestMethods[k]; m != nil {
		f := L.NewFunction(func(L *lua.LState) int { return m(v, L) })
		if v.reqMethods == nil {
			v.reqMethods = map[string]*lua.LFunction{}
		}
		v.reqMethods[k] = f
		L.Push(f)
		return 1
	}
	L.Push(v.reqField(r, k))
	return 1
}

func (v *vm) reqField(r *phases.Request, k string) lua.LValue {
	switch k {
	case "uri":
		return lua.LString(r.URI)
	case "method":
		return lua.LString(r.Method)
	case "args":
		if r.Args == "" {
			return lua.LNil
		}
		return lua.LString(r.Args)
	case "filename", "canonical_filename":
		return lua.LString(r.Filename)
	case "handler":
		return lua.LString(r.Handler)
	case "status":
		if r.Status == 0 {
			return lua.LNumber(http.StatusOK)
		}
		return lua.LNumber(r.Status)
	case "content_type":
		return lua.LString(r.ContentType)
	case "hostname":
		return lua.LString(r.Hostname)
	case "protocol":
		return lua.LString(r.Protocol)
	case "unparsed_uri":
		return lua.LString(r.UnparsedURI)
	case "the_request":
		return lua.LString(r.TheRequest)
	case "useragent_ip":
		return lua.LString(r.UseragentIP)
	case "user":
		if r.User == "" {
			return lua.LNil
		}
		return lua.LString(r.User)
	case "path_info":
		return lua.LString(r.PathInfo)
	case "port":
		return lua.LNumber(r.Port)
	case "is_https":
		return lua.LBool(r.IsHTTPS)
	case "header_only":
		return lua.LBool(r.Method == http.MethodHead)
	case "range":
		return lua.LString(r.HeadersIn.Get("Range"))
	case "document_root", "context_document_root":
		return lua.LString(v.docroot(r))
	case "server_name":
		if in := v.rt.info[v.vhost(r)]; in != nil {
			return lua.LString(in.serverName)
		}
		return lua.LString(r.Hostname)
	case "headers_in":
		return v.newTable(headerTable{r.HeadersIn})
	case "headers_out":
		return v.newTable(headerTable{r.HeadersOut})
	case "err_headers_out":
		return v.newTable(headerTable{r.ErrHeadersOut})
	case "notes":
		return v.newTable(mapTable{r.Notes})
	case "subprocess_env":
		return v.newTable(mapTable{r.SubprocessEnv})
	case "headers_in_table":
		return v.plainTable(headerTable{r.HeadersIn})
	case "headers_out_table":
		return v.plainTable(headerTable{r.HeadersOut})
	case "err_headers_out_table":
		return v.plainTable(headerTable{r.ErrHeadersOut})
	case "notes_table":
		return v.plainTable(mapTable{r.Notes})
	case "subprocess_env_table":
		return v.plainTable(mapTable{r.SubprocessEnv})
	case "pool":
		return v.newPool(r.Pool)
	case "connection":
		return v.newConn(r.Conn)
	case "server":
		return v.newServer(r.Server, v.vhost(r))
	case "bytes_sent":
		return lua.LNumber(r.BytesSent)
	}
	return lua.LNil
}

// reqNewIndex sets a field of r; as in mod_lua only some may be set.
func (v *vm) reqNewIndex(L *lua.LState) int {
	r := checkRequest(L)
	k := L.CheckString(2)
	val := L.Get(3)
	str := func() string {
		if val == lua.LNil {
			return ""
		}
		return L.ToStringMeta(val).String()
	}
	switch k {
	case "uri":
		r.URI = str()
	case "args":
		r.Args = str()
	case "filename":
		r.Filename = str()
	case "handler":
		r.Handler = str()
	case "content_type":
		r.ContentType = str()
	case "user":
		r.User = str()
	case "path_info":
		r.PathInfo = str()
	case "status":
		n, ok := val.(lua.LNumber)
		if !ok || n < 100 || n > 999 {
			L.ArgError(3, "status must be an HTTP status (100-999)")
		}
		r.Status = int(n)
	default:
		L.RaiseError("Property [%s] may not be set on a request_rec", k)
	}
	return 0
}

func (v *vm) vhost(r *phases.Request) *config.Server {
	if r.Vhost != nil {
		return r.Vhost
	}
	return v.rt.cfg.Main
}

func (v *vm) docroot(r *phases.Request) string {
	if r.Vhost != nil {
		if in := v.rt.info[r.Vhost]; in != nil && in.docroot != "" {
			return in.docroot
		}
	}
	if in := v.rt.info[v.rt.cfg.Main]; in != nil {
		return in.docroot
	}
	return ""
}

// pushForm pushes mod_lua's two tables of a form: name → last value, and
// name → every value.
func (v *vm) pushForm(form url.Values) {
	L := v.L
	single, multi := L.NewTable(), L.NewTable()
	for k, vs := range form {
		all := L.NewTable()
		for _, x := range vs {
			all.Append(lua.LString(x))
		}
		if len(vs) > 0 {
			single.RawSetString(k, lua.LString(vs[len(vs)-1]))
		}
		multi.RawSetString(k, all)
	}
	L.Push(single)
	L.Push(multi)
}

const bodyKey = "lua_module:body"

// readBody reads the request body once per request (at most limit bytes);
// later calls get the same bytes.
func readBody(r *phases.Request, limit int64) ([]byte, error) {
	if r.Pool != nil {
		if b, ok := r.Pool.Userdata(bodyKey); ok {
			return b.([]byte), nil
		}
	}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("the request body is larger than %d bytes", limit)
		}
		body = b
	}
	if r.Pool != nil {
		r.Pool.SetUserdata(bodyKey, body)
	}
	return body, nil
}

// parseBody parses a urlencoded or multipart/form-data body.
func parseBody(r *phases.Request, limit int64) (url.Values, error) {
	body, err := readBody(r, limit)
	if err != nil {
		return nil, err
	}
	ct, params, _ := mime.ParseMediaType(r.HeadersIn.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		form := url.Values{}
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return form, nil
			}
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return nil, err
			}
			if name := p.FormName(); name != "" {
				form.Add(name, string(b))
			}
		}
	default:
		return url.ParseQuery(string(body))
	}
}

// escapeHTML is ap_escape_html: & < > and " become entities.
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, `&<>"`) {
		return s
	}
	return htmlReplacer.Replace(s)
}

var htmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

var (
	regexCache sync.Map // pattern → *regexp.Regexp
	regexCount atomic.Int32
)

func cachedRegex(pat string) (*regexp.Regexp, error) {
	if re, ok := regexCache.Load(pat); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, err
	}
	if regexCount.Add(1) <= 1024 { // patterns built per request must not grow it forever
		regexCache.Store(pat, re)
	}
	return re, nil
}
