package phases

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/mpm/scoreboard"
)

// State is where the process is in the server life cycle.
type State string

// The states handlers can ask for with state().
const (
	StateStartup  State = "startup"
	StateConfig   State = "config"
	StateRunning  State = "running"
	StateStopping State = "stopping"
)

// Process is what a process knows of its place in the life cycle.
type Process struct {
	// RestartCount is Apache's ap_state_query(AP_SQ_CONFIG_GEN)+1 view:
	// 1 for the preflight, 2 for the first serving generation, +1 for each
	// restart.
	RestartCount int
	// Generation is 0 for the preflight, 1 for the first serving
	// generation, +1 for each restart.
	Generation int
	State      State
	// InChild is true in a child (and in the in-process child of -X).
	InChild bool
	// Pglobal lives as long as the process.
	Pglobal *Pool
}

// Server is the server record handlers receive as `s`: the config of one
// generation and its error log.
type Server struct {
	Config  *config.Config
	Main    *config.Server
	Process *Process
	Log     *ErrorLog
	// VhostLogs are the error logs of the virtual hosts that have their
	// own (ErrorLog, LogLevel or ErrorLogFormat in the <VirtualHost>);
	// Request.Log picks a request's. Filled by the core module.
	VhostLogs map[*config.Server]*ErrorLog
	// DirLogLevel, if set, gives the LogLevel the sections of a request
	// set (level "" and no modules: none); Request.Log applies it.
	// Filled by the core module.
	DirLogLevel func(r *Request) (level string, modules map[string]string)
	// Listen is where the generation wants to accept connections; the core
	// module fills it from the Listen directives.
	Listen []ListenAddr
	// Conn are the connection settings of the main server (Timeout,
	// KeepAlive...), filled by the core module.
	Conn ConnSettings
	// TLS maps a port to the TLS configuration of the servers on it (SNI
	// picks among their certificates); filled by the ssl module.
	TLS map[int]*tls.Config
	// Scoreboard is the shared scoreboard the MPM keeps (nil when none,
	// e.g. in unit tests): server-status and metrics read it.
	Scoreboard *scoreboard.Board
	// Files are the log files open_logs opened through Files.Open: the
	// master hands them to its children.
	Files *Files
}

// ConnSettings are the connection-level limits the HTTP engine applies.
type ConnSettings struct {
	Timeout              time.Duration // Timeout: reading a request, each read/write
	KeepAlive            bool          // KeepAlive
	KeepAliveTimeout     time.Duration // KeepAliveTimeout: idle wait for the next request
	MaxKeepAliveRequests int           // MaxKeepAliveRequests; 0 = unlimited
	LimitRequestLine     int           // LimitRequestLine
	LimitRequestFieldSz  int           // LimitRequestFieldSize
	LimitRequestFields   int           // LimitRequestFields; 0 = unlimited
	Protocols            []string      // Protocols: "h2", "http/1.1"
	// Require10 is HttpProtocolOptions Require1.0: a request line without
	// a protocol (HTTP/0.9) is refused with 400 instead of served.
	Require10 bool
	// RequestReadTimeout's header stage: the time allowed for a request
	// head, extended by MinRate bytes/s up to HeaderMaxTimeout; 0 = none.
	HeaderTimeout    time.Duration
	HeaderMaxTimeout time.Duration
	HeaderMinRate    int64
}

// DefaultConnSettings are Apache 2.4's defaults.
func DefaultConnSettings() ConnSettings {
	return ConnSettings{Timeout: 60 * time.Second, KeepAlive: true, KeepAliveTimeout: 5 * time.Second,
		MaxKeepAliveRequests: 100, LimitRequestLine: 8190, LimitRequestFieldSz: 8190, LimitRequestFields: 100,
		Protocols: []string{"http/1.1"}}
}

// ListenAddr is one Listen directive: an address, not a socket.
type ListenAddr struct {
	Host     string // "" for every address
	Port     int
	Protocol string // "http" or "https"
}

// ErrDeclined is returned by a handler that declines (Apache's DECLINED).
var ErrDeclined = errors.New("declined")

// ServerHookFunc is a pre_config, check_config, open_logs or post_config
// handler: f(pconf, plog, ptemp, s). pre_config gets s with a nil Main.
type ServerHookFunc func(pconf, plog, ptemp *Pool, s *Server) error

// ChildHookFunc is a child_init, child_exit or monitor handler: f(p, s).
type ChildHookFunc func(p *Pool, s *Server) error

// ServerHooks are the server life-cycle hooks of one generation.
type ServerHooks struct {
	PreConfig   *Hook[ServerHookFunc]
	CheckConfig *Hook[ServerHookFunc]
	OpenLogs    *Hook[ServerHookFunc]
	PostConfig  *Hook[ServerHookFunc]
	ChildInit   *Hook[ChildHookFunc]
	ChildExit   *Hook[ChildHookFunc]
	Monitor     *Hook[ChildHookFunc]
	// Request holds the request and connection phases of the generation.
	Request *RequestHooks
}

// NewServerHooks returns the empty hooks with Apache's kinds (child_exit is
// RUN_ALL as the seed's mod_perl documents it).
func NewServerHooks() *ServerHooks {
	return &ServerHooks{
		PreConfig:   NewHook[ServerHookFunc]("pre_config", RunAll),
		CheckConfig: NewHook[ServerHookFunc]("check_config", RunAll),
		OpenLogs:    NewHook[ServerHookFunc]("open_logs", RunAll),
		PostConfig:  NewHook[ServerHookFunc]("post_config", RunAll),
		ChildInit:   NewHook[ChildHookFunc]("child_init", Void),
		ChildExit:   NewHook[ChildHookFunc]("child_exit", RunAll),
		Monitor:     NewHook[ChildHookFunc]("monitor", RunAll),
		Request:     NewRequestHooks(),
	}
}

// status turns a handler's error into its hook status.
func status(err error) (Status, error) {
	switch {
	case err == nil:
		return OK, nil
	case errors.Is(err, ErrDeclined):
		return DECLINED, nil
	}
	return 500, err
}

// RunServerHook runs a config-time hook and turns a failure into
// "<phase> handler <origin> failed: <reason>".
func RunServerHook(h *Hook[ServerHookFunc], pconf, plog, ptemp *Pool, s *Server) error {
	res, err := h.Run(func(f ServerHookFunc) (Status, error) {
		return status(guard(func() error { return f(pconf, plog, ptemp, s) }))
	}, nil)
	return hookFailure(h.Name, res, err)
}

// RunChildHook runs child_init (VOID: failures are logged and the rest run),
// child_exit or monitor (RUN_ALL: the first failure stops the rest).
func RunChildHook(h *Hook[ChildHookFunc], p *Pool, s *Server) error {
	onVoid := func(origin string, st Status, err error) {
		if s.Log != nil {
			s.Log.Error("core", "%s handler %s failed: %s", h.Name, origin, reason(st, err))
		}
	}
	res, err := h.Run(func(f ChildHookFunc) (Status, error) { return status(guard(func() error { return f(p, s) })) }, onVoid)
	return hookFailure(h.Name, res, err)
}

// guard runs a life-cycle handler; its panic is its failure (a reload
// whose post_config panics is refused, the running generation goes on),
// not the master's end.
func guard(call func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v (at %s)", v, panicSite())
		}
	}()
	return call()
}

func hookFailure(phase string, res Result, err error) error {
	if err != nil {
		return err
	}
	if res.Status == OK || res.Status == DECLINED || res.Status == DONE {
		return nil
	}
	return &HookError{Phase: phase, Origin: res.Stopper, Reason: reason(res.Status, res.Err)}
}

func reason(st Status, err error) string {
	if err != nil {
		return err.Error()
	}
	return "returned status " + st.String()
}

// HookError is a failed life-cycle hook.
type HookError struct {
	Phase, Origin, Reason string
}

func (e *HookError) Error() string {
	return e.Phase + " handler " + e.Origin + " failed: " + e.Reason
}

// AsServerHook accepts a ServerHookFunc or a plain func of its signature,
// as a module's Handlers map may hold either.
func AsServerHook(h any) (ServerHookFunc, bool) {
	switch f := h.(type) {
	case ServerHookFunc:
		return f, true
	case func(pconf, plog, ptemp *Pool, s *Server) error:
		return f, true
	}
	return nil, false
}

// AsChildHook accepts a ChildHookFunc or a plain func of its signature.
func AsChildHook(h any) (ChildHookFunc, bool) {
	switch f := h.(type) {
	case ChildHookFunc:
		return f, true
	case func(p *Pool, s *Server) error:
		return f, true
	}
	return nil, false
}
