package core

import (
	"fmt"
	"os"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

var logLevels = []string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug", "trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8"}

// builtServerDirectives have their run-time behaviour (in the main server;
// see the warnings for virtual hosts).
var builtServerDirectives = map[string]bool{"ErrorLog": true, "LogLevel": true, "ErrorLogFormat": true,
	"Listen": true, "ServerName": true, "ServerAlias": true, "DocumentRoot": true, "KeepAlive": true,
	"KeepAliveTimeout": true, "MaxKeepAliveRequests": true, "Protocols": true,
	"LimitRequestLine": true, "LimitRequestFieldSize": true, "LimitRequestFields": true, "TraceEnable": true, "HttpProtocolOptions": true, "ServerTokens": true, "ServerAdmin": true, "HostnameLookups": true,
	"PidFile": true, "Timeout": true, "User": true, "Group": true, "ControlSocket": true, "GracefulShutdownTimeout": true}

func serverDirectives() []*config.Directive {
	ds := declareServerDirectives()
	for _, d := range ds {
		d.Built = builtServerDirectives[d.Name]
	}
	return ds
}

func declareServerDirectives() []*config.Directive {
	d := func(name string, form config.ArgForm, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Form: form, Contexts: ctx, Help: help, Handler: h}
	}
	srv := func(c *config.Cmd) *ServerSettings { return ServerOf(c.Server) }
	return []*config.Directive{
		d("Listen", config.Take12, config.ServerOnly, "A port number or a numeric IP address and a port number, and an optional protocol", listen),
		d("ServerName", config.Take1, config.ServerVhost, "The hostname and port of the server", func(c *config.Cmd) error {
			name := c.Args[0]
			if i := strings.Index(name, "://"); i >= 0 {
				name = name[i+3:]
			}
			if strings.ContainsAny(name, "/ ") || name == "" {
				return fmt.Errorf("ServerName: '%s' is not a host name", c.Args[0])
			}
			srv(c).ServerName = c.Args[0]
			return nil
		}),
		d("ServerAlias", config.RawArgs, config.InVirtualHost, "A name or names alternately used to access the server", func(c *config.Cmd) error {
			if len(c.Args) == 0 {
				return fmt.Errorf("ServerAlias requires at least one argument, A name or names alternately used to access the server")
			}
			srv(c).ServerAliases = append(srv(c).ServerAliases, c.Args...)
			return nil
		}),
		d("ServerAdmin", config.Take1, config.ServerVhost, "The email address of the server administrator", func(c *config.Cmd) error {
			srv(c).ServerAdmin = c.Args[0]
			return nil
		}),
		d("DocumentRoot", config.Take1, config.ServerVhost, "Root directory of the document tree", func(c *config.Cmd) error {
			path := c.Path(c.Args[0])
			if st, err := os.Stat(path); err != nil || !st.IsDir() {
				c.Warn("DocumentRoot [%s] does not exist", path)
			}
			srv(c).DocumentRoot = path
			return nil
		}),
		d("PidFile", config.Take1, config.ServerOnly, "A file for logging the server process ID", func(c *config.Cmd) error {
			GlobalOf(c.Config).PidFile = c.Path(c.Args[0])
			return nil
		}),
		d("ControlSocket", config.Take1, config.ServerOnly, "The Unix socket -k commands use to talk to the master (default logs/httpdg.sock)", func(c *config.Cmd) error {
			GlobalOf(c.Config).ControlSocket = c.Path(c.Args[0])
			return nil
		}),
		d("User", config.Take1, config.ServerOnly, "Effective user id for this server", func(c *config.Cmd) error {
			GlobalOf(c.Config).User = c.Args[0]
			return nil
		}),
		d("Group", config.Take1, config.ServerOnly, "Name (or #number) of group to run as", func(c *config.Cmd) error {
			GlobalOf(c.Config).Group = c.Args[0]
			return nil
		}),
		d("GracefulShutdownTimeout", config.Take1, config.ServerOnly, "Maximum time in seconds to wait for child processes to complete transactions during shutdown", func(c *config.Cmd) error {
			t, err := c.Seconds(c.Args[0])
			GlobalOf(c.Config).GracefulShutdownTimeout = t
			return err
		}),
		d("ErrorLog", config.Take1, config.ServerVhost, "The filename of the error log", func(c *config.Cmd) error {
			v := c.Args[0]
			if !strings.HasPrefix(v, "|") && !strings.HasPrefix(strings.ToLower(v), "syslog") {
				v = c.Path(v)
			}
			srv(c).ErrorLog = v
			return nil
		}),
		d("LogLevel", config.Iterate, config.ServerVhostD, "Level of verbosity in error logging", logLevel),
		d("ErrorLogFormat", config.Take12, config.ServerVhost, "Format string for the ErrorLog: apache (the default) or json", func(c *config.Cmd) error {
			if len(c.Args) != 1 || strings.Contains(c.Args[0], "%") {
				return fmt.Errorf("ErrorLogFormat: httpdg supports the formats apache and json, not Apache's %%-format strings")
			}
			v, err := c.OneOf(c.Args[0], "apache", "json")
			srv(c).ErrorLogFormat = v
			return err
		}),
		d("Timeout", config.Take1, config.ServerVhost, "Timeout duration (sec)", func(c *config.Cmd) error {
			t, err := c.Seconds(c.Args[0])
			srv(c).Timeout = t
			return err
		}),
		d("KeepAlive", config.Flag, config.ServerVhost, "Whether persistent connections should be On or Off", func(c *config.Cmd) error {
			v := c.Flag()
			srv(c).KeepAlive = &v
			return nil
		}),
		d("KeepAliveTimeout", config.Take1, config.ServerVhost, "Keep-Alive timeout duration (sec)", func(c *config.Cmd) error {
			t, err := c.Seconds(c.Args[0])
			srv(c).KeepAliveTimeout = t
			return err
		}),
		d("MaxKeepAliveRequests", config.Take1, config.ServerVhost, "Maximum number of Keep-Alive requests per connection, or 0 for infinite", func(c *config.Cmd) error {
			n, err := c.Int(c.Args[0], 0, 1<<31-1)
			srv(c).MaxKeepAliveRequests, srv(c).MaxKeepAliveRequestsSet = n, true
			return err
		}),
		d("LimitRequestFields", config.Take1, config.ServerVhost, "Limit (0 = unlimited) on max number of header fields in a request message", limitPtr(func(s *ServerSettings) **int64 { return &s.LimitRequestFields }, 0, 32767)),
		d("LimitRequestFieldSize", config.Take1, config.ServerVhost, "Limit on maximum size of an HTTP request header field", limitPtr(func(s *ServerSettings) **int64 { return &s.LimitRequestFieldSz }, 0, 65536)),
		d("LimitRequestLine", config.Take1, config.ServerVhost, "Limit on maximum size of an HTTP request line", limitPtr(func(s *ServerSettings) **int64 { return &s.LimitRequestLine }, 0, 65536)),
		d("ServerTokens", config.Take1, config.ServerOnly, "Tokens displayed in the Server: header - Min[imal], Major, Minor, Prod[uctOnly], OS, or Full", func(c *config.Cmd) error {
			v := strings.ToLower(c.Args[0])
			choices := map[string]string{"min": "Minimal", "minimal": "Minimal", "major": "Major", "minor": "Minor", "prod": "ProductOnly", "productonly": "ProductOnly", "os": "OS", "full": "Full"}
			if choices[v] == "" {
				return fmt.Errorf("ServerTokens takes 1 argument: 'Prod(uctOnly)', 'Major', 'Minor', 'Min(imal)', 'OS', or 'Full'")
			}
			GlobalOf(c.Config).ServerTokens = choices[v]
			return nil
		}),
		d("TraceEnable", config.Take1, config.ServerVhost, "'on' (default), 'off' or 'extended' to trace request body content", func(c *config.Cmd) error {
			v, err := c.OneOf(c.Args[0], "on", "off", "extended")
			if err != nil {
				return fmt.Errorf("TraceEnable must be one of 'on', 'off', or 'extended'")
			}
			srv(c).TraceEnable = v
			return nil
		}),
		// httpdg's request parser is always Apache's strict one, so Strict
		// and Unsafe, and RegisteredMethods and LenientMethods, are
		// accepted for compatibility; Allow0.9 and Require1.0 act.
		d("HttpProtocolOptions", config.Iterate, config.ServerVhost, "'Allow0.9' (default) or 'Require1.0'; 'Strict', 'Unsafe', 'RegisteredMethods' and 'LenientMethods' are accepted, the parser is always strict", func(c *config.Cmd) error {
			for _, a := range c.Args {
				v, err := c.OneOf(a, "Strict", "Unsafe", "RegisteredMethods", "LenientMethods", "Allow0.9", "Require1.0")
				if err != nil {
					return fmt.Errorf("HttpProtocolOptions accepts 'Unsafe' or 'Strict' (default), 'RegisteredMethods' or 'LenientMethods' (default), and 'Require1.0' or 'Allow0.9' (default)")
				}
				switch v {
				case "Allow0.9", "Require1.0":
					require := v == "Require1.0"
					srv(c).Require10 = &require
				}
			}
			return nil
		}),
		d("Protocols", config.Iterate, config.ServerVhost, "Controls which protocols are allowed", func(c *config.Cmd) error {
			for _, p := range c.Args {
				v, err := c.OneOf(p, "h2", "h2c", "http/1.1")
				if err != nil {
					return err
				}
				srv(c).Protocols = append(srv(c).Protocols, v)
			}
			return nil
		}),
		d("HostnameLookups", config.Take1, config.ServerVhostD, "\"on\" to enable, \"off\" to disable reverse DNS lookups, or \"double\" to enable double-reverse DNS lookups", func(c *config.Cmd) error {
			v, err := c.OneOf(c.Args[0], "on", "off", "double")
			if err != nil {
				return fmt.Errorf("HostnameLookups: parameter must be 'on', 'off', or 'double'")
			}
			if v != "off" {
				GlobalOf(c.Config).HostnameLookups = true
			}
			if c.Section != nil {
				dirOf(c).HostnameLookups = v
			} else {
				srv(c).HostnameLookups = v
			}
			return nil
		}),
		d("AccessFileName", config.Iterate, config.ServerVhost, "Name(s) of per-directory config files (default: .htaccess)", func(c *config.Cmd) error {
			srv(c).AccessFileName = c.Args
			return nil
		}),
	}
}

func limitPtr(field func(*ServerSettings) **int64, lo, hi int64) func(*config.Cmd) error {
	return func(c *config.Cmd) error {
		n, err := c.Int(c.Args[0], lo, hi)
		if err != nil {
			return err
		}
		*field(ServerOf(c.Server)) = &n
		return nil
	}
}

func listen(c *config.Cmd) error {
	hp, err := config.ParseHostPort(c.Args[0], true)
	if err != nil {
		return fmt.Errorf("Listen %s: %v", c.Args[0], err)
	}
	proto := "http"
	if hp.Port == 443 {
		proto = "https"
	}
	if len(c.Args) == 2 {
		if proto, err = c.OneOf(c.Args[1], "http", "https"); err != nil {
			return err
		}
	}
	g := GlobalOf(c.Config)
	// Apache treats "80" and "*:80" as the same address.
	same := func(a, b config.HostPort) bool {
		return a.Port == b.Port && strings.TrimPrefix(a.Host, "*") == strings.TrimPrefix(b.Host, "*")
	}
	for _, l := range g.Listeners {
		if same(l.Addr, hp) {
			return fmt.Errorf("Cannot define multiple Listeners on the same IP:port (%s was first defined at %s)", c.Args[0], l.Origin.Short())
		}
	}
	g.Listeners = append(g.Listeners, Listener{Addr: hp, Protocol: proto, Origin: c.Node.Origin})
	return nil
}

// logLevel handles "LogLevel level [module:level]...".
func logLevel(c *config.Cmd) error {
	level, modLevels := &ServerOf(c.Server).LogLevel, &ServerOf(c.Server).ModuleLogLevels
	if c.Section != nil { // per-directory LogLevel, as in Apache
		ds := dirOf(c)
		level, modLevels = &ds.LogLevel, &ds.ModuleLogLevels
	}
	for _, a := range c.Args {
		mod, lv, scoped := strings.Cut(a, ":")
		if !scoped {
			lv = a
		}
		ok := false
		for _, l := range logLevels {
			if strings.EqualFold(l, lv) {
				lv, ok = l, true
			}
		}
		if !ok {
			return fmt.Errorf("LogLevel requires level keyword: one of emerg/alert/crit/error/warn/notice/info/debug/trace1/.../trace8")
		}
		if !scoped {
			*level = lv
			continue
		}
		name := strings.TrimSuffix(mod, "_module")
		if phases.LookupModule(name+"_module") == nil {
			return fmt.Errorf("LogLevel: cannot find module %s", mod)
		}
		if *modLevels == nil {
			*modLevels = map[string]string{}
		}
		(*modLevels)[name] = lv
	}
	return nil
}
