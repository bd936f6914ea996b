package phases

import (
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/httpdg/httpdg/config"
)

// Request is Apache's request_rec as handlers see it (mod_lua's r). The HTTP
// engine fills it from the wire; phases never touches a socket.
type Request struct {
	TheRequest  string // the request line, "GET /x?y HTTP/1.1"
	Method      string
	UnparsedURI string // the URI as sent
	URI         string // the decoded path
	Args        string // the query string, without '?'
	Protocol    string // "HTTP/1.1"
	Hostname    string // from Host, without the port
	Port        int
	IsHTTPS     bool
	UseragentIP string
	// RequestTime is when the request head arrived (Apache's
	// r->request_time: mod_log_config's %t, %D, %T, %{...}t).
	RequestTime time.Time

	HeadersIn     http.Header
	HeadersOut    http.Header
	ErrHeadersOut http.Header // sent on errors too
	Notes         map[string]string
	SubprocessEnv map[string]string

	Filename    string // set by translate_name / map_to_storage
	PathInfo    string
	Handler     string // SetHandler / AddHandler name
	ContentType string
	User        string // set by check_user_id
	Status      int

	Server *Server        // the generation: config, log, process
	Vhost  *config.Server // the virtual host serving the request
	Pool   *Pool          // the request pool, destroyed after log_transaction
	Conn   *Connection    // the connection the request came on
	Body   io.Reader      // the request body
	Output ResponseWriter // where handlers write the response
	// BytesSent counts the body bytes written so far (mod_log_config's %B).
	BytesSent int64
	// Hooks are the request hooks serving r (for internal redirects).
	Hooks *RequestHooks
	// Prev is the request an internal redirect came from (Apache's
	// r->prev), nil for the original request.
	Prev *Request

	// The cached stat of Filename (see Stat).
	statName string
	statDone bool
	statInfo os.FileInfo
	statErr  error
	// Sections are the per-directory sections that apply, in merge order;
	// set by map_to_storage.
	Sections []*config.Section

	// noReplay: some handler that ran for r is not Replayable, or said
	// r.NotReplayable(). aborted: the connection must be cut (filter.go).
	noReplay bool
	aborted  bool
	// rare holds what few requests use (a replay offer, filters) behind
	// one pointer: every request allocates a Request, so it stays small.
	rare *rareState
}

// rareState is the part of a Request most requests never touch.
type rareState struct {
	// replay is what the static handler offered (replay.go).
	replay *replayOffer
	// The filters inserted for r and the output chain while the handler
	// runs (filter.go).
	outputFilters, inputFilters []namedFilter
	outChain                    *outputChain
}

// rareOf returns r's rare state, made on first use.
func (r *Request) rareOf() *rareState {
	if r.rare == nil {
		r.rare = &rareState{}
	}
	return r.rare
}

// ResponseWriter is how handlers answer; the HTTP engine implements it.
type ResponseWriter interface {
	io.Writer
	// WriteHeader sends the status and headers (HeadersOut merged with
	// ErrHeadersOut); Write calls it with 200 if no one has.
	WriteHeader(status int)
	Flush() error
}

// Connection is Apache's conn_rec: one client connection and its pool.
type Connection struct {
	ClientIP   string
	ClientPort int
	LocalIP    string
	LocalPort  int
	Pool       *Pool
	// Notes live as long as the connection.
	Notes map[string]string
	// Keepalive: the connection may serve another request after this one.
	Keepalive bool
	// Keepalives counts the requests served on the connection before the
	// current one (Apache's c->keepalives, mod_log_config's %k).
	Keepalives int
	// Stream is the connection's bytes (after TLS, if any): a
	// process_connection handler that takes the connection over reads the
	// client's bytes from it and writes its answers to it. Request phases
	// must not use it: HTTP owns the stream then.
	Stream io.ReadWriter
}

// RequestHookFunc is a request-phase handler. It returns OK, DECLINED,
// DONE or an HTTP status; an error is a failure (500, logged).
type RequestHookFunc func(r *Request) (Status, error)

// ConnectionHookFunc is a pre_connection or process_connection handler.
type ConnectionHookFunc func(c *Connection, s *Server) (Status, error)

// RequestHooks are the request and connection phases of SPEC §5 with
// Apache's kinds, plus the Perlbal-derived hooks of SPEC §8.
type RequestHooks struct {
	PreConnection     *Hook[ConnectionHookFunc]
	ProcessConnection *Hook[ConnectionHookFunc]

	PostReadRequest *Hook[RequestHookFunc]
	QuickHandler    *Hook[RequestHookFunc]
	TranslateName   *Hook[RequestHookFunc]
	MapToStorage    *Hook[RequestHookFunc]
	HeaderParser    *Hook[RequestHookFunc]
	AccessChecker   *Hook[RequestHookFunc]
	CheckUserID     *Hook[RequestHookFunc]
	AuthChecker     *Hook[RequestHookFunc]
	TypeChecker     *Hook[RequestHookFunc]
	Fixups          *Hook[RequestHookFunc]
	InsertFilter    *Hook[RequestHookFunc]
	Handler         *Hook[RequestHookFunc]
	LogTransaction  *Hook[RequestHookFunc]

	// ModifyResponseHeaders runs (RUN_ALL) just before headers are sent.
	ModifyResponseHeaders *Hook[RequestHookFunc]
	// CustomResponse (RUN_FIRST) may answer an error status nobody wrote a
	// body for (ErrorDocument); DECLINED leaves the default error page.
	CustomResponse *Hook[RequestHookFunc]

	// Perlbal's hooks (SPEC §8). Its handler hooks, where the first handler
	// that answers takes over, are RUN_FIRST; its general ones are VOID.
	// Around the static handler:
	StartServeRequest            *Hook[RequestHookFunc] // before serving a file or directory
	StartSendFile                *Hook[RequestHookFunc] // before sending a file's bytes
	StaticGetPoststatFileMissing *Hook[RequestHookFunc] // the mapped file does not exist
	StaticGetPoststatPreSend     *Hook[RequestHookFunc] // the file exists; headers not sent yet
	// Around the reverse proxy:
	BackendClientAssigned   *Hook[RequestHookFunc] // a backend was chosen
	BackendResponseReceived *Hook[RequestHookFunc] // the backend's response head arrived
	EndProxyRequest         *Hook[RequestHookFunc] // the proxied exchange is over (VOID)

	// The filters modules registered for this generation, by lower-case
	// name (filter.go).
	outputFilters, inputFilters map[string]NewFilter
}

// NewRequestHooks returns the empty request hooks with Apache's kinds.
func NewRequestHooks() *RequestHooks {
	return &RequestHooks{
		PreConnection:         NewHook[ConnectionHookFunc]("pre_connection", RunAll),
		ProcessConnection:     NewHook[ConnectionHookFunc]("process_connection", RunFirst),
		PostReadRequest:       NewHook[RequestHookFunc]("post_read_request", RunAll),
		QuickHandler:          NewHook[RequestHookFunc]("quick_handler", RunFirst),
		TranslateName:         NewHook[RequestHookFunc]("translate_name", RunFirst),
		MapToStorage:          NewHook[RequestHookFunc]("map_to_storage", RunFirst),
		HeaderParser:          NewHook[RequestHookFunc]("header_parser", RunAll),
		AccessChecker:         NewHook[RequestHookFunc]("access_checker", RunAll),
		CheckUserID:           NewHook[RequestHookFunc]("check_user_id", RunFirst),
		AuthChecker:           NewHook[RequestHookFunc]("auth_checker", RunFirst),
		TypeChecker:           NewHook[RequestHookFunc]("type_checker", RunFirst),
		Fixups:                NewHook[RequestHookFunc]("fixups", RunAll),
		InsertFilter:          NewHook[RequestHookFunc]("insert_filter", Void),
		Handler:               NewHook[RequestHookFunc]("handler", RunFirst),
		LogTransaction:        NewHook[RequestHookFunc]("log_transaction", RunAll),
		ModifyResponseHeaders: NewHook[RequestHookFunc]("modify_response_headers", RunAll),
		CustomResponse:        NewHook[RequestHookFunc]("custom_response", RunFirst),

		StartServeRequest:            NewHook[RequestHookFunc]("start_serve_request", RunFirst),
		StartSendFile:                NewHook[RequestHookFunc]("start_send_file", RunFirst),
		StaticGetPoststatFileMissing: NewHook[RequestHookFunc]("static_get_poststat_file_missing", RunFirst),
		StaticGetPoststatPreSend:     NewHook[RequestHookFunc]("static_get_poststat_pre_send", RunFirst),
		BackendClientAssigned:        NewHook[RequestHookFunc]("backend_client_assigned", RunFirst),
		BackendResponseReceived:      NewHook[RequestHookFunc]("backend_response_received", RunFirst),
		EndProxyRequest:              NewHook[RequestHookFunc]("end_proxy_request", Void),
	}
}

// runRequestHook runs one request hook for r and maps an all-DECLINED
// RUN_FIRST to DECLINED.
func runRequestHook(h *Hook[RequestHookFunc], r *Request) (Status, error) {
	if h.unreplayable {
		r.noReplay = true
	}
	res, err := h.Run(func(f RequestHookFunc) (Status, error) { return callRequestHook(f, r) }, func(origin string, st Status, err error) {
		if r.Log() != nil {
			r.Log().Error("core", "%s failed: %s", hookHandler(h.Name, origin), reason(st, err))
		}
	})
	if err != nil {
		return 500, err
	}
	if res.Err != nil && r.Log() != nil {
		r.Log().Error("core", "%s failed: %v", hookHandler(h.Name, res.Stopper), res.Err)
	}
	return res.Status, nil
}

// callRequestHook calls one handler; a panic in it is its failure (a 500
// and a log line naming where it happened), not the process's end.
func callRequestHook(f RequestHookFunc, r *Request) (st Status, err error) {
	defer func() {
		if v := recover(); v != nil {
			st, err = http.StatusInternalServerError, fmt.Errorf("panic: %v (at %s)", v, panicSite())
		}
	}()
	return f(r)
}

// panicSite is the file:line a recovered panic was raised at: the
// innermost frame of the panicking goroutine outside the standard library
// (whose import paths have no dot in their first element).
func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		fr, more := frames.Next()
		first, _, _ := strings.Cut(fr.Function, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(fr.Function, "runtime.") || strings.HasPrefix(fr.Function, "main.") {
			return fmt.Sprintf("%s:%d", fr.File, fr.Line)
		}
		if !more {
			return "unknown"
		}
	}
}

// ProcessRequest runs the request phases in Apache's order
// (ap_process_request_internal, then the handler) and always
// log_transaction, then destroys the request pool. It returns the final
// status: the handler's, or the first phase that ended the request.
//
// Apache's rules: post_read_request, header_parser, access_checker and
// fixups are RUN_ALL (anything but OK/DECLINED ends the request);
// quick_handler answering anything but DECLINED skips every other phase
// but log_transaction; translate_name, map_to_storage, check_user_id,
// auth_checker and type_checker are RUN_FIRST and DECLINED from all of them
// is fine except translate_name's (the engine's default mapping applies)
// and the handler's (404).
//
// respond, if not nil, is called before log_transaction so the engine can
// send what the handler did not (an error page, the headers of an empty
// answer) and the log sees the final status and byte count.
func ProcessRequest(h *RequestHooks, r *Request, respond func(r *Request, st Status)) Status {
	st := processRequest(h, r)
	if st == DONE || st == OK {
		if r.Status == 0 {
			r.Status = http.StatusOK
		}
	} else if st > 0 {
		r.Status = int(st)
	}
	if respond != nil {
		respond(r, st)
	}
	endRequest(h, r)
	return st
}

// endRequest runs log_transaction for r and destroys its pool.
func endRequest(h *RequestHooks, r *Request) {
	if _, err := runRequestHook(h.LogTransaction, r); err != nil && r.Log() != nil {
		r.Log().Error("core", "log_transaction: %v", err)
	}
	if r.Pool != nil {
		r.Pool.Destroy()
	}
}

func processRequest(h *RequestHooks, r *Request) Status {
	ends := func(st Status) bool { return st != OK && st != DECLINED }
	if st, _ := runRequestHook(h.PostReadRequest, r); ends(st) {
		return st
	}
	if st, _ := runRequestHook(h.QuickHandler, r); st != DECLINED {
		return st
	}
	for _, hook := range []*Hook[RequestHookFunc]{h.TranslateName, h.MapToStorage} {
		if st, _ := runRequestHook(hook, r); ends(st) {
			return st
		}
	}
	for _, hook := range []*Hook[RequestHookFunc]{h.HeaderParser, h.AccessChecker, h.CheckUserID, h.AuthChecker, h.TypeChecker, h.Fixups} {
		if st, _ := runRequestHook(hook, r); ends(st) {
			return st
		}
	}
	_, _ = runRequestHook(h.InsertFilter, r)
	if r.rare != nil {
		r.startFilters()
	}
	st, _ := runRequestHook(h.Handler, r)
	if r.rare != nil && r.rare.outChain != nil {
		st = r.finishFilters(st)
	}
	if st == DECLINED {
		return http.StatusNotFound
	}
	return st
}

// sortAll sorts every request and connection hook.
func (h *RequestHooks) sortAll() error {
	for _, err := range []error{h.PreConnection.Sort(), h.ProcessConnection.Sort()} {
		if err != nil {
			return err
		}
	}
	for _, hook := range []*Hook[RequestHookFunc]{h.PostReadRequest, h.QuickHandler, h.TranslateName, h.MapToStorage,
		h.HeaderParser, h.AccessChecker, h.CheckUserID, h.AuthChecker, h.TypeChecker, h.Fixups, h.InsertFilter,
		h.Handler, h.LogTransaction, h.ModifyResponseHeaders, h.CustomResponse,
		h.StartServeRequest, h.StartSendFile, h.StaticGetPoststatFileMissing, h.StaticGetPoststatPreSend,
		h.BackendClientAssigned, h.BackendResponseReceived, h.EndProxyRequest} {
		if err := hook.Sort(); err != nil {
			return err
		}
	}
	return nil
}

// DirConfs returns module's per-directory settings that apply to r, in
// Apache's merge order: the main server's directory defaults, the virtual
// host's, then each section of r.Sections. A module merges them as its own
// rules say (usually: a later value that is set overrides an earlier one).
func DirConfs[T any](r *Request, module string) []*T {
	out := make([]*T, 1, 2+len(r.Sections))
	out[0] = config.ServerDirConf[T](r.Server.Main, module)
	if r.Vhost != nil && r.Vhost != r.Server.Main {
		out = append(out, config.ServerDirConf[T](r.Vhost, module))
	}
	for _, sec := range r.Sections {
		out = append(out, config.SectionConf[T](sec, module))
	}
	return out
}

// EachDirConf is DirConfs as an iterator, for the request path: the same
// settings in the same order, without building a slice.
func EachDirConf[T any](r *Request, module string) iter.Seq[*T] {
	return func(yield func(*T) bool) {
		if !yield(config.ServerDirConf[T](r.Server.Main, module)) {
			return
		}
		if r.Vhost != nil && r.Vhost != r.Server.Main {
			if !yield(config.ServerDirConf[T](r.Vhost, module)) {
				return
			}
		}
		for _, sec := range r.Sections {
			if !yield(config.SectionConf[T](sec, module)) {
				return
			}
		}
	}
}

// VhostConf returns module's server settings for the request's virtual
// host (the main server's when r.Vhost is nil).
func VhostConf[T any](r *Request, module string) *T {
	if r.Vhost != nil {
		return config.ServerConf[T](r.Vhost, module)
	}
	return config.ServerConf[T](r.Server.Main, module)
}

// RunModifyResponseHeaders runs modify_response_headers for r (the engine
// calls it just before sending the status line and headers).
func RunModifyResponseHeaders(h *RequestHooks, r *Request) Status {
	st, _ := runRequestHook(h.ModifyResponseHeaders, r)
	return st
}

// RunCustomResponse offers r's error status to the custom_response hook.
func RunCustomResponse(h *RequestHooks, r *Request) Status {
	st, _ := runRequestHook(h.CustomResponse, r)
	return st
}

// InternalRedirect serves uri in place of r (Apache's
// ap_internal_redirect): a new request for uri, on the same connection and
// output, runs every phase from post_read_request to the handler. The new
// request's Prev is r; its SubprocessEnv carries REDIRECT_STATUS and
// REDIRECT_URL as Apache's does. It returns the new request's status.
func InternalRedirect(r *Request, uri string) (*Request, Status) {
	path, query, _ := strings.Cut(uri, "?")
	nr := *r
	nr.Prev = r
	nr.URI, nr.Args = path, query
	nr.UnparsedURI = uri
	nr.Filename, nr.PathInfo, nr.Handler, nr.ContentType = "", "", "", ""
	nr.Sections = nil
	// Apache starts a redirect's filters afresh (insert_filter runs again).
	nr.rare = nil
	nr.Notes = map[string]string{}
	nr.SubprocessEnv = map[string]string{}
	for k, v := range r.SubprocessEnv {
		nr.SubprocessEnv["REDIRECT_"+k] = v
	}
	nr.SubprocessEnv["REDIRECT_STATUS"] = strconv.Itoa(r.Status)
	nr.SubprocessEnv["REDIRECT_URL"] = r.URI
	nr.HeadersOut = http.Header{}
	if r.Method != http.MethodHead {
		nr.Method = http.MethodGet
	}
	if r.rare != nil && r.rare.outChain != nil {
		c := r.rare.outChain
		// r's filters are abandoned with its answer: the redirect writes
		// to the engine (through its own filters).
		c.closed = true
		nr.Output = c.out
	}
	if o, ok := nr.Output.(interface{ SetRequest(*Request) }); ok {
		o.SetRequest(&nr)
	}
	st := processRequest(r.Hooks, &nr)
	return &nr, st
}

// Log is the error log for r: its virtual host's own, when the
// <VirtualHost> sets ErrorLog or LogLevel, else the server's, at the
// LogLevel of r's sections if they set one; its lines name the client
// ("[client ip:port]").
func (r *Request) Log() *ErrorLog {
	if r.Server == nil {
		return nil
	}
	l := r.Server.Log
	if vl := r.Server.VhostLogs[r.Vhost]; vl != nil {
		l = vl
	}
	if f := r.Server.DirLogLevel; f != nil && len(r.Sections) > 0 {
		l = l.WithLevels(f(r))
	}
	if r.Conn != nil && r.Conn.ClientIP != "" {
		// Apache's request lines say which client they are about, as
		// "ip:port" without brackets, IPv6 too ("[client ::1:48032]").
		l = l.WithClient(r.Conn.ClientIP + ":" + strconv.Itoa(r.Conn.ClientPort))
	}
	return l
}

// RunConnectionHook runs a pre_connection or process_connection hook for c
// and returns its status (DECLINED when every process_connection handler
// declined); a handler's error is logged and counts as a 500.
func RunConnectionHook(h *Hook[ConnectionHookFunc], c *Connection, s *Server) Status {
	res, err := h.Run(func(f ConnectionHookFunc) (st Status, err error) {
		defer func() {
			if v := recover(); v != nil {
				st, err = http.StatusInternalServerError, fmt.Errorf("panic: %v (at %s)", v, panicSite())
			}
		}()
		return f(c, s)
	}, nil)
	if err != nil {
		if s != nil && s.Log != nil {
			s.Log.Error("core", "%s: %v", h.Name, err)
		}
		return http.StatusInternalServerError
	}
	if res.Err != nil && s != nil && s.Log != nil {
		s.Log.Error("core", "%s failed: %v", hookHandler(h.Name, res.Stopper), res.Err)
	}
	return res.Status
}

// RunHook runs one request hook for r (a module calling SPEC §8's hooks
// around its own work) and returns its status: for a RUN_FIRST hook,
// DECLINED means no handler took over.
func RunHook(h *Hook[RequestHookFunc], r *Request) Status {
	st, _ := runRequestHook(h, r)
	return st
}

// hookHandler names a hook's handler in log lines: "fixups handler x",
// but "handler x" for the handler phase itself.
func hookHandler(phase, origin string) string {
	if phase == "handler" {
		return "handler " + origin
	}
	return phase + " handler " + origin
}

// Stat returns the os.Stat of r.Filename, cached on the request (Apache's
// r->finfo): the phases that look at the file share one stat(2).
func (r *Request) Stat() (os.FileInfo, error) {
	if r.statName != r.Filename || !r.statDone {
		r.statInfo, r.statErr = os.Stat(r.Filename)
		r.statName, r.statDone = r.Filename, true
	}
	return r.statInfo, r.statErr
}

// Restat stats r.Filename again, for a handler that found the file
// replaced since the cached stat (a rename over the name between the stat
// and its open).
func (r *Request) Restat() (os.FileInfo, error) {
	r.statDone = false
	return r.Stat()
}
