package logconfig_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/logconfig"
	"github.com/httpdg/httpdg/phases/phasestest"
)

// allDirectives uses every %-directive mod_log_config documents.
const allDirectives = `%% %a %{c}a %A %B %b %{Foo}C %D %{HOME}e %f %h %{c}h %H %{User-Agent}i %k %l %L %m %{note}n ` +
	`%{Location}o %p %{canonical}p %{local}p %{remote}p %P %{pid}P %{tid}P %{hextid}P %q %r %R %s %>s %<s ` +
	`%t %{%d/%b/%Y:%H:%M:%S %z}t %{begin:msec}t %T %{ms}T %{us}T %{s}T %u %U %>U %v %V %X %I %O %S %^FB ` +
	`%{SSL_PROTOCOL}x %{version}c %{Trailer}^ti %{Trailer}^to %400,501{User-agent}i %!200,304,302{Referer}i \n\t`

func TestValid(t *testing.T) {
	cases := []struct {
		name  string
		conf  string
		check func(t *testing.T, cfg *config.Config)
	}{
		{"Apache's default httpd.conf", `LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined
LogFormat "%h %l %u %t \"%r\" %>s %b" common
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %I %O" combinedio
CustomLog "logs/access_log" common
CustomLog logs/access_log.combined combined
`, func(t *testing.T, cfg *config.Config) {
			ss := logconfig.ServerOf(cfg.Main)
			if ss.Formats["combined"] != logconfig.Builtin["combined"] || ss.Formats["common"] != logconfig.Builtin["common"] {
				t.Errorf("the built-in nicknames differ from Apache's httpd.conf: %q", ss.Formats)
			}
			if len(ss.Logs) != 2 {
				t.Fatalf("got %d logs", len(ss.Logs))
			}
			l := ss.Logs[0]
			if l.Directive != "CustomLog" || l.Target != cfg.ServerRoot+"/logs/access_log" || l.Pipe || l.Nickname != "common" || l.Format != logconfig.CommonLogFormat {
				t.Errorf("log 0 = %+v", l)
			}
			if len(l.Items) != 13 || l.Items[0].Directive != "h" || l.Items[1].Literal != " " {
				t.Errorf("items = %+v", l.Items)
			}
		}},
		{"every directive", "LogFormat \"" + strings.ReplaceAll(allDirectives, `\`, `\\`) + "\" all\nCustomLog logs/all all\n", func(t *testing.T, cfg *config.Config) {
			l := logconfig.ServerOf(cfg.Main).Logs[0]
			if l.Format != allDirectives {
				t.Errorf("format = %q", l.Format)
			}
			var cond *logconfig.Item
			for i := range l.Items {
				if l.Items[i].Arg == "Referer" {
					cond = &l.Items[i]
				}
			}
			if cond == nil || !cond.Negate || fmt.Sprint(cond.Statuses) != "[200 304 302]" || cond.Directive != "i" {
				t.Errorf("conditional item = %+v", cond)
			}
			last := l.Items[len(l.Items)-1]
			if !strings.HasSuffix(last.Literal, "\n\t") {
				t.Errorf("escapes: last item %+v", last)
			}
		}},
		{"built-in nicknames", "CustomLog logs/a combined\nCustomLog logs/b Common\nCustomLog logs/r referer\nCustomLog logs/g agent\n", func(t *testing.T, cfg *config.Config) {
			for i, n := range []string{"combined", "common", "referer", "agent"} {
				l := logconfig.ServerOf(cfg.Main).Logs[i]
				if l.Format != logconfig.Builtin[n] {
					t.Errorf("log %d format %q", i, l.Format)
				}
			}
		}},
		{"inline format and conditions", `CustomLog "|/usr/bin/rotatelogs logs/x 86400" "%h %>s" env=!dontlog
CustomLog "||/bin/logger -t httpd" common expr=%{REQUEST_STATUS}=404
CustomLog "|$cat" common env=log
`, func(t *testing.T, cfg *config.Config) {
			ls := logconfig.ServerOf(cfg.Main).Logs
			if l := ls[0]; !l.Pipe || !l.Shell || l.Target != "/usr/bin/rotatelogs logs/x 86400" || l.Format != "%h %>s" || l.Nickname != "" || l.EnvVar != "dontlog" || !l.EnvNot {
				t.Errorf("log 0 = %+v", l)
			}
			if l := ls[1]; !l.Pipe || l.Shell || l.Target != "/bin/logger -t httpd" || l.Expr != "%{REQUEST_STATUS}=404" {
				t.Errorf("log 1 = %+v", l)
			}
			if l := ls[2]; l.Target != "cat" || !l.Shell || l.EnvVar != "log" || l.EnvNot {
				t.Errorf("log 2 = %+v", l)
			}
		}},
		{"TransferLog", "TransferLog logs/a\nLogFormat \"%h %U\"\nTransferLog logs/b\nLogFormat combined\nTransferLog logs/c\n<VirtualHost *:80>\nTransferLog logs/v\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config) {
			ls := logconfig.ServerOf(cfg.Main).Logs
			if ls[0].Format != logconfig.CommonLogFormat || ls[1].Format != "%h %U" || ls[2].Format != logconfig.Builtin["combined"] || ls[0].Directive != "TransferLog" {
				t.Errorf("logs = %+v", ls)
			}
			if v := logconfig.ServerOf(cfg.Vhosts[0]).Logs[0]; v.Format != logconfig.Builtin["combined"] {
				t.Errorf("vhost TransferLog format %q", v.Format)
			}
		}},
		{"VirtualHost sees main nicknames", "LogFormat \"%v %h\" vcommon\n<VirtualHost *:80>\nLogFormat \"%h\" mine\nCustomLog logs/v vcommon\nCustomLog logs/m mine\n</VirtualHost>\n", func(t *testing.T, cfg *config.Config) {
			ls := logconfig.ServerOf(cfg.Vhosts[0]).Logs
			if ls[0].Format != "%v %h" || ls[1].Format != "%h" {
				t.Errorf("logs = %+v", ls)
			}
			if _, ok := logconfig.ServerOf(cfg.Main).Formats["mine"]; ok {
				t.Errorf("a vhost nickname leaked into the main server")
			}
		}},
		{"redefined built-in", "LogFormat \"%h\" combined\nCustomLog logs/a combined\n", func(t *testing.T, cfg *config.Config) {
			if f := logconfig.ServerOf(cfg.Main).Logs[0].Format; f != "%h" {
				t.Errorf("format %q", f)
			}
		}},
		{"BufferedLogs", "BufferedLogs On\n", func(t *testing.T, cfg *config.Config) {
			if !logconfig.GlobalOf(cfg).BufferedLogs {
				t.Error("BufferedLogs not set")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := phasestest.MustLoad(t, tc.conf)
			tc.check(t, cfg)
		})
	}
}

func TestInvalid(t *testing.T) {
	cases := []struct {
		name string
		conf string
		line int
		want string
	}{
		{"unknown letter", "\nLogFormat \"%h %z\" x\n", 2, "Unrecognized LogFormat directive %z"},
		{"unknown letter with arg", "LogFormat \"%{foo}Q\"\n", 1, "Unrecognized LogFormat directive %Q"},
		{"unknown caret", "LogFormat \"%{x}^tx\"\n", 1, "Unrecognized LogFormat directive %^"},
		{"percent at end", "LogFormat \"%h %\" x\n", 1, "Ran off end of LogFormat parsing args to some directive"},
		{"unterminated brace", "LogFormat \"%{Referer i\" x\n", 1, "Ran off end of LogFormat parsing args"},
		{"header needs name", "LogFormat \"%i\" x\n", 1, "LogFormat: %i needs a name in braces"},
		{"bad T unit", "LogFormat \"%{hours}T\" x\n", 1, "the argument of %T must be one of s, ms, us"},
		{"bad p format", "LogFormat \"%{public}p\" x\n", 1, "the argument of %p must be one of canonical, local, remote"},
		{"bad P format", "LogFormat \"%{ppid}P\" x\n", 1, "the argument of %P must be one of pid, tid, hextid"},
		{"arg on no-arg letter", "LogFormat \"%{x}r\" x\n", 1, "LogFormat: %r takes no {argument}"},
		{"bad status condition", "LogFormat \"%40{Referer}i\" x\n", 1, "status condition '40' is not an HTTP status code"},
		{"nickname with percent", "LogFormat common \"%h %l\"\n", 1, "the nickname '%h %l' contains '%'"},
		{"one-arg unknown nickname", "LogFormat nosuch\n", 1, "LogFormat: unknown log format nickname nosuch"},
		{"LogFormat three args", "LogFormat \"%h\" a b\n", 1, "LogFormat takes 1-2 arguments"},
		{"LogFormat in Directory", "<Directory /x>\nLogFormat \"%h\" a\n</Directory>\n", 2, "LogFormat not allowed here"},
		{"CustomLog unknown nickname", "CustomLog logs/a combinedio\n", 1, "CustomLog: unknown log format nickname combinedio"},
		{"CustomLog nickname defined later", "CustomLog logs/a later\nLogFormat \"%h\" later\n", 1, "CustomLog: unknown log format nickname later"},
		{"CustomLog vhost nickname not in main", "<VirtualHost *:80>\nLogFormat \"%h\" v\n</VirtualHost>\nCustomLog logs/a v\n", 4, "unknown log format nickname v"},
		{"CustomLog bad inline format", "CustomLog logs/a \"%h %J\"\n", 1, "Unrecognized LogFormat directive %J"},
		{"CustomLog one arg", "CustomLog logs/a\n", 1, "CustomLog takes two or three arguments"},
		{"CustomLog bad condition", "CustomLog logs/a common if=x\n", 1, "CustomLog: error in condition clause 'if=x'"},
		{"CustomLog empty env", "CustomLog logs/a common env=\n", 1, "CustomLog: missing environment variable name"},
		{"CustomLog empty negated env", "CustomLog logs/a common env=!\n", 1, "CustomLog: missing environment variable name"},
		{"CustomLog empty expr", "CustomLog logs/a common expr=\n", 1, "CustomLog: missing condition"},
		{"CustomLog empty pipe", "CustomLog \"|\" common\n", 1, "CustomLog: missing command after '|'"},
		{"CustomLog empty file", "CustomLog \"\" common\n", 1, "Invalid CustomLog filename"},
		{"CustomLog in Location", "<Location /x>\nCustomLog logs/a common\n</Location>\n", 2, "CustomLog not allowed here"},
		{"TransferLog two args", "TransferLog logs/a common\n", 1, "TransferLog takes one argument"},
		{"BufferedLogs bad", "BufferedLogs yes\n", 1, "BufferedLogs must be On or Off"},
		{"BufferedLogs in vhost", "<VirtualHost *:80>\nBufferedLogs On\n</VirtualHost>\n", 2, "BufferedLogs cannot occur within <VirtualHost> section"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			phasestest.WantError(t, tc.conf, tc.line, tc.want)
		})
	}
}
