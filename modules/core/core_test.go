package core_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// errCase is a config that must fail with msg on line of conf/httpd.conf.
type errCase struct {
	name string
	conf string
	msg  string
	line int
}

func runErrors(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, root, err := phasestest.Load(t, map[string]string{"conf/httpd.conf": tc.conf})
			if err == nil {
				t.Fatalf("no error; want %q", tc.msg)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.msg)
			}
			where := fmt.Sprintf("line %d of %s", tc.line, filepath.Join(root, "conf/httpd.conf"))
			if !strings.Contains(err.Error(), where) {
				t.Errorf("error %q\ndoes not name %q", err, where)
			}
		})
	}
}

// okCase is a config that must load; check inspects the result.
type okCase struct {
	name  string
	conf  string
	check func(t *testing.T, cfg *config.Config, root string)
}

func runOK(t *testing.T, cases []okCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, root, err := phasestest.Load(t, map[string]string{"conf/httpd.conf": tc.conf})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg, root)
		})
	}
}

func TestListen(t *testing.T) {
	runOK(t, []okCase{
		{"forms", "Listen 80\nListen 127.0.0.1:8080\nListen [::1]:8443 https\nListen 443\nListen 0.0.0.0:8000 HTTP\nListen *:9000\n", func(t *testing.T, cfg *config.Config, _ string) {
			ls := core.GlobalOf(cfg).Listeners
			want := []struct {
				host, proto string
				port        int
				line        int
			}{
				{"", "http", 80, 1},
				{"127.0.0.1", "http", 8080, 2},
				{"::1", "https", 8443, 3},
				{"", "https", 443, 4},
				{"0.0.0.0", "http", 8000, 5},
				{"*", "http", 9000, 6},
			}
			if len(ls) != len(want) {
				t.Fatalf("got %d listeners: %+v", len(ls), ls)
			}
			for i, w := range want {
				l := ls[i]
				if l.Addr.Host != w.host || l.Addr.Port != w.port || l.Protocol != w.proto || l.Origin.Line != w.line {
					t.Errorf("listener %d = %+v (line %d), want %+v", i, l, l.Origin.Line, w)
				}
			}
		}},
		{"443 can be plain http", "Listen 443 http\n", func(t *testing.T, cfg *config.Config, _ string) {
			if p := core.GlobalOf(cfg).Listeners[0].Protocol; p != "http" {
				t.Errorf("protocol %q", p)
			}
		}},
	})
	runErrors(t, []errCase{
		{"duplicate", "Listen 80\nListen 8080\nListen 80\n", "Cannot define multiple Listeners on the same IP:port", 3},
		{"duplicate with *", "Listen 80\nListen *:80\n", "Cannot define multiple Listeners on the same IP:port", 2},
		{"duplicate ip", "Listen 10.0.0.1:80\nListen 10.0.0.1:80 http\n", "Cannot define multiple Listeners on the same IP:port", 2},
		{"missing port", "Listen 127.0.0.1\n", "Port must be specified", 1},
		{"bad port", "\nListen 99999\n", "Invalid port '99999'", 2},
		{"port zero", "Listen 0\n", "Invalid port '0'", 1},
		{"non-numeric port", "Listen 127.0.0.1:http\n", "Invalid port 'http'", 1},
		{"v6 without brackets", "Listen ::1:80\n", "an IPv6 address must be written in brackets", 1},
		{"bad protocol", "Listen 80 gopher\n", "Listen: 'gopher' must be one of http, https", 1},
		{"no args", "Listen\n", "Listen takes 1-2 arguments", 1},
		{"three args", "Listen 80 http x\n", "Listen takes 1-2 arguments", 1},
		{"in VirtualHost", "<VirtualHost *:80>\nListen 80\n</VirtualHost>\n", "Listen cannot occur within <VirtualHost> section", 2},
		{"in Directory", "<Directory /x>\n\nListen 80\n</Directory>\n", "Listen not allowed here", 3},
		{"in Location", "<Location />\nListen 80\n</Location>\n", "Listen not allowed here", 2},
	})
}

func TestServerNames(t *testing.T) {
	runOK(t, []okCase{
		{"main and vhost", "ServerName www.example.com:80\nServerAdmin root@example.com\n<VirtualHost *:80>\nServerName a.example.com\nServerAlias b.example.com *.c.example.com\nServerAlias d.example.com\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			m, v := core.ServerOf(cfg.Main), core.ServerOf(cfg.Vhosts[0])
			if m.ServerName != "www.example.com:80" || m.ServerAdmin != "root@example.com" || len(m.ServerAliases) != 0 {
				t.Errorf("main = %+v", m)
			}
			if v.ServerName != "a.example.com" || strings.Join(v.ServerAliases, " ") != "b.example.com *.c.example.com d.example.com" {
				t.Errorf("vhost = %+v", v)
			}
			if v.ServerAdmin != "" {
				t.Errorf("vhost ServerAdmin leaked: %q", v.ServerAdmin)
			}
		}},
		{"scheme", "ServerName https://www.example.com\n", func(t *testing.T, cfg *config.Config, _ string) {
			if n := core.ServerOf(cfg.Main).ServerName; n != "https://www.example.com" {
				t.Errorf("ServerName = %q", n)
			}
		}},
	})
	runErrors(t, []errCase{
		{"ServerAlias in main", "ServerName x\nServerAlias y\n", "ServerAlias not allowed here", 2},
		{"ServerAlias in Directory", "<VirtualHost *:80>\n<Directory /x>\nServerAlias y\n</Directory>\n</VirtualHost>\n", "ServerAlias not allowed here", 3},
		{"ServerAlias no args", "<VirtualHost *:80>\nServerAlias\n</VirtualHost>\n", "ServerAlias requires at least one argument", 2},
		{"ServerName path", "ServerName www.example.com/x\n", "ServerName: 'www.example.com/x' is not a host name", 1},
		{"ServerName two args", "ServerName a b\n", "ServerName takes one argument, The hostname and port of the server", 1},
		{"ServerName in Location", "<Location />\nServerName a\n</Location>\n", "ServerName not allowed here", 2},
	})
}

func TestServerWidePaths(t *testing.T) {
	runOK(t, []okCase{
		{"relative", "DocumentRoot htdocs\nPidFile logs/x.pid\nControlSocket run/ctl.sock\nErrorLog logs/err\n", func(t *testing.T, cfg *config.Config, root string) {
			g, m := core.GlobalOf(cfg), core.ServerOf(cfg.Main)
			if g.PidFile != filepath.Join(root, "logs/x.pid") || g.ControlSocket != filepath.Join(root, "run/ctl.sock") {
				t.Errorf("global = %+v", g)
			}
			if m.DocumentRoot != filepath.Join(root, "htdocs") || m.ErrorLog != filepath.Join(root, "logs/err") {
				t.Errorf("server = %+v", m)
			}
			// htdocs does not exist: a warning, not an error.
			if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, "DocumentRoot ["+filepath.Join(root, "htdocs")+"] does not exist") || cfg.Warnings[0].Origin.Line != 1 {
				t.Errorf("warnings = %v", cfg.Warnings)
			}
		}},
		{"absolute", "DocumentRoot /\nPidFile /run/httpdg.pid\nControlSocket /run/x//y.sock\nErrorLog /var/log/e.log\n", func(t *testing.T, cfg *config.Config, _ string) {
			g, m := core.GlobalOf(cfg), core.ServerOf(cfg.Main)
			if g.PidFile != "/run/httpdg.pid" || g.ControlSocket != "/run/x/y.sock" || m.DocumentRoot != "/" || m.ErrorLog != "/var/log/e.log" {
				t.Errorf("got %+v %+v", g, m)
			}
			if len(cfg.Warnings) != 0 {
				t.Errorf("warnings = %v", cfg.Warnings)
			}
		}},
		{"ErrorLog pipe and syslog", "ErrorLog \"|/usr/bin/rotatelogs logs/e 86400\"\n<VirtualHost *:80>\nErrorLog syslog:local1\n</VirtualHost>\n<VirtualHost *:81>\nErrorLog syslog\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if e := core.ServerOf(cfg.Main).ErrorLog; e != "|/usr/bin/rotatelogs logs/e 86400" {
				t.Errorf("main ErrorLog = %q", e)
			}
			if e := core.ServerOf(cfg.Vhosts[0]).ErrorLog; e != "syslog:local1" {
				t.Errorf("vhost ErrorLog = %q", e)
			}
			if e := core.ServerOf(cfg.Vhosts[1]).ErrorLog; e != "syslog" {
				t.Errorf("vhost ErrorLog = %q", e)
			}
		}},
		{"DocumentRoot in vhost", "<VirtualHost *:80>\nDocumentRoot /\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if core.ServerOf(cfg.Main).DocumentRoot != "" || core.ServerOf(cfg.Vhosts[0]).DocumentRoot != "/" {
				t.Errorf("main %q vhost %q", core.ServerOf(cfg.Main).DocumentRoot, core.ServerOf(cfg.Vhosts[0]).DocumentRoot)
			}
		}},
		{"User Group GracefulShutdownTimeout", "User www-data\nGroup #33\nGracefulShutdownTimeout 30\n", func(t *testing.T, cfg *config.Config, _ string) {
			g := core.GlobalOf(cfg)
			if g.User != "www-data" || g.Group != "#33" || g.GracefulShutdownTimeout != 30*time.Second {
				t.Errorf("global = %+v", g)
			}
		}},
	})
	runErrors(t, []errCase{
		{"PidFile in vhost", "<VirtualHost *:80>\nPidFile x\n</VirtualHost>\n", "PidFile cannot occur within <VirtualHost> section", 2},
		{"User in vhost", "<VirtualHost *:80>\nUser x\n</VirtualHost>\n", "User cannot occur within <VirtualHost> section", 2},
		{"Group in Directory", "<Directory />\nGroup x\n</Directory>\n", "Group not allowed here", 2},
		{"ControlSocket in vhost", "<VirtualHost *:80>\nControlSocket x\n</VirtualHost>\n", "ControlSocket cannot occur within <VirtualHost> section", 2},
		{"GracefulShutdownTimeout bad", "GracefulShutdownTimeout soon\n", "GracefulShutdownTimeout: 'soon' is not a time in seconds", 1},
		{"GracefulShutdownTimeout negative", "GracefulShutdownTimeout -1\n", "GracefulShutdownTimeout: a timeout cannot be negative", 1},
		{"GracefulShutdownTimeout in vhost", "<VirtualHost *:80>\nGracefulShutdownTimeout 1\n</VirtualHost>\n", "GracefulShutdownTimeout cannot occur within <VirtualHost> section", 2},
		{"DocumentRoot in Directory", "<Directory />\nDocumentRoot /\n</Directory>\n", "DocumentRoot not allowed here", 2},
		{"DocumentRoot no args", "DocumentRoot\n", "DocumentRoot takes one argument, Root directory of the document tree", 1},
		{"ErrorLog in Location", "<Location />\nErrorLog x\n</Location>\n", "ErrorLog not allowed here", 2},
		{"PidFile two args", "PidFile a b\n", "PidFile takes one argument", 1},
	})
}

func TestLogging(t *testing.T) {
	runOK(t, []okCase{
		{"levels", "LogLevel warn\n<VirtualHost *:80>\nLogLevel INFO core:trace3 http_module:debug\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			m, v := core.ServerOf(cfg.Main), core.ServerOf(cfg.Vhosts[0])
			if m.LogLevel != "warn" || len(m.ModuleLogLevels) != 0 {
				t.Errorf("main = %q %v", m.LogLevel, m.ModuleLogLevels)
			}
			if v.LogLevel != "info" || v.ModuleLogLevels["core"] != "trace3" || v.ModuleLogLevels["http"] != "debug" {
				t.Errorf("vhost = %q %v", v.LogLevel, v.ModuleLogLevels)
			}
		}},
		{"every level", "LogLevel emerg alert crit error warn notice info debug trace1 trace2 trace3 trace4 trace5 trace6 trace7 trace8\n", func(t *testing.T, cfg *config.Config, _ string) {
			if l := core.ServerOf(cfg.Main).LogLevel; l != "trace8" {
				t.Errorf("LogLevel = %q", l)
			}
		}},
		{"per directory", "LogLevel warn\n<Directory /srv>\nLogLevel debug so:info\n</Directory>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if l := core.ServerOf(cfg.Main).LogLevel; l != "warn" || core.ServerOf(cfg.Main).ModuleLogLevels != nil {
				t.Errorf("a <Directory> LogLevel changed the server's: %q", l)
			}
			ds := dirOf(cfg.Main.Sections[0])
			if ds.LogLevel != "debug" || ds.ModuleLogLevels["so"] != "info" {
				t.Errorf("section = %q %v", ds.LogLevel, ds.ModuleLogLevels)
			}
		}},
		{"ErrorLogFormat", "ErrorLogFormat JSON\n<VirtualHost *:80>\nErrorLogFormat apache\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if f := core.ServerOf(cfg.Main).ErrorLogFormat; f != "json" {
				t.Errorf("main = %q", f)
			}
			if f := core.ServerOf(cfg.Vhosts[0]).ErrorLogFormat; f != "apache" {
				t.Errorf("vhost = %q", f)
			}
		}},
	})
	runErrors(t, []errCase{
		{"bad level", "LogLevel loud\n", "LogLevel requires level keyword: one of emerg/alert/crit/error/warn/notice/info/debug/trace1/.../trace8", 1},
		{"trace9", "LogLevel trace9\n", "LogLevel requires level keyword", 1},
		{"bad module level", "LogLevel warn core:loud\n", "LogLevel requires level keyword", 1},
		{"empty module level", "LogLevel core:\n", "LogLevel requires level keyword", 1},
		{"unknown module", "\n\nLogLevel warn nosuch:debug\n", "LogLevel: cannot find module nosuch", 3},
		{"no args", "LogLevel\n", "LogLevel requires at least one argument, Level of verbosity in error logging", 1},
		{"in htaccess-only place? Files ok, but not in .htaccess", "<VirtualHost *:80>\n<Files x>\nLogLevel nope\n</Files>\n</VirtualHost>\n", "LogLevel requires level keyword", 3},
		{"ErrorLogFormat percent", "ErrorLogFormat \"[%t] %M\"\n", "ErrorLogFormat: httpdg supports the formats apache and json", 1},
		{"ErrorLogFormat connection", "ErrorLogFormat connection \"x\"\n", "ErrorLogFormat: httpdg supports the formats apache and json", 1},
		{"ErrorLogFormat unknown", "ErrorLogFormat xml\n", "ErrorLogFormat: 'xml' must be one of apache, json", 1},
		{"ErrorLogFormat in Directory", "<Directory />\nErrorLogFormat json\n</Directory>\n", "ErrorLogFormat not allowed here", 2},
	})
}

func TestConnectionSettings(t *testing.T) {
	runOK(t, []okCase{
		{"main and vhost", strings.Join([]string{
			"Timeout 60",
			"KeepAlive Off",
			"KeepAliveTimeout 5",
			"MaxKeepAliveRequests 0",
			"LimitRequestFields 0",
			"LimitRequestFieldSize 8190",
			"LimitRequestLine 65536",
			"<VirtualHost *:80>",
			"Timeout 500ms",
			"KeepAlive on",
			"KeepAliveTimeout 2m",
			"MaxKeepAliveRequests 2147483647",
			"LimitRequestFields 32767",
			"</VirtualHost>",
		}, "\n"), func(t *testing.T, cfg *config.Config, _ string) {
			m, v := core.ServerOf(cfg.Main), core.ServerOf(cfg.Vhosts[0])
			if m.Timeout != time.Minute || m.KeepAlive == nil || *m.KeepAlive || m.KeepAliveTimeout != 5*time.Second || m.MaxKeepAliveRequests != 0 {
				t.Errorf("main = %+v", m)
			}
			if m.LimitRequestFields == nil || *m.LimitRequestFields != 0 || *m.LimitRequestFieldSz != 8190 || *m.LimitRequestLine != 65536 {
				t.Errorf("main limits = %v %v %v", m.LimitRequestFields, m.LimitRequestFieldSz, m.LimitRequestLine)
			}
			if v.Timeout != 500*time.Millisecond || v.KeepAlive == nil || !*v.KeepAlive || v.KeepAliveTimeout != 2*time.Minute || v.MaxKeepAliveRequests != 1<<31-1 {
				t.Errorf("vhost = %+v", v)
			}
			if *v.LimitRequestFields != 32767 || v.LimitRequestFieldSz != nil || v.LimitRequestLine != nil {
				t.Errorf("vhost limits = %v %v %v", v.LimitRequestFields, v.LimitRequestFieldSz, v.LimitRequestLine)
			}
		}},
		{"unset", "ServerName x\n", func(t *testing.T, cfg *config.Config, _ string) {
			m := core.ServerOf(cfg.Main)
			if m.KeepAlive != nil || m.LimitRequestFields != nil || m.LimitRequestFieldSz != nil || m.LimitRequestLine != nil {
				t.Errorf("defaults not nil: %+v", m)
			}
		}},
	})
	runErrors(t, []errCase{
		{"Timeout words", "Timeout forever\n", "Timeout: 'forever' is not a time in seconds", 1},
		{"Timeout negative", "Timeout -5\n", "Timeout: a timeout cannot be negative", 1},
		{"Timeout in Directory", "<Directory />\nTimeout 5\n</Directory>\n", "Timeout not allowed here", 2},
		{"KeepAlive flag", "KeepAlive yes\n", "KeepAlive must be On or Off", 1},
		{"KeepAlive no arg", "KeepAlive\n", "KeepAlive must be On or Off", 1},
		{"KeepAliveTimeout bad", "KeepAliveTimeout x\n", "KeepAliveTimeout: 'x' is not a time in seconds", 1},
		{"MaxKeepAliveRequests negative", "MaxKeepAliveRequests -1\n", "MaxKeepAliveRequests: -1 is out of range (0 to 2147483647)", 1},
		{"MaxKeepAliveRequests words", "MaxKeepAliveRequests many\n", "MaxKeepAliveRequests: 'many' is not a whole number", 1},
		{"LimitRequestFields too big", "LimitRequestFields 32768\n", "LimitRequestFields: 32768 is out of range (0 to 32767)", 1},
		{"LimitRequestFields negative", "LimitRequestFields -1\n", "LimitRequestFields: -1 is out of range", 1},
		{"LimitRequestFieldSize too big", "LimitRequestFieldSize 65537\n", "LimitRequestFieldSize: 65537 is out of range (0 to 65536)", 1},
		{"LimitRequestLine words", "LimitRequestLine long\n", "LimitRequestLine: 'long' is not a whole number", 1},
		{"LimitRequestLine in Location", "<Location />\nLimitRequestLine 1\n</Location>\n", "LimitRequestLine not allowed here", 2},
		{"LimitRequestFields two args", "LimitRequestFields 1 2\n", "LimitRequestFields takes one argument", 1},
	})
}

func TestServerBehaviour(t *testing.T) {
	tokens := map[string]string{"Min": "Minimal", "minimal": "Minimal", "Major": "Major", "minor": "Minor", "Prod": "ProductOnly", "ProductOnly": "ProductOnly", "OS": "OS", "full": "Full"}
	var cases []okCase
	for in, want := range tokens {
		cases = append(cases, okCase{"ServerTokens " + in, "ServerTokens " + in + "\n", func(t *testing.T, cfg *config.Config, _ string) {
			if got := core.GlobalOf(cfg).ServerTokens; got != want {
				t.Errorf("ServerTokens %s = %q, want %q", in, got, want)
			}
		}})
	}
	cases = append(cases,
		okCase{"TraceEnable per server", "TraceEnable off\n<VirtualHost *:80>\nTraceEnable Extended\n</VirtualHost>\n<VirtualHost *:81>\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if v := core.ServerOf(cfg.Main).TraceEnable; v != "off" {
				t.Errorf("main = %q", v)
			}
			if v := core.ServerOf(cfg.Vhosts[0]).TraceEnable; v != "extended" {
				t.Errorf("vhost = %q", v)
			}
			if v := core.ServerOf(cfg.Vhosts[1]).TraceEnable; v != "" {
				t.Errorf("unset vhost = %q", v)
			}
		}},
		okCase{"Protocols", "Protocols h2 http/1.1\n<VirtualHost *:80>\nProtocols H2C\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if p := core.ServerOf(cfg.Main).Protocols; strings.Join(p, " ") != "h2 http/1.1" {
				t.Errorf("main = %q", p)
			}
			if p := core.ServerOf(cfg.Vhosts[0]).Protocols; strings.Join(p, " ") != "h2c" {
				t.Errorf("vhost = %q", p)
			}
		}},
		okCase{"HostnameLookups", "HostnameLookups Double\n<VirtualHost *:80>\nHostnameLookups on\n</VirtualHost>\n<Directory /srv>\nHostnameLookups off\n</Directory>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if v := core.ServerOf(cfg.Main).HostnameLookups; v != "double" {
				t.Errorf("main = %q (a <Directory> must not change it)", v)
			}
			if v := core.ServerOf(cfg.Vhosts[0]).HostnameLookups; v != "on" {
				t.Errorf("vhost = %q", v)
			}
			if v := dirOf(cfg.Main.Sections[0]).HostnameLookups; v != "off" {
				t.Errorf("section = %q", v)
			}
		}},
		okCase{"HttpProtocolOptions", "HttpProtocolOptions Strict Require1.0 LenientMethods\n<VirtualHost *:80>\nHttpProtocolOptions Unsafe Allow0.9\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if v := core.ServerOf(cfg.Main).Require10; v == nil || !*v {
				t.Errorf("main Require10 = %v", v)
			}
			if v := core.ServerOf(cfg.Vhosts[0]).Require10; v == nil || *v {
				t.Errorf("vhost Require10 = %v", v)
			}
		}},
		okCase{"AccessFileName", "AccessFileName .htaccess .acl\n<VirtualHost *:80>\nAccessFileName .x\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config, _ string) {
			if v := core.ServerOf(cfg.Main).AccessFileName; strings.Join(v, " ") != ".htaccess .acl" {
				t.Errorf("main = %q", v)
			}
			if v := core.ServerOf(cfg.Vhosts[0]).AccessFileName; strings.Join(v, " ") != ".x" {
				t.Errorf("vhost = %q", v)
			}
		}},
	)
	runOK(t, cases)
	runErrors(t, []errCase{
		{"ServerTokens unknown", "ServerTokens none\n", "ServerTokens takes 1 argument: 'Prod(uctOnly)', 'Major', 'Minor', 'Min(imal)', 'OS', or 'Full'", 1},
		{"ServerTokens in vhost", "<VirtualHost *:80>\nServerTokens Prod\n</VirtualHost>\n", "ServerTokens cannot occur within <VirtualHost> section", 2},
		{"HttpProtocolOptions bad", "HttpProtocolOptions Strict Require0.9\n", "HttpProtocolOptions accepts 'Unsafe' or 'Strict' (default), 'RegisteredMethods' or 'LenientMethods' (default), and 'Require1.0' or 'Allow0.9' (default)", 1},
		{"TraceEnable bad", "TraceEnable maybe\n", "TraceEnable must be one of 'on', 'off', or 'extended'", 1},
		{"TraceEnable in Directory", "<Directory />\nTraceEnable off\n</Directory>\n", "TraceEnable not allowed here", 2},
		{"Protocols unknown", "Protocols h3\n", "Protocols: 'h3' must be one of h2, h2c, http/1.1", 1},
		{"Protocols none", "Protocols\n", "Protocols requires at least one argument", 1},
		{"HostnameLookups bad", "HostnameLookups triple\n", "HostnameLookups: parameter must be 'on', 'off', or 'double'", 1},
		{"HostnameLookups in Files", "<Files x>\nHostnameLookups maybe\n</Files>\n", "HostnameLookups: parameter must be", 2},
		{"AccessFileName in Directory", "<Directory />\nAccessFileName .x\n</Directory>\n", "AccessFileName not allowed here", 2},
		{"AccessFileName none", "AccessFileName\n", "AccessFileName requires at least one argument", 1},
	})
}

// dirOf is the core settings of a section, as the package stores them.
func dirOf(sec *config.Section) *core.DirSettings {
	return config.SectionConf[core.DirSettings](sec, core.ModuleName)
}

// serverDirOf is a server's per-directory defaults (directives outside any
// section).
func serverDirOf(s *config.Server) *core.DirSettings {
	return config.ServerDirConf[core.DirSettings](s, core.ModuleName)
}
