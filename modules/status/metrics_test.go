package status

import (
	"bufio"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// promFamily is one metric family as a Prometheus scraper reads it.
type promFamily struct {
	help, typ string
	samples   map[string]float64 // by label set as written ("" for none)
}

var (
	promName   = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	promSample = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (\S+)$`)
)

// parseProm parses the text exposition format 0.0.4 strictly: every line
// is a HELP, a TYPE or a sample; a family's HELP and TYPE come before its
// samples, once; samples of a family are contiguous; no series repeats.
func parseProm(t *testing.T, text string) map[string]*promFamily {
	t.Helper()
	families := map[string]*promFamily{}
	var current string
	done := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HELP "), strings.HasPrefix(line, "# TYPE "):
			fields := strings.SplitN(line[len("# HELP "):], " ", 2)
			name := fields[0]
			if !promName.MatchString(name) || len(fields) != 2 || fields[1] == "" {
				t.Errorf("line %d: bad %q", n, line)
				continue
			}
			if name != current {
				if done[name] {
					t.Errorf("line %d: family %s again", n, name)
				}
				if current != "" {
					done[current] = true
				}
				current = name
			}
			f := families[name]
			if f == nil {
				f = &promFamily{samples: map[string]float64{}}
				families[name] = f
			}
			if strings.HasPrefix(line, "# HELP ") {
				if f.help != "" || len(f.samples) > 0 {
					t.Errorf("line %d: HELP of %s repeated or late", n, name)
				}
				f.help = fields[1]
			} else {
				if f.typ != "" || len(f.samples) > 0 {
					t.Errorf("line %d: TYPE of %s repeated or late", n, name)
				}
				switch fields[1] {
				case "counter", "gauge", "untyped", "summary", "histogram":
				default:
					t.Errorf("line %d: unknown type %q", n, fields[1])
				}
				f.typ = fields[1]
			}
		case strings.HasPrefix(line, "#"), line == "":
			t.Errorf("line %d: unexpected %q", n, line)
		default:
			m := promSample.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("line %d: not a sample: %q", n, line)
				continue
			}
			name, labels := m[1], m[2]
			if name != current || families[name] == nil || families[name].typ == "" || families[name].help == "" {
				t.Errorf("line %d: sample of %s outside its family (HELP and TYPE first)", n, name)
				continue
			}
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				t.Errorf("line %d: value %q: %v", n, m[3], err)
			}
			if _, dup := families[name].samples[labels]; dup {
				t.Errorf("line %d: series %s%s repeated", n, name, labels)
			}
			families[name].samples[labels] = v
		}
	}
	for name, f := range families {
		if f.typ == "counter" && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s does not end in _total", name)
		}
		if len(f.samples) == 0 {
			t.Errorf("family %s has no samples", name)
		}
	}
	return families
}

func TestMetrics(t *testing.T) {
	b := eventBoard(t)
	r, out, _ := serve(t, testModule(eventCPU()), "", b, "metrics", "GET", "")
	if r.ContentType != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", r.ContentType)
	}
	text := out.body.String()
	if !strings.HasSuffix(text, "\n") {
		t.Error("no final newline")
	}
	fams := parseProm(t, text)
	value := func(name, labels string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Errorf("no family %s", name)
			return -1
		}
		v, ok := f.samples[labels]
		if !ok {
			t.Errorf("no sample %s%s", name, labels)
			return -1
		}
		return v
	}
	checks := []struct {
		name, labels string
		want         float64
	}{
		{"httpdg_up", "", 1},
		{"httpdg_info", `{version="` + version + `",mpm="event"}`, 1},
		{"httpdg_generation", "", 3},
		{"httpdg_start_time_seconds", "", float64(testRestart.Unix())},
		{"httpdg_uptime_seconds", "", 3723},
		{"httpdg_requests_total", "", 6},
		{"httpdg_sent_bytes_total", "", 3*1000 + 2*2048 + 4000},
		{"httpdg_cpu_seconds_total", `{mode="user"}`, 2.6},
		{"httpdg_cpu_seconds_total", `{mode="system"}`, 0.7},
		{"httpdg_cpu_seconds_total", `{mode="children_user"}`, 3},
		{"httpdg_cpu_seconds_total", `{mode="children_system"}`, 0.4},
		{"httpdg_busy_workers", "", 3},
		{"httpdg_idle_workers", "", 1},
		{"httpdg_graceful_workers", "", 1},
		{"httpdg_processes", "", 3},
		{"httpdg_processes_stopping", "", 1},
		{"httpdg_connections", `{state="total"}`, 15},
		{"httpdg_connections", `{state="keepalive"}`, 5},
		{"httpdg_connections", `{state="writing"}`, 3},
		{"httpdg_connections", `{state="closing"}`, 2},
		{"httpdg_server_limit", "", 4},
		{"httpdg_thread_limit", "", 4},
	}
	for _, c := range checks {
		if got := value(c.name, c.labels); got != c.want {
			t.Errorf("%s%s = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// One gauge per scoreboard state: the Scoreboard line W_KS_GRIW_.
	wantStates := map[string]float64{"open": 1, "starting": 1, "idle": 3, "reading": 1, "writing": 2, "keepalive": 1,
		"logging": 0, "dns": 0, "closing": 0, "graceful": 1, "idle_kill": 1}
	if n := len(fams["httpdg_workers"].samples); n != len(wantStates) {
		t.Errorf("httpdg_workers has %d states", n)
	}
	for state, want := range wantStates {
		if got := value("httpdg_workers", `{state="`+state+`"}`); got != want {
			t.Errorf("httpdg_workers{state=%q} = %v, want %v", state, got, want)
		}
	}
	for name, f := range fams {
		if (f.typ == "counter") != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %s", name, f.typ)
		}
	}
}

// TestMetricsCountersSurviveChildExit: a child's exit must not make the
// request counters go back (Prometheus would read a reset).
func TestMetricsCountersSurviveChildExit(t *testing.T) {
	b := eventBoard(t)
	before := parseProm(t, func() string {
		_, out, _ := serve(t, testModule(nil), "", b, "metrics", "GET", "")
		return out.body.String()
	}())
	b.ClearProcess(0)
	after := parseProm(t, func() string {
		_, out, _ := serve(t, testModule(nil), "", b, "metrics", "GET", "")
		return out.body.String()
	}())
	for _, name := range []string{"httpdg_requests_total", "httpdg_sent_bytes_total"} {
		if a, bf := after[name].samples[""], before[name].samples[""]; a != bf {
			t.Errorf("%s went from %v to %v when a child exited", name, bf, a)
		}
	}
	if p := after["httpdg_processes"].samples[""]; p != 2 {
		t.Errorf("httpdg_processes = %v after a child exited", p)
	}
}

func TestEscapeLabel(t *testing.T) {
	if got := escapeLabel("a\"b\\c\nd"); got != `a\"b\\c\nd` {
		t.Errorf("escapeLabel = %q", got)
	}
}
