package core

import (
	"time"

	"github.com/httpdg/httpdg/config"
)

// Listener is one Listen line.
type Listener struct {
	Addr     config.HostPort
	Protocol string // "http" or "https"
	Origin   *config.Origin
}

// Global holds the core settings that are process-wide.
type Global struct {
	Listeners               []Listener
	PidFile                 string
	User, Group             string
	ControlSocket           string
	GracefulShutdownTimeout time.Duration
	ServerTokens            string
	// HostnameLookups is set when a HostnameLookups other than Off appears
	// anywhere: without one, %h needs no per-request lookup of settings.
	HostnameLookups bool
	// Filters is set when SetOutputFilter or SetInputFilter appears: only
	// then does core have an insert_filter hook.
	Filters bool
}

// ServerSettings holds the core settings of one server (main or virtual).
type ServerSettings struct {
	ServerName              string
	ServerAliases           []string
	ServerAdmin             string
	DocumentRoot            string
	ErrorLog                string
	LogLevel                string
	ModuleLogLevels         map[string]string
	ErrorLogFormat          string
	Timeout                 time.Duration
	KeepAlive               *bool
	KeepAliveTimeout        time.Duration
	MaxKeepAliveRequests    int64
	MaxKeepAliveRequestsSet bool
	LimitRequestFields      *int64
	LimitRequestFieldSz     *int64
	LimitRequestLine        *int64
	Protocols               []string
	HostnameLookups         string
	TraceEnable             string // "on", "off" or "extended"; per server as in Apache
	Require10               *bool  // HttpProtocolOptions Require1.0 (true) or Allow0.9
	AccessFileName          []string
	Hooks                   []HookRef
}

// DirSettings holds the core settings of a per-directory section (or of a
// server's defaults for all directories).
type DirSettings struct {
	Options           []string
	AllowOverride     []string
	Handler           string
	ErrorDocuments    map[int]string
	LimitRequestBody  *int64
	AddDefaultCharset string
	ServerSignature   string
	EnableMMAP        *bool             // nil: not set here (On by default)
	EnableSendfile    *bool             // nil: not set here (On by default in httpdg)
	HostnameLookups   string            // set inside a section
	LogLevel          string            // set inside a section
	ModuleLogLevels   map[string]string // set inside a section
	Hooks             []HookRef
	// SetOutputFilter, SetInputFilter: nil when not set here.
	OutputFilters, InputFilters []string
}

// HookRef is a named Go handler attached to a phase by a GoHook* or
// GoMapHandler directive.
type HookRef struct {
	Phase   string // e.g. "open_logs", "translate_name", "map_handler"
	Name    string // e.g. "startuplog.OpenLogs"
	Handler any
	Order   string // "", "early" or "late"
	Pattern string // GoMapHandler's URI regex
	Origin  *config.Origin
}

// GlobalOf returns the process-wide core settings of cfg.
func GlobalOf(cfg *config.Config) *Global { return config.Global[Global](cfg, ModuleName) }

// ServerOf returns the core settings of server s.
func ServerOf(s *config.Server) *ServerSettings {
	return config.ServerConf[ServerSettings](s, ModuleName)
}

// dirOf returns the settings a per-directory directive writes: those of the
// enclosing section, or the server's defaults outside any section.
func dirOf(cmd *config.Cmd) *DirSettings {
	return config.DirConf[DirSettings](cmd, ModuleName)
}
