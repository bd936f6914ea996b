package mpm_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/config"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/mpm"
	"github.com/httpdg/httpdg/phases"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func warnings(cfg *config.Config) string {
	var b strings.Builder
	for _, w := range cfg.Warnings {
		b.WriteString(w.String())
		b.WriteString("\n")
	}
	return b.String()
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name  string
		conf  string
		check func(s mpm.Settings) bool
		// warns are substrings of the warnings, "{conf}" the config path
		warns []string
		// nowarn: the config must give no warning at all
		nowarn bool
	}{
		{
			name: "event by default",
			conf: "",
			check: func(s mpm.Settings) bool {
				return s.MPM == "event" && s.StartServers == 3 && s.ThreadsPerChild == 25 && s.ThreadLimit == 64 &&
					s.ServerLimit == 16 && s.MaxRequestWorkers == 400 && s.MinSpareThreads == 75 && s.MaxSpareThreads == 250 &&
					s.AsyncRequestWorkerFactor == 2 && s.MaxChildren == 16 && s.MaxConnectionsPerChild == 0 && s.ListenBacklog == 511
			},
			nowarn: true,
		},
		{
			name: "prefork defaults with the MPM directive",
			conf: "MPM prefork\n",
			check: func(s mpm.Settings) bool {
				return s.MPM == "prefork" && s.StartServers == 5 && s.MinSpareServers == 5 && s.MaxSpareServers == 10 &&
					s.MaxRequestWorkers == 256 && s.ServerLimit == 256 && s.MaxConnectionsPerChild == 0 &&
					s.ThreadsPerChild == 1 && s.MinSpareThreads == 0 && s.AsyncRequestWorkerFactor == 0
			},
			nowarn: true,
		},
		{
			name: "worker defaults with LoadModule",
			conf: "LoadModule mpm_worker_module modules/mod_mpm_worker.so\n",
			check: func(s mpm.Settings) bool {
				return s.MPM == "worker" && s.StartServers == 3 && s.ThreadsPerChild == 25 && s.MinSpareThreads == 75 &&
					s.MaxSpareThreads == 250 && s.ThreadLimit == 64 && s.ServerLimit == 16 && s.MaxRequestWorkers == 400 &&
					s.AsyncRequestWorkerFactor == 0 && s.MinSpareServers == 0
			},
			nowarn: true,
		},
		{
			name: "explicit prefork values",
			conf: "MPM prefork\nStartServers 8\nMinSpareServers 4\nMaxSpareServers 16\nServerLimit 512\nMaxRequestWorkers 400\nMaxConnectionsPerChild 1000\nMaxMemPerChild 2048\nListenBacklog 1024\n",
			check: func(s mpm.Settings) bool {
				return s.StartServers == 8 && s.MinSpareServers == 4 && s.MaxSpareServers == 16 && s.ServerLimit == 512 &&
					s.MaxRequestWorkers == 400 && s.MaxChildren == 400 && s.MaxConnectionsPerChild == 1000 &&
					s.MaxMemPerChild == 2048<<10 && s.ListenBacklog == 1024
			},
			nowarn: true,
		},
		{
			name: "explicit event values",
			conf: "MPM event\nThreadLimit 100\nThreadsPerChild 50\nServerLimit 20\nMaxRequestWorkers 1000\nMinSpareThreads 50\nMaxSpareThreads 200\nAsyncRequestWorkerFactor 1.5\nMaxMemPerChild 512M\n",
			check: func(s mpm.Settings) bool {
				return s.ThreadLimit == 100 && s.ThreadsPerChild == 50 && s.ServerLimit == 20 && s.MaxRequestWorkers == 1000 &&
					s.MaxChildren == 20 && s.MinSpareThreads == 50 && s.MaxSpareThreads == 200 &&
					s.AsyncRequestWorkerFactor == 1.5 && s.MaxMemPerChild == 512<<20
			},
			nowarn: true,
		},
		{
			name:  "old names are accepted with a deprecation warning",
			conf:  "MPM prefork\nMaxClients 100\nMaxRequestsPerChild 500\n",
			check: func(s mpm.Settings) bool { return s.MaxRequestWorkers == 100 && s.MaxConnectionsPerChild == 500 },
			warns: []string{"{conf}:2: MaxClients is deprecated, use MaxRequestWorkers instead.", "{conf}:3: MaxRequestsPerChild is deprecated, use MaxConnectionsPerChild instead."},
		},
		{
			name:  "prefork: MaxRequestWorkers capped by ServerLimit",
			conf:  "MPM prefork\nMaxRequestWorkers 512\n",
			check: func(s mpm.Settings) bool { return s.MaxRequestWorkers == 256 && s.MaxChildren == 256 },
			warns: []string{"{conf}:2: MaxRequestWorkers of 512 exceeds ServerLimit value of 256 servers, decreasing MaxRequestWorkers to 256."},
		},
		{
			name:  "prefork: MaxClients capped by ServerLimit set later",
			conf:  "MPM prefork\nMaxClients 300\nServerLimit 200\n",
			check: func(s mpm.Settings) bool { return s.MaxRequestWorkers == 200 },
			warns: []string{"{conf}:2: MaxClients of 300 exceeds ServerLimit value of 200 servers"},
		},
		{
			name:  "prefork: MaxSpareServers raised above MinSpareServers",
			conf:  "MPM prefork\nMinSpareServers 20\n",
			check: func(s mpm.Settings) bool { return s.MaxSpareServers == 21 },
			warns: []string{"{conf}:2: MaxSpareServers of 10 is not above MinSpareServers of 20, increasing MaxSpareServers to 21"},
		},
		{
			name:  "prefork: StartServers capped by MaxRequestWorkers",
			conf:  "MPM prefork\nStartServers 50\nMaxRequestWorkers 10\n",
			check: func(s mpm.Settings) bool { return s.StartServers == 10 },
			warns: []string{"{conf}:2: StartServers of 50 exceeds the 10 servers MaxRequestWorkers allows"},
		},
		{
			name: "worker: ThreadsPerChild capped by ThreadLimit",
			conf: "MPM worker\nThreadsPerChild 100\n",
			check: func(s mpm.Settings) bool {
				return s.ThreadsPerChild == 64 && s.MaxRequestWorkers == 384 && s.MaxChildren == 6
			},
			warns: []string{
				"{conf}:2: ThreadsPerChild of 100 exceeds ThreadLimit value of 64 threads, decreasing to 64.",
				"MaxRequestWorkers of 400 is not an integer multiple of ThreadsPerChild of 64, decreasing to nearest multiple 384, for a maximum of 6 servers.",
			},
		},
		{
			name:  "event: MaxRequestWorkers rounded to a multiple of ThreadsPerChild",
			conf:  "\nMaxRequestWorkers 130\n",
			check: func(s mpm.Settings) bool { return s.MaxRequestWorkers == 125 && s.MaxChildren == 5 },
			warns: []string{"{conf}:2: MaxRequestWorkers of 130 is not an integer multiple of ThreadsPerChild of 25, decreasing to nearest multiple 125, for a maximum of 5 servers."},
		},
		{
			name:  "event: MaxRequestWorkers clamped to ServerLimit*ThreadsPerChild",
			conf:  "MaxRequestWorkers 800\n",
			check: func(s mpm.Settings) bool { return s.MaxRequestWorkers == 400 && s.MaxChildren == 16 },
			warns: []string{"{conf}:1: MaxRequestWorkers of 800 would require 32 servers and would exceed ServerLimit of 16, decreasing to 400."},
		},
		{
			name: "worker: MaxRequestWorkers raised to ThreadsPerChild",
			conf: "MPM worker\nMaxRequestWorkers 10\n",
			check: func(s mpm.Settings) bool {
				return s.MaxRequestWorkers == 25 && s.MaxChildren == 1 && s.StartServers == 1
			},
			warns: []string{"{conf}:2: MaxRequestWorkers of 10 is less than ThreadsPerChild of 25, increasing to 25."},
		},
		{
			name:  "worker: MaxSpareThreads raised",
			conf:  "MPM worker\nMinSpareThreads 300\n",
			check: func(s mpm.Settings) bool { return s.MaxSpareThreads == 325 },
			warns: []string{"{conf}:2: MaxSpareThreads of 250 is less than MinSpareThreads of 300 plus ThreadsPerChild of 25, increasing MaxSpareThreads to 325"},
		},
		{
			name: "thread directives have no effect with prefork",
			conf: "MPM prefork\nThreadsPerChild 50\nMaxSpareThreads 10\nAsyncRequestWorkerFactor 3\n",
			check: func(s mpm.Settings) bool {
				return s.ThreadsPerChild == 1 && s.MaxSpareThreads == 0 && s.AsyncRequestWorkerFactor == 0
			},
			warns: []string{"{conf}:2: ThreadsPerChild has no effect with the prefork MPM", "{conf}:3: MaxSpareThreads has no effect with the prefork MPM", "{conf}:4: AsyncRequestWorkerFactor has no effect with the prefork MPM"},
		},
		{
			name:  "server spares have no effect with event",
			conf:  "MinSpareServers 3\nMaxSpareServers 9\n",
			check: func(s mpm.Settings) bool { return s.MinSpareServers == 0 },
			warns: []string{"{conf}:1: MinSpareServers has no effect with the event MPM", "{conf}:2: MaxSpareServers has no effect with the event MPM"},
		},
		{
			name:  "AsyncRequestWorkerFactor has no effect with worker",
			conf:  "MPM worker\nAsyncRequestWorkerFactor 3\n",
			check: func(s mpm.Settings) bool { return s.AsyncRequestWorkerFactor == 0 },
			warns: []string{"{conf}:2: AsyncRequestWorkerFactor has no effect with the worker MPM"},
		},
		{
			name:  "a default clamped because of ThreadsPerChild is reported on its line",
			conf:  "ThreadsPerChild 10\n",
			check: func(s mpm.Settings) bool { return s.MaxRequestWorkers == 160 && s.MaxChildren == 16 },
			warns: []string{"{conf}:1: MaxRequestWorkers of 400 would require 40 servers and would exceed ServerLimit of 16, decreasing to 160."},
		},
		{
			name:  "MaxMemPerChild units",
			conf:  "MaxMemPerChild 1G\n",
			check: func(s mpm.Settings) bool { return s.MaxMemPerChild == 1<<30 },
		},
		{
			name:  "MaxMemPerChild with K",
			conf:  "MaxMemPerChild 300k\n",
			check: func(s mpm.Settings) bool { return s.MaxMemPerChild == 300<<10 },
		},
		{
			name:  "MaxMemPerChild 0 is no limit",
			conf:  "MaxMemPerChild 0\nMaxConnectionsPerChild 0\n",
			check: func(s mpm.Settings) bool { return s.MaxMemPerChild == 0 && s.MaxConnectionsPerChild == 0 },
		},
		{
			name:  "the last value wins, across the old and new names",
			conf:  "MPM prefork\nMaxRequestWorkers 100\nMaxClients 50\n",
			check: func(s mpm.Settings) bool { return s.MaxRequestWorkers == 50 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, root, err := phasestest.Load(t, map[string]string{"conf/httpd.conf": tt.conf})
			if err != nil {
				t.Fatal(err)
			}
			s := mpm.SettingsOf(cfg)
			if tt.check != nil && !tt.check(s) {
				t.Errorf("settings: %+v", s)
			}
			ws := warnings(cfg)
			if tt.nowarn && ws != "" {
				t.Errorf("unexpected warnings:\n%s", ws)
			}
			for _, w := range tt.warns {
				w = strings.ReplaceAll(w, "{conf}", root+"/conf/httpd.conf")
				if !strings.Contains(ws, w) {
					t.Errorf("warnings\n%s\ndo not contain %q", ws, w)
				}
				if strings.Count(ws, w) > 1 {
					t.Errorf("warning %q given more than once:\n%s", w, ws)
				}
			}
		})
	}
}

// TestClampedWithWarning: out-of-range numbers are clamped with a warning,
// as Apache does, so configs Apache accepts load.
func TestClampedWithWarning(t *testing.T) {
	tests := []struct {
		conf, warn string
		get        func(mpm.Settings) int
		want       int
	}{
		{"MPM prefork\nStartServers 0\n", "StartServers of 0 not allowed, increasing to 1", func(s mpm.Settings) int { return s.StartServers }, 1},
		{"StartServers -3\n", "StartServers of -3 not allowed, increasing to 1", func(s mpm.Settings) int { return s.StartServers }, 1},
		{"ThreadsPerChild 0\n", "ThreadsPerChild of 0 not allowed, increasing to 1", func(s mpm.Settings) int { return s.ThreadsPerChild }, 1},
		{"ServerLimit 20001\n", "ServerLimit of 20001 exceeds compile-time limit of 20000, decreasing to match", func(s mpm.Settings) int { return s.ServerLimit }, 20000},
		{"MPM prefork\nServerLimit 200001\n", "ServerLimit of 200001 exceeds compile-time limit of 200000", func(s mpm.Settings) int { return s.ServerLimit }, 200000},
		{"ThreadLimit 30000\n", "ThreadLimit of 30000 exceeds compile-time limit of 20000", func(s mpm.Settings) int { return s.ThreadLimit }, 20000},
	}
	for _, tt := range tests {
		t.Run(tt.warn, func(t *testing.T) {
			cfg, _, err := phasestest.Load(t, map[string]string{"conf/httpd.conf": tt.conf})
			if err != nil {
				t.Fatal(err)
			}
			if ws := warnings(cfg); !strings.Contains(ws, tt.warn) {
				t.Errorf("warnings\n%s\ndo not contain %q", ws, tt.warn)
			}
			if got := tt.get(mpm.SettingsOf(cfg)); got != tt.want {
				t.Errorf("value %d, want %d", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		conf string
		line int
		want string
	}{
		{"\n\nMaxRequestWorkers many\n", 3, "MaxRequestWorkers: 'many' is not a whole number"},
		{"MaxConnectionsPerChild -1\n", 1, "MaxConnectionsPerChild must be a positive number or 0 (no limit), not -1"},
		{"MaxRequestsPerChild x\n", 1, "MaxRequestsPerChild: 'x' is not a whole number"},
		{"MaxMemPerChild -5\n", 1, "MaxMemPerChild must be a positive integer or zero"},
		{"MaxMemPerChild lots\n", 1, "MaxMemPerChild: 'lots' is not a size"},
		{"AsyncRequestWorkerFactor 0\n", 1, "AsyncRequestWorkerFactor argument must be a positive number"},
		{"AsyncRequestWorkerFactor abc\n", 1, "AsyncRequestWorkerFactor: error parsing value 'abc'"},
		{"StartServers 1 2\n", 1, "StartServers takes one argument, Number of child processes launched at server startup"},
		{"<VirtualHost *:80>\nMaxRequestWorkers 10\n</VirtualHost>\n", 2, "MaxRequestWorkers cannot occur within <VirtualHost> section"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, root, err := phasestest.Load(t, map[string]string{"conf/httpd.conf": tt.conf})
			if err == nil {
				t.Fatalf("config loaded, want %q", tt.want)
			}
			at := "Syntax error on line " + itoa(tt.line) + " of " + root + "/conf/httpd.conf:\n"
			if !strings.Contains(err.Error(), at) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\nwant %q and %q", err, at, tt.want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestIfModule(t *testing.T) {
	conf := func(sel string) string {
		return sel + `
<IfModule mpm_prefork_module>
    MaxSpareServers 11
</IfModule>
<IfModule mpm_worker_module>
    ThreadsPerChild 50
</IfModule>
<IfModule mpm_event_module>
    ThreadsPerChild 40
</IfModule>
<IfModule !mpm_prefork_module>
    ListenBacklog 100
</IfModule>
<IfModule prefork.c>
    StartServers 7
</IfModule>
`
	}
	tests := []struct {
		sel   string
		check func(s mpm.Settings) bool
	}{
		{"MPM prefork", func(s mpm.Settings) bool {
			return s.MPM == "prefork" && s.MaxSpareServers == 11 && s.ListenBacklog == 511 && s.StartServers == 7
		}},
		{"LoadModule mpm_prefork_module modules/mod_mpm_prefork.so", func(s mpm.Settings) bool {
			return s.MPM == "prefork" && s.MaxSpareServers == 11 && s.StartServers == 7
		}},
		{"MPM worker", func(s mpm.Settings) bool {
			return s.MPM == "worker" && s.ThreadsPerChild == 50 && s.ListenBacklog == 100 && s.StartServers == 3
		}},
		{"LoadModule mpm_event_module modules/mod_mpm_event.so", func(s mpm.Settings) bool {
			return s.MPM == "event" && s.ThreadsPerChild == 40 && s.ListenBacklog == 100
		}},
		{"", func(s mpm.Settings) bool { return s.MPM == "event" && s.ThreadsPerChild == 40 }},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			cfg, err := phasestest.LoadConf(t, conf(tt.sel))
			if err != nil {
				t.Fatal(err)
			}
			if s := mpm.SettingsOf(cfg); !tt.check(s) {
				t.Errorf("settings: %+v", s)
			}
			if ws := warnings(cfg); ws != "" {
				t.Errorf("unexpected warnings:\n%s", ws)
			}
		})
	}
}

func TestModules(t *testing.T) {
	for name, want := range map[string]string{mpm.PreforkModule: "prefork", mpm.WorkerModule: "worker", mpm.EventModule: "event"} {
		m := phases.LookupModule(name)
		if m == nil || m.MPM != want || len(m.Directives) != 0 || m.Internal {
			t.Errorf("%s: %+v", name, m)
		}
	}
	common := phases.LookupModule(mpm.CommonModule)
	if common == nil || !common.Internal || len(common.Directives) != 15 {
		t.Fatalf("mpm_common: %+v", common)
	}
	for _, d := range common.Directives {
		if !d.Built || d.Form != config.Take1 || d.Contexts != config.ServerOnly {
			t.Errorf("%s: built %v, form %v, contexts %v", d.Name, d.Built, d.Form, d.Contexts.Describe())
		}
	}
	for _, m := range phases.ModuleInfos() {
		if m.Name == mpm.CommonModule {
			t.Errorf("internal module %s is listed", m.Name)
		}
	}
}

func TestDefaults(t *testing.T) {
	for _, name := range []string{"prefork", "worker", "event"} {
		s := mpm.Effective(name, &mpm.Conf{})
		if len(s.Warnings) != 0 || s.MPM != name {
			t.Errorf("%s defaults: %+v", name, s)
		}
		if s.MaxRequestWorkers != s.MaxChildren*s.ThreadsPerChild {
			t.Errorf("%s defaults inconsistent: %+v", name, s)
		}
	}
}
