package proxy_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/httpdg/httpdg/modules/authz"
	_ "github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/modules/proxy"
	"github.com/httpdg/httpdg/phases/phasestest"
)

const validConf = `ProxyRequests Off
ProxyTimeout 30
ProxyPreserveHost On
ProxyPass /static !
ProxyPass /app/ http://Backend.Example:80/app/ timeout=10 retry=0 keepalive=On connectiontimeout=500ms
ProxyPassReverse /app/ http://backend.example/app/
ProxyPass ~ ^/api/(.*)$ https://api.example:8443/$1 nocanon
ProxyPass /lb/ balancer://mycluster/ stickysession=JSESSIONID|jsessionid lbmethod=byrequests
ProxySet http://backend.example/app/ ttl=60
<Proxy balancer://mycluster>
    BalancerMember http://10.0.0.1:8080 route=a hcmethod=GET hcuri=/health hcinterval=5 hcpasses=2 hcfails=3
    BalancerMember http://10.0.0.2:8080 route=b loadfactor=2.5 status=+H
    ProxySet failonstatus=500,503 maxattempts=1
    Require all granted
</Proxy>
BalancerMember balancer://mycluster http://[::1]:8080 hcmethod=tcp hcinterval=500ms
<Location /ws/>
    ProxyPass ws://chat.example/ws/ upgrade=websocket
    ProxyPassReverse ws://chat.example/ws/
    ProxyPreserveHost Off
</Location>
<Proxy "http://10.9.9.9/*">
    Require ip 10.0.0.0/8
</Proxy>
<Proxy http://10.0.0.9/ timeout=5>
</Proxy>
`

func TestValid(t *testing.T) {
	cfg := phasestest.MustLoad(t, validConf)
	s := proxy.ServerOf(cfg.Main)
	if s.Timeout != 30*time.Second || s.Requests == nil || *s.Requests || s.PreserveHost == nil || !*s.PreserveHost {
		t.Errorf("server flags: timeout %v requests %v preserve %v", s.Timeout, s.Requests, s.PreserveHost)
	}
	var passes []string
	for _, p := range s.Passes {
		passes = append(passes, fmt.Sprintf("%s->%s %v re=%v nocanon=%v", p.Path, p.URL, p.Params, p.Regex != nil, p.NoCanon))
	}
	wantPasses := []string{
		"/static->! map[] re=false nocanon=false",
		"/app/->http://Backend.Example:80/app/ map[connectiontimeout:500ms keepalive:On retry:0 timeout:10] re=false nocanon=false",
		"^/api/(.*)$->https://api.example:8443/$1 map[] re=true nocanon=true",
		"/lb/->balancer://mycluster/ map[lbmethod:byrequests stickysession:JSESSIONID|jsessionid] re=false nocanon=false",
	}
	if !reflect.DeepEqual(passes, wantPasses) {
		t.Errorf("passes:\n%s\nwant:\n%s", strings.Join(passes, "\n"), strings.Join(wantPasses, "\n"))
	}
	var workers []string
	for _, w := range s.Workers {
		workers = append(workers, fmt.Sprintf("%s %v", w.Name, w.Params))
	}
	wantWorkers := []string{
		"http://backend.example/app/ map[connectiontimeout:500ms keepalive:On retry:0 timeout:10 ttl:60]",
		"https://api.example:8443/$1 map[]",
		"ws://chat.example/ws/ map[upgrade:websocket]",
		"http://10.0.0.9/ map[timeout:5]",
	}
	if !reflect.DeepEqual(workers, wantWorkers) {
		t.Errorf("workers:\n%s\nwant:\n%s", strings.Join(workers, "\n"), strings.Join(wantWorkers, "\n"))
	}
	if len(s.Reverse) != 1 || s.Reverse[0] != (proxy.ReversePass{Path: "/app/", URL: "http://backend.example/app/", Origin: s.Reverse[0].Origin}) {
		t.Errorf("reverse = %+v", s.Reverse)
	}

	b := s.Balancer("balancer://MyCluster/")
	if b == nil || len(s.Balancers) != 1 {
		t.Fatalf("balancers = %+v", s.Balancers)
	}
	if want := map[string]string{"lbmethod": "byrequests", "stickysession": "JSESSIONID|jsessionid", "failonstatus": "500,503", "maxattempts": "1"}; !reflect.DeepEqual(b.Params, want) {
		t.Errorf("balancer params = %v", b.Params)
	}
	var members []string
	for _, m := range b.Members {
		members = append(members, fmt.Sprintf("%s %+v", m.Name, m.HealthCheck))
	}
	wantMembers := []string{
		"http://10.0.0.1:8080 {Method:GET Interval:5s Passes:2 Fails:3 URI:/health}",
		"http://10.0.0.2:8080 {Method: Interval:0s Passes:0 Fails:0 URI:}",
		"http://[::1]:8080 {Method:TCP Interval:500ms Passes:0 Fails:0 URI:}",
	}
	if !reflect.DeepEqual(members, wantMembers) {
		t.Errorf("members:\n%s\nwant:\n%s", strings.Join(members, "\n"), strings.Join(wantMembers, "\n"))
	}

	var kinds []string
	for _, sec := range cfg.Main.Sections {
		kinds = append(kinds, sec.Kind+" "+sec.Arg)
	}
	if want := []string{"Proxy balancer://mycluster", "Location /ws/", "Proxy http://10.9.9.9/*", "Proxy http://10.0.0.9/"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("sections = %v", kinds)
	}
	loc := proxy.SectionOf(cfg.Main.Sections[1])
	if loc.Pass == nil || loc.Pass.Path != "/ws/" || loc.Pass.URL != "ws://chat.example/ws/" || len(loc.Reverse) != 1 || loc.Reverse[0].Path != "/ws/" || loc.PreserveHost == nil || *loc.PreserveHost {
		t.Errorf("location settings = %+v", loc)
	}
}

func TestWorkerSharingWarns(t *testing.T) {
	cfg := phasestest.MustLoad(t, "ProxyPass /a http://b/ timeout=5\nProxyPass /c http://b/ retry=5\n")
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, "Ignoring parameter 'retry=5' for worker 'http://b/' because of worker sharing") {
		t.Errorf("warnings = %v", cfg.Warnings)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		conf string
		line int
		want string
	}{
		{"ProxyPass\n", 1, "ProxyPass|ProxyPassMatch needs a path when not defined in a location"},
		{"ProxyPass /a\n", 1, "ProxyPass|ProxyPassMatch needs a path when not defined in a location"},
		{"ProxyPass /a backend:8080\n", 1, "ProxyPass URL must be absolute!: backend:8080"},
		{"ProxyPass /a /b\n", 1, "ProxyPass URL must be absolute!: /b"},
		{"ProxyPass /a fcgi://127.0.0.1:9000/\n", 1, "fcgi:// URL, which httpdg cannot proxy to"},
		{"ProxyPass /a http://b/ timeout\n", 1, "Invalid ProxyPass|ProxyPassMatch parameter. Parameter must be in the form 'key=value'."},
		{"ProxyPass /a http://b/ timeout=0\n", 1, "ProxyPass Timeout must be at least one second"},
		{"ProxyPass /a http://b/ timeout=abc\n", 1, "ProxyPass Timeout must be at least one second"},
		{"ProxyPass /a http://b/ retry=-1\n", 1, "ProxyPass Retry must be a positive value"},
		{"ProxyPass /a http://b/ keepalive=yes\n", 1, "ProxyPass KeepAlive must be On|Off"},
		{"ProxyPass /a http://b/ connectiontimeout=5x\n", 1, "ProxyPass Connectiontimeout has wrong format"},
		{"ProxyPass /a http://b/ connectiontimeout=0\n", 1, "ProxyPass Connectiontimeout must be at least one millisecond."},
		{"ProxyPass /a http://b/ loadfactor=101\n", 1, "LoadFactor must be a number between 1..100"},
		{"ProxyPass /a http://b/ iobuffersize=100\n", 1, "IOBufferSize must be >= 512 bytes"},
		{"ProxyPass /a http://b/ bogus=1\n", 1, "ProxyPass unknown Worker parameter"},
		{"ProxyPass /a http://b/ mapping=weird\n", 1, "unknown mapping"},
		{"ProxyPass /a http://b/ status=X\n", 1, "Unknown status parameter option"},
		{"ProxyPass /a balancer://lb/ lbmethod=random\n", 1, "ProxyPass unknown lbmethod"},
		{"ProxyPass /a balancer://lb/ retry=5\n", 1, "ProxyPass unknown Balancer parameter"},
		{"ProxyPass /a balancer://\n", 1, "ProxyPass Bad syntax for a balancer name (balancer://)"},
		{"ProxyPass ~ ^/(a http://b/\n", 1, "Regular expression could not be compiled"},
		{"ProxyPass /a unix:/run/app.sock\n", 1, "uses an invalid \"unix:\" URL"},
		{"<Location /x>\nProxyPass /x http://b/\n</Location>\n", 2, "ProxyPass|ProxyPassMatch can not have a path when defined in a location."},
		{"<Directory /srv>\nProxyPass http://b/\n</Directory>\n", 2, "ProxyPass cannot occur within <Directory> section"},
		{"<Location /x>\nProxyPassReverse /x http://b/\n</Location>\n", 2, "ProxyPassReverse can not have a path when defined in a location"},
		{"ProxyPassReverse http://b/\n", 1, "ProxyPassReverse needs a path when not defined in a location"},
		{"ProxyPassReverse / http://b/ extra\n", 1, "ProxyPassReverse: 'extra' is not 'interpolate'"},
		{"ProxyPassReverse / backend\n", 1, "ProxyPassReverse: 'backend' is not a URL"},
		{"ProxyPassReverse a b c d\n", 1, "ProxyPassReverse takes one, two or three arguments"},
		{"ProxyTimeout 0\n", 1, "Proxy Timeout must be at least 1 second."},
		{"ProxyTimeout soon\n", 1, "ProxyTimeout: 'soon' is not a whole number of seconds"},
		{"<Location />\nProxyTimeout 5\n</Location>\n", 2, "ProxyTimeout not allowed here"},
		{"ProxyRequests maybe\n", 1, "ProxyRequests must be On or Off"},
		{"ProxyPreserveHost\n", 1, "ProxyPreserveHost must be On or Off"},
		{"<Proxy>\n</Proxy>\n", 1, "<Proxy > block must specify a path"},
		{"<ProxyMatch ^(http>\n</ProxyMatch>\n", 1, "Regex could not be compiled"},
		{"<Directory /srv>\n<Proxy *>\n</Proxy>\n</Directory>\n", 2, "<Proxy> cannot occur within <Directory/Location/Files> section"},
		{"<Proxy *>\nRequire all granted\nProxyTimeout 5\n</Proxy>\n", 3, "ProxyTimeout not allowed here"},
		{"<Proxy * timeout=5>\n</Proxy>\n", 1, "<Proxy> arguments are not supported for wildchar url."},
		{"<Proxy balancer://x lbmethod=nope>\n</Proxy>\n", 1, "<Proxy unknown lbmethod lbmethod=nope; balancer://x"},
		{"<Proxy http://b/ timeout>\n</Proxy>\n", 1, "Invalid Proxy parameter. Parameter must be in the form 'key=value'"},
		{"BalancerMember http://b/\n", 1, "BalancerMember must define remote proxy server"},
		{"BalancerMember\n", 1, "BalancerMember must define balancer name when outside <Proxy > section"},
		{"BalancerMember http://lb http://b/\n", 1, "BalancerMember: 'http://lb' is not a balancer name (balancer://name)"},
		{"<Proxy balancer://lb>\nBalancerMember balancer://lb http://b/\n</Proxy>\n", 2, "BalancerMember can not have a balancer name when defined in a location"},
		{"<Proxy http://lb/>\nBalancerMember http://b/\n</Proxy>\n", 2, "the enclosing <Proxy http://lb/> is not a balancer"},
		{"<Proxy balancer://lb>\nBalancerMember b:80\n</Proxy>\n", 2, "BalancerMember URL must be absolute!: b:80"},
		{"<Proxy balancer://lb>\nBalancerMember http://b/ hcmethod=PING\n</Proxy>\n", 2, "BalancerMember Unknown method"},
		{"<Proxy balancer://lb>\nBalancerMember http://b/ hcmethod=CPING\n</Proxy>\n", 2, "Health check method CPING not (yet) implemented"},
		{"<Proxy balancer://lb>\nBalancerMember http://b/ hcinterval=50ms\n</Proxy>\n", 2, "Interval must be a positive value greater than 100ms"},
		{"<Proxy balancer://lb>\nBalancerMember http://b/ hcinterval=often\n</Proxy>\n", 2, "Unparse-able hcinterval setting"},
		{"<Proxy balancer://lb>\nBalancerMember http://b/ hcpasses=-1\n</Proxy>\n", 2, "Passes must be a positive value"},
		{"<Proxy balancer://lb>\nBalancerMember http://b/ hcfails=x\n</Proxy>\n", 2, "Fails must be a positive value"},
		{"<Proxy balancer://lb>\nBalancerMember http://b/ hcuri=/" + strings.Repeat("x", 70) + "\n</Proxy>\n", 2, "Health check uri length must be < 64 characters"},
		{"<Proxy balancer://lb>\nBalancerMember http://b/ hcexpr=ok\n</Proxy>\n", 2, "hcexpr is not supported"},
		{"<Proxy balancer://lb>\nBalancerMember http://b/ lbset=100\n</Proxy>\n", 2, "lbset must be between 0 and 99"},
		{"ProxySet\n", 1, "ProxySet requires a balancer or worker name"},
		{"ProxySet balancer://nope timeout=5\n", 1, "ProxySet can not find 'balancer://nope' Balancer."},
		{"ProxySet http://nope/ timeout=5\n", 1, "ProxySet can not find 'http://nope/' Worker."},
		{"ProxyPass / balancer://lb/\nProxySet balancer://lb growth=0\n", 2, "ProxySet: growth must be between 1 and 100 growth=0; balancer://lb"},
		{"ProxyPass / http://b/\nProxySet http://b/ timeout\n", 2, "Invalid ProxySet parameter. Parameter must be in the form 'key=value'"},
		{"<Proxy balancer://lb>\nProxySet nofailover=maybe\n</Proxy>\n", 2, "ProxySet: failover must be On|Off nofailover=maybe; balancer://lb"},
	}
	for _, tt := range tests {
		t.Run(tt.conf, func(t *testing.T) {
			phasestest.WantError(t, tt.conf, tt.line, tt.want)
		})
	}
}
