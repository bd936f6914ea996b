package reqtimeout_test

import (
	"testing"
	"time"

	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/reqtimeout"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func TestValid(t *testing.T) {
	s := time.Second
	tests := []struct {
		line string
		want reqtimeout.ServerSettings
	}{
		{"RequestReadTimeout header=20-40,MinRate=500 body=20,MinRate=500", reqtimeout.ServerSettings{
			Header: reqtimeout.Stage{Set: true, Timeout: 20 * s, MaxTimeout: 40 * s, MinRate: 500},
			Body:   reqtimeout.Stage{Set: true, Timeout: 20 * s, MinRate: 500},
		}},
		{"RequestReadTimeout handshake=5 header=10 body=30", reqtimeout.ServerSettings{
			Handshake: reqtimeout.Stage{Set: true, Timeout: 5 * s},
			Header:    reqtimeout.Stage{Set: true, Timeout: 10 * s},
			Body:      reqtimeout.Stage{Set: true, Timeout: 30 * s},
		}},
		{"RequestReadTimeout HEADER=0 body=0,minrate=1000", reqtimeout.ServerSettings{
			Header: reqtimeout.Stage{Set: true},
			Body:   reqtimeout.Stage{Set: true, MinRate: 1000},
		}},
		{"RequestReadTimeout header=20\nRequestReadTimeout header=1-2,MinRate=1", reqtimeout.ServerSettings{
			Header: reqtimeout.Stage{Set: true, Timeout: 1 * s, MaxTimeout: 2 * s, MinRate: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			cfg := phasestest.MustLoad(t, tt.line+"\n")
			if got := *reqtimeout.ServerOf(cfg.Main); got != tt.want {
				t.Errorf("settings = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVirtualHost(t *testing.T) {
	cfg := phasestest.MustLoad(t, "<VirtualHost *:80>\nRequestReadTimeout body=10\n</VirtualHost>\n")
	if got := reqtimeout.ServerOf(cfg.Vhosts[0]).Body.Timeout; got != 10*time.Second {
		t.Errorf("vhost body timeout = %v", got)
	}
	if reqtimeout.ServerOf(cfg.Main).Body.Set {
		t.Error("main server got the vhost's setting")
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		conf string
		line int
		want string
	}{
		{"RequestReadTimeout\n", 1, "RequestReadTimeout requires at least one argument"},
		{"RequestReadTimeout header\n", 1, "Invalid RequestReadTimeout parameter. Parameter must be in the form 'key=value'"},
		{"RequestReadTimeout headers=20\n", 1, "RequestReadTimeout: headers=20: Unknown RequestReadTimeout parameter"},
		{"RequestReadTimeout header=abc\n", 1, "RequestReadTimeout: header=abc: Value 'abc' not numerical"},
		{"RequestReadTimeout header=20s\n", 1, "RequestReadTimeout: header=20s: Cannot parse 's'"},
		{"RequestReadTimeout header=20-40\n", 1, "RequestReadTimeout: header=20-40: Must set MinRate option if using timeout range"},
		{"RequestReadTimeout header=40-20,MinRate=500\n", 1, "Maximum timeout must be larger than initial timeout"},
		{"RequestReadTimeout header=20-20,MinRate=500\n", 1, "Maximum timeout must be larger than initial timeout"},
		{"RequestReadTimeout header=20-40,MinRate=0\n", 1, "Minimum data rate must be larger than 0"},
		{"RequestReadTimeout header=20,MinRate=-5\n", 1, "Value must be non-negative"},
		{"RequestReadTimeout body=20,MinRate=fast\n", 1, "Value 'fast' not numerical"},
		{"RequestReadTimeout header=20-x,MinRate=1\n", 1, "Value 'x' not numerical"},
		{"RequestReadTimeout body=99999999999\n", 1, "too large"},
		{"Timeout 30\n<Directory /srv>\nRequestReadTimeout body=20\n</Directory>\n", 3, "RequestReadTimeout not allowed here"},
	}
	for _, tt := range tests {
		t.Run(tt.conf, func(t *testing.T) {
			phasestest.WantError(t, tt.conf, tt.line, tt.want)
		})
	}
}
