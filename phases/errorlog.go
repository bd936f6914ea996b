package phases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// LogLevels are Apache's error-log levels, most severe first.
var LogLevels = []string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
	"trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8"}

func levelIndex(name string) int {
	for i, l := range LogLevels {
		if strings.EqualFold(l, name) {
			return i
		}
	}
	return -1
}

// ErrorLog is the server's error log: zerolog events rendered in Apache's
// layout ("[time] [module:level] [pid N:tid N] message") or as JSON lines.
// A level applies to all modules unless a module has its own (LogLevel
// warn ssl:info).
type ErrorLog struct {
	zl           zerolog.Logger
	level        int
	moduleLevels map[string]int
	closer       io.Closer
	client       string // "ip:port" of the request a line is about (WithClient)
}

// ErrorLogOptions configure NewErrorLog.
type ErrorLogOptions struct {
	Format       string            // "apache" (default) or "json"
	Level        string            // default "warn"
	ModuleLevels map[string]string // module (without _module) → level
	Closer       io.Closer         // closed by Close (the log file)
}

// NewErrorLog returns an error log writing to w.
func NewErrorLog(w io.Writer, o ErrorLogOptions) *ErrorLog {
	if o.Format != "json" {
		w = &apacheWriter{out: w}
	}
	l := &ErrorLog{
		zl:     zerolog.New(w),
		level:  levelIndex("warn"),
		closer: o.Closer,
	}
	if i := levelIndex(o.Level); i >= 0 {
		l.level = i
	}
	for m, lv := range o.ModuleLevels {
		if i := levelIndex(lv); i >= 0 {
			if l.moduleLevels == nil {
				l.moduleLevels = map[string]int{}
			}
			l.moduleLevels[m] = i
		}
	}
	return l
}

// StderrLog is the log used before open_logs has opened the configured one.
func StderrLog() *ErrorLog { return NewErrorLog(os.Stderr, ErrorLogOptions{Level: "notice"}) }

// Enabled reports whether a message of level from module would be written.
// As in Apache, notice messages (start, restart, stop) are always written.
func (l *ErrorLog) Enabled(module, level string) bool {
	if strings.EqualFold(level, "notice") {
		return true
	}
	max := l.level
	if m, ok := l.moduleLevels[strings.TrimSuffix(module, "_module")]; ok {
		max = m
	}
	i := levelIndex(level)
	return i >= 0 && i <= max
}

// WithClient returns the log for messages about a client's request: each
// line carries "[client ip:port]" as Apache's do (what fail2ban and
// similar tools match). It shares l's output and levels.
func (l *ErrorLog) WithClient(client string) *ErrorLog {
	if l == nil || client == "" {
		return l
	}
	c := *l
	c.client, c.closer = client, nil
	return &c
}

// WithLevels returns the log with another level and module levels (a
// per-directory LogLevel): level "" keeps l's, moduleLevels are added to
// l's. It shares l's output.
func (l *ErrorLog) WithLevels(level string, moduleLevels map[string]string) *ErrorLog {
	if l == nil || level == "" && len(moduleLevels) == 0 {
		return l
	}
	c := *l
	c.closer = nil
	if i := levelIndex(level); i >= 0 {
		c.level = i
	}
	if len(moduleLevels) > 0 {
		c.moduleLevels = make(map[string]int, len(l.moduleLevels)+len(moduleLevels))
		for m, i := range l.moduleLevels {
			c.moduleLevels[m] = i
		}
		for m, lv := range moduleLevels {
			if i := levelIndex(lv); i >= 0 {
				c.moduleLevels[m] = i
			}
		}
	}
	return &c
}

// Log writes one message. module is a short module name ("core", "lua").
func (l *ErrorLog) Log(module, level, format string, args ...any) {
	if l == nil || !l.Enabled(module, level) {
		return
	}
	ev := l.zl.Log().
		Str("time", time.Now().Format("2006-01-02T15:04:05.000000Z07:00")).
		Str("module", strings.TrimSuffix(module, "_module")).
		Str("level", strings.ToLower(level)).
		Int("pid", os.Getpid()).
		Int("tid", unix.Gettid())
	if l.client != "" {
		ev = ev.Str("client", l.client)
	}
	ev.Msg(fmt.Sprintf(format, args...))
}

// Error, Warn, Notice, Info and Debug log at their level.
func (l *ErrorLog) Error(module, format string, args ...any) { l.Log(module, "error", format, args...) }
func (l *ErrorLog) Warn(module, format string, args ...any)  { l.Log(module, "warn", format, args...) }
func (l *ErrorLog) Notice(module, format string, args ...any) {
	l.Log(module, "notice", format, args...)
}
func (l *ErrorLog) Info(module, format string, args ...any)  { l.Log(module, "info", format, args...) }
func (l *ErrorLog) Debug(module, format string, args ...any) { l.Log(module, "debug", format, args...) }

// Close closes the underlying file, if the log owns one.
func (l *ErrorLog) Close() error {
	if l == nil || l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

// apacheWriter renders zerolog's JSON events in Apache's error-log layout.
type apacheWriter struct {
	mu  sync.Mutex
	out io.Writer
}

func (a *apacheWriter) Write(p []byte) (int, error) {
	var ev struct {
		Time    string `json:"time"`
		Module  string `json:"module"`
		Level   string `json:"level"`
		Pid     int    `json:"pid"`
		Tid     int    `json:"tid"`
		Client  string `json:"client"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(p, &ev); err != nil {
		return 0, err
	}
	t, err := time.Parse("2006-01-02T15:04:05.000000Z07:00", ev.Time)
	if err != nil {
		t = time.Now()
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "[%s] [%s:%s] [pid %d:tid %d] ", t.Format("Mon Jan 02 15:04:05.000000 2006"), ev.Module, ev.Level, ev.Pid, ev.Tid)
	if ev.Client != "" {
		fmt.Fprintf(&b, "[client %s] ", ev.Client)
	}
	b.WriteString(ev.Message)
	b.WriteByte('\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.out.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
