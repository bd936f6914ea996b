package mpm

import (
	"fmt"

	"github.com/httpdg/httpdg/config"
)

// Settings are the effective MPM settings of a config: its directives over
// the selected MPM's defaults, with Apache's adjustments applied.
type Settings struct {
	MPM string // prefork, worker or event

	StartServers      int // child processes started at startup
	MinSpareServers   int // prefork only (0 otherwise)
	MaxSpareServers   int // prefork only (0 otherwise)
	MaxRequestWorkers int // simultaneous connections (prefork: children)
	ServerLimit       int // upper bound of child processes
	// MaxChildren is the number of child processes MaxRequestWorkers needs
	// (Apache's ap_daemons_limit): MaxRequestWorkers / ThreadsPerChild.
	MaxChildren            int
	MaxConnectionsPerChild int // 0: no limit

	ThreadsPerChild int // worker threads per child; 1 for prefork
	ThreadLimit     int // upper bound of ThreadsPerChild; 1 for prefork
	MinSpareThreads int // worker/event only (0 otherwise)
	MaxSpareThreads int // worker/event only (0 otherwise)

	MaxMemPerChild           int64   // bytes; 0: no limit
	ListenBacklog            int     // listen(2) backlog
	AsyncRequestWorkerFactor float64 // event only (0 otherwise)

	// Warnings says what was adjusted, on the line of the directive
	// concerned (nil origin for a default).
	Warnings []config.Warning
}

// DefaultListenBacklog is Apache's DEFAULT_LISTENBACKLOG.
const DefaultListenBacklog = 511

// Defaults returns the defaults of mpm (SPEC §4, Apache 2.4's); an unknown
// name gets event's.
func Defaults(mpm string) Settings {
	if mpm == "prefork" {
		return Settings{
			MPM: mpm, StartServers: 5, MinSpareServers: 5, MaxSpareServers: 10,
			MaxRequestWorkers: 256, ServerLimit: 256, MaxChildren: 256,
			ThreadsPerChild: 1, ThreadLimit: 1, ListenBacklog: DefaultListenBacklog,
		}
	}
	s := Settings{
		MPM: mpm, StartServers: 3, MinSpareThreads: 75, MaxSpareThreads: 250,
		ThreadsPerChild: 25, ThreadLimit: 64, ServerLimit: 16, MaxRequestWorkers: 400, MaxChildren: 16,
		ListenBacklog: DefaultListenBacklog,
	}
	if mpm == "event" {
		s.AsyncRequestWorkerFactor = 2
	} else if mpm != "worker" {
		s.MPM = "event"
		s.AsyncRequestWorkerFactor = 2
	}
	return s
}

// SettingsOf returns the effective MPM settings of cfg for cfg.MPM:
// defaults filled in, directives that do not apply to the MPM ignored, and
// Apache's clamping rules applied (each adjustment is in Warnings).
func SettingsOf(cfg *config.Config) Settings {
	return Effective(cfg.MPM, ConfOf(cfg))
}

// Effective computes the settings of conf for mpm; see SettingsOf.
func Effective(mpm string, conf *Conf) Settings {
	s := Defaults(mpm)
	mpm = s.MPM
	bit := mpmBit[mpm]
	set := func(v *Value, dst *int, mpms int) {
		if v != nil && mpms&bit != 0 {
			*dst = int(v.N)
		}
	}
	set(conf.StartServers, &s.StartServers, allMPMs)
	set(conf.MinSpareServers, &s.MinSpareServers, prefork)
	set(conf.MaxSpareServers, &s.MaxSpareServers, prefork)
	set(conf.MaxRequestWorkers, &s.MaxRequestWorkers, allMPMs)
	set(conf.ServerLimit, &s.ServerLimit, allMPMs)
	set(conf.MaxConnectionsPerChild, &s.MaxConnectionsPerChild, allMPMs)
	set(conf.ThreadsPerChild, &s.ThreadsPerChild, threaded)
	set(conf.MinSpareThreads, &s.MinSpareThreads, threaded)
	set(conf.MaxSpareThreads, &s.MaxSpareThreads, threaded)
	set(conf.ThreadLimit, &s.ThreadLimit, threaded)
	set(conf.ListenBacklog, &s.ListenBacklog, allMPMs)
	if conf.MaxMemPerChild != nil {
		s.MaxMemPerChild = conf.MaxMemPerChild.N
	}
	if conf.AsyncRequestWorkerFactor != nil && mpm == "event" {
		s.AsyncRequestWorkerFactor = conf.AsyncRequestWorkerFactor.F
	}

	warn := func(v *Value, format string, args ...any) {
		w := config.Warning{Msg: fmt.Sprintf(format, args...)}
		if v != nil {
			w.Origin = v.Origin
		}
		s.Warnings = append(s.Warnings, w)
	}
	mrw := func() string { // the name the config used
		if conf.MaxRequestWorkers != nil {
			return conf.MaxRequestWorkers.As
		}
		return "MaxRequestWorkers"
	}
	// the directive an adjustment is reported on: the first that is set
	first := func(vs ...*Value) *Value {
		for _, v := range vs {
			if v != nil {
				return v
			}
		}
		return nil
	}

	if mpm == "prefork" { // prefork_check_config
		if s.MaxRequestWorkers > s.ServerLimit {
			warn(first(conf.MaxRequestWorkers, conf.ServerLimit),
				"%s of %d exceeds ServerLimit value of %d servers, decreasing %s to %d. To increase, please see the ServerLimit directive.",
				mrw(), s.MaxRequestWorkers, s.ServerLimit, mrw(), s.ServerLimit)
			s.MaxRequestWorkers = s.ServerLimit
		}
		s.MaxChildren = s.MaxRequestWorkers
		if s.MaxSpareServers < s.MinSpareServers+1 {
			warn(first(conf.MaxSpareServers, conf.MinSpareServers),
				"MaxSpareServers of %d is not above MinSpareServers of %d, increasing MaxSpareServers to %d",
				s.MaxSpareServers, s.MinSpareServers, s.MinSpareServers+1)
			s.MaxSpareServers = s.MinSpareServers + 1
		}
	} else { // worker_check_config / event_check_config
		if s.ThreadsPerChild > s.ThreadLimit {
			warn(first(conf.ThreadsPerChild, conf.ThreadLimit),
				"ThreadsPerChild of %d exceeds ThreadLimit value of %d threads, decreasing to %d. To increase, please see the ThreadLimit directive.",
				s.ThreadsPerChild, s.ThreadLimit, s.ThreadLimit)
			s.ThreadsPerChild = s.ThreadLimit
		}
		if s.MaxRequestWorkers < s.ThreadsPerChild {
			warn(first(conf.MaxRequestWorkers, conf.ThreadsPerChild),
				"%s of %d is less than ThreadsPerChild of %d, increasing to %d. %s must be at least as large as the number of threads in a single server.",
				mrw(), s.MaxRequestWorkers, s.ThreadsPerChild, s.ThreadsPerChild, mrw())
			s.MaxRequestWorkers = s.ThreadsPerChild
		}
		s.MaxChildren = s.MaxRequestWorkers / s.ThreadsPerChild
		if s.MaxRequestWorkers%s.ThreadsPerChild != 0 {
			n := s.MaxChildren * s.ThreadsPerChild
			warn(first(conf.MaxRequestWorkers, conf.ThreadsPerChild),
				"%s of %d is not an integer multiple of ThreadsPerChild of %d, decreasing to nearest multiple %d, for a maximum of %d servers.",
				mrw(), s.MaxRequestWorkers, s.ThreadsPerChild, n, s.MaxChildren)
			s.MaxRequestWorkers = n
		}
		if s.MaxChildren > s.ServerLimit {
			n := s.ServerLimit * s.ThreadsPerChild
			warn(first(conf.MaxRequestWorkers, conf.ServerLimit, conf.ThreadsPerChild),
				"%s of %d would require %d servers and would exceed ServerLimit of %d, decreasing to %d. To increase, please see the ServerLimit directive.",
				mrw(), s.MaxRequestWorkers, s.MaxChildren, s.ServerLimit, n)
			s.MaxChildren, s.MaxRequestWorkers = s.ServerLimit, n
		}
		if s.MaxSpareThreads < s.MinSpareThreads+s.ThreadsPerChild {
			n := s.MinSpareThreads + s.ThreadsPerChild
			warn(first(conf.MaxSpareThreads, conf.MinSpareThreads, conf.ThreadsPerChild),
				"MaxSpareThreads of %d is less than MinSpareThreads of %d plus ThreadsPerChild of %d, increasing MaxSpareThreads to %d",
				s.MaxSpareThreads, s.MinSpareThreads, s.ThreadsPerChild, n)
			s.MaxSpareThreads = n
		}
	}
	if s.StartServers > s.MaxChildren {
		warn(conf.StartServers, "StartServers of %d exceeds the %d servers %s allows, decreasing StartServers to %d",
			s.StartServers, s.MaxChildren, mrw(), s.MaxChildren)
		s.StartServers = s.MaxChildren
	}
	return s
}
