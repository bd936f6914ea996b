package status_test

import (
	"testing"

	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/status"
	"github.com/httpdg/httpdg/phases/phasestest"
)

func TestValid(t *testing.T) {
	cases := []struct {
		conf            string
		extended, tail  bool
		extSet, tailSet bool
	}{
		{"", true, false, false, false},
		{"ExtendedStatus Off\n", false, false, true, false},
		{"ExtendedStatus on\nSeeRequestTail ON\n", true, true, true, true},
		{"SeeRequestTail off\n", true, false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.conf, func(t *testing.T) {
			cfg := phasestest.MustLoad(t, tc.conf)
			g := status.GlobalOf(cfg)
			if g.Extended() != tc.extended || g.RequestTail() != tc.tail || (g.ExtendedStatus != nil) != tc.extSet || (g.SeeRequestTail != nil) != tc.tailSet {
				t.Errorf("got %+v, Extended %v RequestTail %v", g, g.Extended(), g.RequestTail())
			}
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
		{"ExtendedStatus bad", "\nExtendedStatus full\n", 2, "ExtendedStatus must be On or Off"},
		{"ExtendedStatus none", "ExtendedStatus\n", 1, "ExtendedStatus must be On or Off"},
		{"ExtendedStatus in vhost", "<VirtualHost *:80>\nExtendedStatus On\n</VirtualHost>\n", 2, "ExtendedStatus cannot occur within <VirtualHost> section"},
		{"ExtendedStatus in Location", "<Location /server-status>\nExtendedStatus On\n</Location>\n", 2, "ExtendedStatus not allowed here"},
		{"SeeRequestTail bad", "SeeRequestTail 1\n", 1, "SeeRequestTail must be On or Off"},
		{"SeeRequestTail in vhost", "<VirtualHost *:80>\nSeeRequestTail On\n</VirtualHost>\n", 2, "SeeRequestTail cannot occur within <VirtualHost> section"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			phasestest.WantError(t, tc.conf, tc.line, tc.want)
		})
	}
}
