package proxy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The key=value parameters of workers (ProxyPass to a URL, BalancerMember,
// ProxySet on a worker, <Proxy url key=value>) and of balancers (ProxyPass
// to balancer://, ProxySet on a balancer), checked as mod_proxy's
// set_worker_param and set_balancer_param do, with their messages. Where
// Apache reads a number with atoi() and so takes "abc" for 0, httpdg
// refuses it.

// HealthCheck holds mod_proxy_hcheck's per-worker settings.
type HealthCheck struct {
	Method   string        // NONE, TCP, OPTIONS, HEAD, GET, OPTIONS11, HEAD11, GET11; "" when unset
	Interval time.Duration // hcinterval
	Passes   int           // hcpasses
	Fails    int           // hcfails
	URI      string        // hcuri
}

func onOff(val, what string) error {
	if strings.EqualFold(val, "on") || strings.EqualFold(val, "off") {
		return nil
	}
	return fmt.Errorf("%s must be On|Off", what)
}

func atoi(val string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(val, "+"))
	return n, err == nil
}

// timeoutParam is Apache's ap_timeout_parameter_parse: a number followed by
// an optional unit (ms, s, mi, h); unit is the default when none is given.
func timeoutParam(val, unit string) (time.Duration, bool) {
	end := 0
	if end < len(val) && (val[0] == '-' || val[0] == '+') {
		end++
	}
	for end < len(val) && val[end] >= '0' && val[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(val[:end], 10, 64)
	if err != nil {
		return 0, false
	}
	if end < len(val) {
		unit = val[end:]
	}
	switch strings.ToLower(unit) {
	case "s":
		return time.Duration(n) * time.Second, true
	case "ms":
		return time.Duration(n) * time.Millisecond, true
	case "mi", "min":
		return time.Duration(n) * time.Minute, true
	case "h":
		return time.Duration(n) * time.Hour, true
	}
	return 0, false
}

// minTimeout parses val with timeoutParam (unit is the default unit) and
// fails with badFormat when it does not parse, with tooSmall when it is
// below least.
func minTimeout(val, unit string, least time.Duration, badFormat, tooSmall string) (time.Duration, error) {
	t, ok := timeoutParam(val, unit)
	if !ok {
		return 0, errors.New(badFormat)
	}
	if t < least {
		return 0, errors.New(tooSmall)
	}
	return t, nil
}

var hcMethods = map[string]bool{"NONE": true, "TCP": true, "OPTIONS": true, "HEAD": true, "GET": true, "OPTIONS11": true, "HEAD11": true, "GET11": true, "CPING": false, "PROVIDER": false}

// checkWorkerParam checks one worker parameter; w (may be nil) receives the
// health-check settings.
func checkWorkerParam(w *Worker, key, val string) error {
	switch strings.ToLower(key) {
	case "loadfactor":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || f*100 < 100 || f*100 > 10000 {
			return fmt.Errorf("LoadFactor must be a number between 1..100")
		}
	case "retry":
		if n, ok := atoi(val); !ok || n < 0 {
			return fmt.Errorf("Retry must be a positive value")
		}
	case "ttl":
		if n, ok := atoi(val); !ok || n < 1 {
			return fmt.Errorf("TTL must be at least one second")
		}
	case "min", "max", "smax":
		if n, ok := atoi(val); !ok || n < 0 {
			return fmt.Errorf("%s must be a positive number", strings.ToUpper(key[:1])+strings.ToLower(key[1:]))
		}
	case "acquire":
		if _, err := minTimeout(val, "ms", time.Millisecond, "Acquire timeout has wrong format", "Acquire must be at least one millisecond"); err != nil {
			return err
		}
	case "timeout":
		if n, ok := atoi(val); !ok || n < 1 {
			return fmt.Errorf("Timeout must be at least one second")
		}
	case "iobuffersize":
		if n, ok := atoi(val); !ok || n != 0 && n < 512 {
			return fmt.Errorf("IOBufferSize must be >= 512 bytes, or 0 for system default.")
		}
	case "receivebuffersize":
		if n, ok := atoi(val); !ok || n != 0 && n < 512 {
			return fmt.Errorf("ReceiveBufferSize must be >= 512 bytes, or 0 for system default.")
		}
	case "keepalive":
		return onOff(val, "KeepAlive")
	case "disablereuse":
		return onOff(val, "DisableReuse")
	case "enablereuse":
		return onOff(val, "EnableReuse")
	case "addressttl":
		if val != "-1" {
			t, ok := timeoutParam(val, "s")
			if !ok || t < 0 || t > 2147483647*time.Second || t%time.Second != 0 {
				return fmt.Errorf("AddressTTL must be -1 or a number of seconds not exceeding 2147483647")
			}
		}
	case "route":
		if len(val) >= 64 {
			return fmt.Errorf("Route length must be < 64 characters")
		}
	case "redirect":
		if len(val) >= 64 {
			return fmt.Errorf("Redirect length must be < 64 characters")
		}
	case "status":
		if val == "" {
			return fmt.Errorf("Unknown status parameter option")
		}
		for i := 0; i < len(val); i++ {
			c := val[i]
			if c == '+' || c == '-' {
				if i++; i == len(val) {
					return fmt.Errorf("Unknown status parameter option")
				}
				c = val[i]
			}
			if !strings.ContainsRune("OINGUDSEHFCR", rune(strings.ToUpper(string(c))[0])) {
				return fmt.Errorf("Unknown status parameter option")
			}
		}
	case "flushpackets":
		if !strings.EqualFold(val, "auto") && onOff(val, "") != nil {
			return fmt.Errorf("flushpackets must be on|off|auto")
		}
	case "flushwait":
		if n, ok := atoi(val); !ok || n < 0 || n > 1000 {
			return fmt.Errorf("flushwait must be <= 1000, or 0 for system default of 10 millseconds.")
		}
	case "ping":
		if _, err := minTimeout(val, "s", time.Millisecond, "Ping/Pong timeout has wrong format", "Ping/Pong timeout must be at least one millisecond"); err != nil {
			return err
		}
	case "lbset":
		if n, ok := atoi(val); !ok || n < 0 || n > 99 {
			return fmt.Errorf("lbset must be between 0 and 99")
		}
	case "connectiontimeout":
		if _, err := minTimeout(val, "s", time.Millisecond, "Connectiontimeout has wrong format", "Connectiontimeout must be at least one millisecond."); err != nil {
			return err
		}
	case "flusher":
		if len(val) >= 16 {
			return fmt.Errorf("flusher name length must be < 16 characters")
		}
	case "upgrade":
		if len(val) >= 16 {
			return fmt.Errorf("upgrade protocol length must be < 16 characters")
		}
	case "responsefieldsize":
		if n, ok := atoi(val); !ok || n < 0 {
			return fmt.Errorf("ResponseFieldSize must be greater than 0 bytes, or 0 for system default.")
		}
	case "secret":
		if len(val) >= 64 {
			return fmt.Errorf("Secret length must be < 64 characters")
		}
	default:
		return checkHCParam(w, key, val)
	}
	return nil
}

// checkHCParam checks mod_proxy_hcheck's worker parameters.
func checkHCParam(w *Worker, key, val string) error {
	hc := &HealthCheck{}
	if w != nil {
		hc = &w.HealthCheck
	}
	switch strings.ToLower(key) {
	case "hcmethod":
		m := strings.ToUpper(val)
		implemented, known := hcMethods[m]
		if !known {
			return fmt.Errorf("Unknown method")
		}
		if !implemented {
			return fmt.Errorf("Health check method %s not (yet) implemented", val)
		}
		hc.Method = m
	case "hcinterval":
		t, err := minTimeout(val, "s", 100*time.Millisecond, "Unparse-able hcinterval setting", "Interval must be a positive value greater than 100ms")
		if err != nil {
			return err
		}
		hc.Interval = t
	case "hcpasses":
		n, ok := atoi(val)
		if !ok || n < 0 {
			return fmt.Errorf("Passes must be a positive value")
		}
		hc.Passes = n
	case "hcfails":
		n, ok := atoi(val)
		if !ok || n < 0 {
			return fmt.Errorf("Fails must be a positive value")
		}
		hc.Fails = n
	case "hcuri":
		if len(val) >= 64 {
			return fmt.Errorf("Health check uri length must be < 64 characters")
		}
		hc.URI = val
	case "hctemplate":
		return fmt.Errorf("Unknown ProxyHCTemplate name: %s (httpdg has no ProxyHCTemplate; give the hc* parameters directly)", val)
	case "hcexpr":
		return fmt.Errorf("hcexpr is not supported by httpdg (no ProxyHCExpr); use hcmethod and hcuri")
	default:
		return fmt.Errorf("unknown Worker parameter")
	}
	return nil
}

var lbMethods = []string{"byrequests", "bytraffic", "bybusyness", "heartbeat"}

// checkBalancerParam checks one balancer parameter.
func checkBalancerParam(key, val string) error {
	switch strings.ToLower(key) {
	case "stickysession":
		if len(val) >= 64 {
			return fmt.Errorf("stickysession length must be < 64 characters")
		}
	case "stickysessionsep":
		if len(val) != 1 && !strings.EqualFold(val, "off") {
			return fmt.Errorf("stickysessionsep must be a single character or Off")
		}
	case "nofailover":
		return onOff(val, "failover")
	case "timeout":
		if n, ok := atoi(val); !ok || n < 1 {
			return fmt.Errorf("timeout must be at least one second")
		}
	case "maxattempts":
		if n, ok := atoi(val); !ok || n < 0 {
			return fmt.Errorf("maximum number of attempts must be a positive number")
		}
	case "lbmethod":
		for _, m := range lbMethods {
			if val == m {
				return nil
			}
		}
		return fmt.Errorf("unknown lbmethod")
	case "scolonpathdelim":
		return onOff(val, "scolonpathdelim")
	case "failonstatus":
		codes := strings.FieldsFunc(val, func(r rune) bool { return r == ',' || r == ' ' })
		if len(codes) == 0 {
			return fmt.Errorf("failonstatus must be one or more HTTP response codes")
		}
		for _, c := range codes {
			if n, ok := atoi(c); !ok || n < 100 || n > 599 {
				return fmt.Errorf("failonstatus must be one or more HTTP response codes")
			}
		}
	case "failontimeout":
		return onOff(val, "failontimeout")
	case "nonce":
		if len(val) > 36 {
			return fmt.Errorf("Provided nonce is too large")
		}
	case "growth":
		if n, ok := atoi(val); !ok || n < 1 || n > 100 {
			return fmt.Errorf("growth must be between 1 and 100")
		}
	case "forcerecovery":
		return onOff(val, "forcerecovery")
	default:
		return fmt.Errorf("unknown Balancer parameter")
	}
	return nil
}
