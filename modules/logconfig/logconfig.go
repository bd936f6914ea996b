// Package logconfig is httpdg's log_config module (log_config_module,
// Apache's mod_log_config): access logs written with LogFormat's
// %-directives to files or piped commands.
//
// open_logs opens every CustomLog and TransferLog into plog (a restart
// reopens them) and log_transaction writes one line per request with a
// single write (BufferedLogs On gathers lines into 4 KB writes).
package logconfig

import (
	"fmt"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the log_config module's identifier.
const ModuleName = "log_config_module"

// CommonLogFormat is Apache's Common Log Format, the format of a
// TransferLog when no one-argument LogFormat set another.
const CommonLogFormat = `%h %l %u %t "%r" %>s %b`

// Builtin holds the nicknames every server knows without a LogFormat line,
// as Apache's default httpd.conf defines them. A LogFormat line may
// redefine them.
var Builtin = map[string]string{
	"common":   CommonLogFormat,
	"combined": `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`,
	"referer":  `%{Referer}i -> %U`,
	"agent":    `%{User-agent}i`,
}

// Global holds the process-wide log_config settings.
type Global struct {
	BufferedLogs bool
}

// Log is one CustomLog or TransferLog line.
type Log struct {
	Directive string // "CustomLog" or "TransferLog"
	// Target is the log file's absolute path, or the command for a piped
	// log (without its leading '|' or '||').
	Target string
	Pipe   bool
	// Shell is false for "||command" (run without a shell), true otherwise.
	Shell bool
	// Format is the format string in effect; Nickname is the name it was
	// given by, "" for an inline format or TransferLog's default.
	Format   string
	Nickname string
	// Items is Format parsed.
	Items []Item
	// The condition: EnvVar (negated by EnvNot) for "env=[!]var", Expr
	// for "expr=...".
	EnvVar string
	EnvNot bool
	Expr   string
	Origin *config.Origin
}

// ServerSettings holds the log_config settings of one server.
type ServerSettings struct {
	// Formats maps a lower-case nickname to its format, for the
	// LogFormat lines of this server.
	Formats map[string]string
	// DefaultFormat is set by a one-argument LogFormat; "" means the
	// Common Log Format (or, in a virtual host, the main server's).
	DefaultFormat string
	// Logs are the CustomLog and TransferLog lines, in config order.
	Logs []Log
}

// GlobalOf returns the process-wide log_config settings of cfg.
func GlobalOf(cfg *config.Config) *Global { return config.Global[Global](cfg, ModuleName) }

// ServerOf returns the log_config settings of server s.
func ServerOf(s *config.Server) *ServerSettings {
	return config.ServerConf[ServerSettings](s, ModuleName)
}

func init() {
	d := func(name string, form config.ArgForm, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Form: form, Contexts: ctx, Help: help, Handler: h, Built: true}
	}
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_log_config.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		d("LogFormat", config.Take12, config.ServerVhost, "a log format string and an optional nickname for it", logFormat),
		d("CustomLog", config.Take23, config.ServerVhost, `a file name or "|command", a format string or nickname, and an optional env=[!]var or expr= condition`, customLog),
		d("TransferLog", config.Take1, config.ServerVhost, `a file name or "|command" for an access log in the default format`, transferLog),
		d("BufferedLogs", config.Flag, config.ServerOnly, "On to buffer access log entries in memory before writing them", func(c *config.Cmd) error {
			GlobalOf(c.Config).BufferedLogs = c.Flag()
			return nil
		}),
	}})
}

// logFormat handles "LogFormat format|nickname [nickname]". A first
// argument without '%' names a format defined before, as Apache allows for
// the one-argument form.
func logFormat(c *config.Cmd) error {
	format, _, err := resolve(c, c.Args[0], "LogFormat")
	if err != nil {
		return err
	}
	ss := ServerOf(c.Server)
	if len(c.Args) == 1 {
		ss.DefaultFormat = format
		return nil
	}
	nick := c.Args[1]
	if strings.Contains(nick, "%") {
		return fmt.Errorf("LogFormat: the nickname '%s' contains '%%' (the format comes first, then the nickname)", nick)
	}
	if ss.Formats == nil {
		ss.Formats = map[string]string{}
	}
	ss.Formats[strings.ToLower(nick)] = format
	return nil
}

// resolve turns a format-or-nickname argument into a checked format string
// and its parsed items. Text without '%' must be a known nickname.
func resolve(c *config.Cmd, spec, directive string) (string, []Item, error) {
	format := spec
	if f, ok := lookupFormat(c, spec); ok {
		format = f
	} else if !strings.Contains(spec, "%") {
		return "", nil, fmt.Errorf("%s: unknown log format nickname %s", directive, spec)
	}
	items, err := ParseFormat(format)
	return format, items, err
}

// lookupFormat finds a nickname for server s: its own LogFormat lines, the
// main server's, then the built-in ones. Nicknames are case-insensitive, as
// Apache's table of them.
func lookupFormat(c *config.Cmd, nick string) (string, bool) {
	key := strings.ToLower(nick)
	if f, ok := ServerOf(c.Server).Formats[key]; ok {
		return f, true
	}
	if c.Server != c.Config.Main && c.Config.Main != nil {
		if f, ok := ServerOf(c.Config.Main).Formats[key]; ok {
			return f, true
		}
	}
	f, ok := Builtin[key]
	return f, ok
}

// customLog handles "CustomLog file|"|pipe" format|nickname [condition]".
func customLog(c *config.Cmd) error {
	l, err := target(c, c.Args[0])
	if err != nil {
		return err
	}
	spec := c.Args[1]
	if l.Format, l.Items, err = resolve(c, spec, "CustomLog"); err != nil {
		return err
	}
	if l.Format != spec {
		l.Nickname = spec
	}
	if len(c.Args) == 3 {
		cond := c.Args[2]
		switch {
		case len(cond) >= 4 && strings.EqualFold(cond[:4], "env="):
			v := cond[4:]
			if strings.HasPrefix(v, "!") {
				l.EnvNot, v = true, v[1:]
			}
			if v == "" {
				return fmt.Errorf("CustomLog: missing environment variable name")
			}
			l.EnvVar = v
		case len(cond) >= 5 && strings.EqualFold(cond[:5], "expr="):
			if cond[5:] == "" {
				return fmt.Errorf("CustomLog: missing condition")
			}
			l.Expr = cond[5:]
		default:
			return fmt.Errorf("CustomLog: error in condition clause '%s' (write env=[!]variable or expr=expression)", cond)
		}
	}
	ServerOf(c.Server).Logs = append(ServerOf(c.Server).Logs, l)
	return nil
}

// transferLog handles "TransferLog file|"|pipe"": the server's default
// format, else the main server's, else the Common Log Format.
func transferLog(c *config.Cmd) error {
	l, err := target(c, c.Args[0])
	if err != nil {
		return err
	}
	l.Format = ServerOf(c.Server).DefaultFormat
	if l.Format == "" && c.Config.Main != nil {
		l.Format = ServerOf(c.Config.Main).DefaultFormat
	}
	if l.Format == "" {
		l.Format = CommonLogFormat
	}
	if l.Items, err = ParseFormat(l.Format); err != nil {
		return err
	}
	ServerOf(c.Server).Logs = append(ServerOf(c.Server).Logs, l)
	return nil
}

// target parses a log destination: a file relative to ServerRoot, or
// "|command", "|$command" (through a shell) or "||command" (without one).
func target(c *config.Cmd, arg string) (Log, error) {
	l := Log{Directive: c.Directive.Name, Origin: c.Node.Origin}
	name := c.Directive.Name
	if cmd, ok := strings.CutPrefix(arg, "|"); ok {
		l.Pipe, l.Shell = true, true
		if rest, ok := strings.CutPrefix(cmd, "|"); ok {
			cmd, l.Shell = rest, false
		} else {
			cmd = strings.TrimPrefix(cmd, "$")
		}
		l.Target = strings.TrimSpace(cmd)
		if l.Target == "" {
			return l, fmt.Errorf("%s: missing command after '|'", name)
		}
		return l, nil
	}
	if strings.TrimSpace(arg) == "" {
		return l, fmt.Errorf("Invalid %s filename", name)
	}
	l.Target = c.Path(arg)
	return l, nil
}
