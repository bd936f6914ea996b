package reqtimeout

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the module's identifier.
const ModuleName = "reqtimeout_module"

// Stage is the limit on one stage of reading a request.
type Stage struct {
	Set        bool          // given by a RequestReadTimeout line
	Timeout    time.Duration // initial timeout; 0 disables the limit
	MaxTimeout time.Duration // upper bound the timeout may be extended to; 0 for none
	MinRate    int64         // bytes per second that extend the timeout; 0 for none
}

// ServerSettings are a server's RequestReadTimeout settings. A stage not
// Set keeps Apache's default (see Defaults).
type ServerSettings struct {
	Handshake, Header, Body Stage
}

// Defaults are Apache's: handshake=0 header=20-40,MinRate=500
// body=20,MinRate=500.
var Defaults = ServerSettings{
	Handshake: Stage{},
	Header:    Stage{Timeout: 20 * time.Second, MaxTimeout: 40 * time.Second, MinRate: 500},
	Body:      Stage{Timeout: 20 * time.Second, MinRate: 500},
}

// ServerOf returns the RequestReadTimeout settings of server s.
func ServerOf(s *config.Server) *ServerSettings {
	return config.ServerConf[ServerSettings](s, ModuleName)
}

func init() {
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_reqtimeout.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		{Name: "RequestReadTimeout", Form: config.RawArgs, Contexts: config.ServerVhost, Built: true,
			Help:    "time limits and minimum rates for the TLS handshake, request header and body: stage=timeout[-maxtimeout][,MinRate=rate]",
			Handler: requestReadTimeout},
	}})
}

func requestReadTimeout(c *config.Cmd) error {
	if len(c.Args) == 0 {
		return fmt.Errorf("RequestReadTimeout requires at least one argument, %s", c.Directive.Help)
	}
	s := ServerOf(c.Server)
	for _, word := range c.Args {
		key, val, ok := strings.Cut(word, "=")
		if !ok {
			return fmt.Errorf("Invalid RequestReadTimeout parameter. Parameter must be in the form 'key=value'")
		}
		if err := setStage(s, key, val); err != nil {
			return fmt.Errorf("RequestReadTimeout: %s=%s: %v", key, val, err)
		}
	}
	return nil
}

// setStage follows mod_reqtimeout's set_reqtimeout_param.
func setStage(s *ServerSettings, key, val string) error {
	var st *Stage
	switch strings.ToLower(key) {
	case "handshake":
		st = &s.Handshake
	case "header":
		st = &s.Header
	case "body":
		st = &s.Body
	default:
		return fmt.Errorf("Unknown RequestReadTimeout parameter")
	}
	next := Stage{Set: true}
	timeouts := val
	if i := strings.Index(strings.ToLower(val), ",minrate="); i >= 0 {
		timeouts = val[:i]
		rate, err := parseInt(val[i+len(",minrate="):])
		if err != nil {
			return err
		}
		if rate == 0 {
			return fmt.Errorf("Minimum data rate must be larger than 0")
		}
		next.MinRate = rate
		if lo, hi, ok := strings.Cut(timeouts, "-"); ok {
			max, err := parseInt(hi)
			if err != nil {
				return err
			}
			next.MaxTimeout = time.Duration(max) * time.Second
			timeouts = lo
		}
	} else if strings.Contains(val, "-") {
		return fmt.Errorf("Must set MinRate option if using timeout range")
	}
	t, err := parseInt(timeouts)
	if err != nil {
		return err
	}
	next.Timeout = time.Duration(t) * time.Second
	if next.MaxTimeout != 0 && next.Timeout >= next.MaxTimeout {
		return fmt.Errorf("Maximum timeout must be larger than initial timeout")
	}
	*st = next
	return nil
}

// parseInt parses a non-negative number of seconds or bytes per second
// with mod_reqtimeout's messages.
func parseInt(s string) (int64, error) {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 && len(s) > 1 && s[0] == '-' && s[1] >= '0' && s[1] <= '9' {
		return 0, fmt.Errorf("Value must be non-negative")
	}
	if end == 0 {
		return 0, fmt.Errorf("Value '%s' not numerical", s)
	}
	if end < len(s) {
		return 0, fmt.Errorf("Cannot parse '%s'", s[end:])
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("Value '%s' is too large", s)
	}
	return n, nil
}

// registerHooks hands the main server's header stage to the engine, which
// answers 408 when a request head is not in by then. (The handshake and
// body stages are not applied yet.)
func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	h.PostConfig.Add(phases.Entry[phases.ServerHookFunc]{Origin: "reqtimeout_module (Go)", Module: ModuleName, Order: phases.ReallyFirst, RerunInChild: true,
		Fn: func(pconf, plog, ptemp *phases.Pool, s *phases.Server) error {
			header := ServerOf(s.Main).Header
			if !header.Set {
				header = Defaults.Header
			}
			s.Conn.HeaderTimeout, s.Conn.HeaderMaxTimeout, s.Conn.HeaderMinRate = header.Timeout, header.MaxTimeout, header.MinRate
			return nil
		}})
	return nil
}
