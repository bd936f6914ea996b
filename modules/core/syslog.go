package core

import (
	"io"
	"log/syslog"
	"strings"
)

// syslogWriter opens "syslog[:facility]" (Apache's default facility local7).
func syslogWriter(target string) (io.WriteCloser, error) {
	facility := syslog.LOG_LOCAL7
	if _, name, ok := strings.Cut(target, ":"); ok {
		facilities := map[string]syslog.Priority{"kern": syslog.LOG_KERN, "user": syslog.LOG_USER, "mail": syslog.LOG_MAIL,
			"daemon": syslog.LOG_DAEMON, "auth": syslog.LOG_AUTH, "syslog": syslog.LOG_SYSLOG, "local0": syslog.LOG_LOCAL0,
			"local1": syslog.LOG_LOCAL1, "local2": syslog.LOG_LOCAL2, "local3": syslog.LOG_LOCAL3, "local4": syslog.LOG_LOCAL4,
			"local5": syslog.LOG_LOCAL5, "local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7}
		if f, ok := facilities[strings.ToLower(name)]; ok {
			facility = f
		}
	}
	return syslog.New(facility|syslog.LOG_NOTICE, "httpdg")
}
