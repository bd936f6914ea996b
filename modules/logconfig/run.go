package logconfig

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// logBufSize is mod_log_config's LOG_BUFSIZE: a buffered log (BufferedLogs
// On) writes when this much is pending.
const logBufSize = 4096

// requestTimeKey is the request pool's userdata holding the time the
// request was read (Apache's r->request_time, r.RequestTime), set in
// post_read_request for mod_headers.
const requestTimeKey = "log_config.request_time"

// generation is the access logs one config generation opened.
type generation struct {
	main *config.Server
	// logs maps a server to the logs its CustomLog/TransferLog lines
	// opened, in config order.
	logs map[*config.Server][]*openLog
}

// openLog is one opened CustomLog or TransferLog.
type openLog struct {
	conf *Log
	w    *logWriter
}

// logWriter writes whole lines: one write(2) per line, or with BufferedLogs
// one per logBufSize bytes.
type logWriter struct {
	mu       sync.Mutex
	out      io.WriteCloser
	buffered bool
	buf      []byte
}

func (w *logWriter) writeLine(line []byte) error {
	if !w.buffered {
		_, err := w.out.Write(line)
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf)+len(line) > logBufSize {
		if err := w.flushLocked(); err != nil {
			return err
		}
	}
	if len(line) > logBufSize {
		_, err := w.out.Write(line)
		return err
	}
	w.buf = append(w.buf, line...)
	return nil
}

func (w *logWriter) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.out.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *logWriter) close() error {
	w.mu.Lock()
	err := w.flushLocked()
	w.mu.Unlock()
	if cerr := w.out.Close(); err == nil {
		err = cerr
	}
	return err
}

// registerHooks adds log_config's hooks for one generation: open_logs opens
// every access log into plog (so a restart, which clears plog, reopens
// them and logrotate works), post_read_request notes the request time and
// log_transaction writes the lines.
func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	g := &generation{main: cfg.Main, logs: map[*config.Server][]*openLog{}}
	h.OpenLogs.Add(phases.Entry[phases.ServerHookFunc]{Fn: g.openLogs, Origin: ModuleName + " (Go)", Module: ModuleName, RerunInChild: true})
	h.Request.PostReadRequest.Add(phases.Entry[phases.RequestHookFunc]{Fn: noteRequestTime, Origin: ModuleName + " (Go)", Module: ModuleName, Order: phases.ReallyFirst, Replayable: true})
	h.Request.LogTransaction.Add(phases.Entry[phases.RequestHookFunc]{Fn: g.logTransaction, Origin: ModuleName + " (Go)", Module: ModuleName, Replayable: true})
	return nil
}

// noteRequestTime notes the time of a request the engine did not time
// (r.RequestTime zero) under requestTimeKey, for the modules that read it
// there (mod_headers' %t and %D), so they all see one time.
func noteRequestTime(r *phases.Request) (phases.Status, error) {
	if r.RequestTime.IsZero() && r.Pool != nil {
		if _, ok := r.Pool.Userdata(requestTimeKey); !ok {
			r.Pool.SetUserdata(requestTimeKey, time.Now())
		}
	}
	return phases.DECLINED, nil
}

// requestTime is when r was read: r.RequestTime, set by the engine when
// the request head arrived; else the time noted in post_read_request, or
// now when it was not (a request ended before that phase).
func requestTime(r *phases.Request) time.Time {
	if !r.RequestTime.IsZero() {
		return r.RequestTime
	}
	if r.Pool != nil {
		if v, ok := r.Pool.Userdata(requestTimeKey); ok {
			if t, ok := v.(time.Time); ok {
				return t
			}
		}
	}
	return time.Now()
}

func (g *generation) openLogs(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
	buffered := GlobalOf(s.Config).BufferedLogs
	servers := append([]*config.Server{s.Config.Main}, s.Config.Vhosts...)
	opened := map[string]*logWriter{}
	for _, srv := range servers {
		ls := ServerOf(srv).Logs
		for i := range ls {
			l := &ls[i]
			if l.Expr != "" && s.Log != nil {
				s.Log.Warn(ModuleName, "%s %s: expr= conditions are not supported by httpdg; every request is logged", l.Directive, l.Target)
			}
			key := l.Target
			if l.Pipe {
				key = "|" + key
			}
			w := opened[key]
			if w == nil || l.Pipe {
				out, err := openTarget(plog, s.Files, l)
				if err != nil {
					return err
				}
				w = &logWriter{out: out, buffered: buffered}
				plog.CleanupRegister(ModuleName+" "+l.Target, w.close)
				opened[key] = w
			}
			g.logs[srv] = append(g.logs[srv], &openLog{conf: l, w: w})
		}
	}
	return nil
}

// openTarget opens a log file (creating its directory) or starts a piped
// logger reading the log on its standard input. In a child both come from
// the master (files).
func openTarget(plog *phases.Pool, files *phases.Files, l *Log) (io.WriteCloser, error) {
	if l.Pipe {
		w, err := files.Open("pipe:"+l.Target, func() (*os.File, error) {
			var cmd *exec.Cmd
			if l.Shell {
				cmd = exec.Command("/bin/sh", "-c", l.Target)
			} else {
				f := strings.Fields(l.Target)
				cmd = exec.Command(f[0], f[1:]...)
			}
			return phases.StartPipedLogger(plog, ModuleName+" "+l.Target, cmd)
		})
		if err != nil {
			return nil, fmt.Errorf("%s: could not start piped log program '%s': %v", l.Directive, l.Target, err)
		}
		return w, nil
	}
	f, err := files.Open("file:"+l.Target, func() (*os.File, error) {
		if err := os.MkdirAll(filepath.Dir(l.Target), 0o755); err != nil {
			return nil, err
		}
		return os.OpenFile(l.Target, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	})
	if err != nil {
		return nil, fmt.Errorf("could not open transfer log file %s: %v", l.Target, err)
	}
	return f, nil
}

// logTransaction writes r to the logs of its virtual host, or to the main
// server's when the virtual host has none (mod_log_config's inheritance).
func (g *generation) logTransaction(r *phases.Request) (phases.Status, error) {
	logs := g.logs[r.Vhost]
	if r.Vhost == nil {
		logs = g.logs[g.main]
	} else if r.Vhost != g.main && len(ServerOf(r.Vhost).Logs) == 0 {
		logs = g.logs[g.main]
	}
	if len(logs) == 0 {
		return phases.OK, nil
	}
	lr := newLogRequest(r)
	for _, l := range logs {
		if l.conf.EnvVar != "" {
			_, set := r.SubprocessEnv[l.conf.EnvVar]
			if set == l.conf.EnvNot {
				continue
			}
		}
		line := lr.format(l.conf.Items)
		if err := l.w.writeLine(line); err != nil && r.Log() != nil {
			r.Log().Error(ModuleName, "(%v) writing to %s", err, l.conf.Target)
		}
	}
	return phases.OK, nil
}
