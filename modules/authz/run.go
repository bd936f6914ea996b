package authz

import (
	"bufio"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/modules/authbasic"
	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// Result is an authz_status.
type Result int

const (
	Denied Result = iota
	Granted
	Neutral
	DeniedNoUser
	GeneralError
)

func (r Result) String() string {
	return [...]string{"denied", "granted", "neutral", "denied (no authenticated user yet)", "error"}[r]
}

func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	origin := ModuleName + " (Go)"
	h.Request.AccessChecker.Add(phases.Entry[phases.RequestHookFunc]{Fn: accessChecker, Origin: origin, Module: ModuleName, Order: phases.Last, Replayable: true})
	h.Request.AuthChecker.Add(phases.Entry[phases.RequestHookFunc]{Fn: authChecker, Origin: origin, Module: ModuleName, Order: phases.Middle, Replayable: true})
	return nil
}

// Merged returns the authorization rules that apply to r after Apache's
// merge_authz_core_dir_config: a section with Require lines replaces the
// inherited rules, unless its AuthMerging is And or Or, which combines them
// in a <RequireAll> or <RequireAny>. nil means no rules apply.
func Merged(r *phases.Request) *Rule {
	var section *Rule
	op := ""
	for ds := range phases.EachDirConf[DirSettings](r, ModuleName) {
		switch {
		case ds.Merging == "" && ds.Rules == nil:
			// Nothing set here: inherit.
		case ds.Merging == "Off" || ds.Merging == "" || (section == nil && op != "And" && op != "Or"):
			section, op = ds.Rules, ds.Merging
		default:
			if section != nil && ds.Rules != nil {
				logic := All
				if ds.Merging == "Or" {
					logic = Any
				}
				section = &Rule{Logic: logic, Rules: []*Rule{section, ds.Rules}}
			} else if section == nil {
				section = ds.Rules
			}
			op = ds.Merging
		}
	}
	return section
}

// accessChecker is mod_authz_core's access_checker_ex (authorize_userless):
// no rules grants (Apache 2.4's default), rules granting without a user
// skip authentication, rules that need a user let authentication run, and
// rules that deny answer 403.
func accessChecker(r *phases.Request) (phases.Status, error) {
	sec := Merged(r)
	if sec == nil {
		if authbasic.AuthType(r) != "" {
			logErr(r, "AuthType configured with no corresponding authorization directives")
			return http.StatusInternalServerError, nil
		}
		authbasic.MarkAuthorized(r)
		return phases.OK, nil
	}
	switch Evaluate(r, sec) {
	case Granted:
		authbasic.MarkAuthorized(r)
		return phases.OK, nil
	case DeniedNoUser:
		return phases.OK, nil
	case GeneralError:
		return http.StatusInternalServerError, nil
	}
	logDenied(r)
	return http.StatusForbidden, nil
}

// authChecker is authorize_user after authentication.
func authChecker(r *phases.Request) (phases.Status, error) {
	if authbasic.Authorized(r) {
		return phases.DECLINED, nil
	}
	if r.User == "" {
		// No check_user_id handler authenticated anyone (Apache's
		// decl_die for check_user_id).
		logErr(r, "configuration error:  couldn't check user.  Check your authn provider!: %s", r.URI)
		return http.StatusInternalServerError, nil
	}
	sec := Merged(r)
	if sec == nil {
		return phases.OK, nil
	}
	switch Evaluate(r, sec) {
	case Granted:
		return phases.OK, nil
	case DeniedNoUser:
		logErr(r, "authorization failure (no authenticated user): %s", r.URI)
		return http.StatusInternalServerError, nil
	case GeneralError:
		return http.StatusInternalServerError, nil
	}
	if authbasic.AuthType(r) == "" {
		logDenied(r)
		return http.StatusForbidden, nil
	}
	logErr(r, "user %s: authorization failure for \"%s\": ", r.User, r.URI)
	authbasic.NoteAuthFailure(r)
	return http.StatusUnauthorized, nil
}

func logDenied(r *phases.Request) {
	if r.Filename != "" {
		logErr(r, "client denied by server configuration: %s", r.Filename)
	} else {
		logErr(r, "client denied by server configuration: uri %s", r.URI)
	}
}

func logErr(r *phases.Request, format string, args ...any) {
	if r.Log() != nil {
		r.Log().Error("authz_core", format, args...)
	}
}

// Evaluate is apply_authz_sections(r, sec, AND) for the top-level rules.
func Evaluate(r *phases.Request, sec *Rule) Result {
	return apply(r, sec)
}

// apply evaluates one rule or container as Apache 2.4 does.
func apply(r *phases.Request, rule *Rule) Result {
	var res Result
	if !rule.IsSection() {
		res = check(r, rule)
	} else {
		res = Neutral
		for _, child := range rule.Rules {
			c := apply(r, child)
			if c == GeneralError {
				return GeneralError
			}
			if c == Neutral {
				continue
			}
			if rule.Logic == All {
				if c == Denied {
					res = c
					break
				}
				if (c == DeniedNoUser && res != Denied) || res == Neutral {
					res = c
				}
			} else {
				if c == Granted {
					res = c
					break
				}
				if (c == DeniedNoUser && res == Denied) || res == Neutral {
					res = c
				}
			}
		}
	}
	if rule.Negate {
		switch res {
		case Granted:
			res = Denied
		case Denied:
			// Not being refused is no reason to grant.
			res = Neutral
		}
	}
	return res
}

// check runs one provider.
func check(r *phases.Request, rule *Rule) Result {
	if rule.Provider != "all" && rule.Provider != "method" {
		// Client addresses, users, the environment, expressions: more
		// than the request line and the config decide.
		r.NotReplayable()
	}
	switch rule.Provider {
	case "all":
		if rule.Args[0] == "granted" {
			return Granted
		}
		return Denied
	case "env":
		for _, v := range rule.Args {
			if _, ok := r.SubprocessEnv[v]; ok {
				return Granted
			}
		}
		return Denied
	case "method":
		m := r.Method
		if m == http.MethodHead {
			m = http.MethodGet
		}
		for _, a := range rule.Args {
			if a == m || a == r.Method {
				return Granted
			}
		}
		return Denied
	case "ip":
		ip, ok := clientAddr(r)
		if !ok {
			return Denied
		}
		for _, p := range rule.IPs {
			if p.Contains(ip) {
				return Granted
			}
		}
		return Denied
	case "local":
		ip, ok := clientAddr(r)
		if !ok {
			return Denied
		}
		if ip.IsLoopback() {
			return Granted
		}
		if r.Conn != nil {
			if l, err := netip.ParseAddr(r.Conn.LocalIP); err == nil && l.Unmap() == ip {
				return Granted
			}
		}
		return Denied
	case "host":
		name := remoteHostDoubleRev(r)
		if name == "" {
			logErr(r, "access check of '%s' to %s failed, reason: unable to get the remote host name", strings.Join(rule.Args, " "), r.URI)
			return Denied
		}
		for _, d := range rule.Args {
			if inDomain(d, name) {
				return Granted
			}
		}
		return Denied
	case "forward-dns":
		ip, ok := clientAddr(r)
		if !ok {
			return Denied
		}
		for _, h := range rule.Args {
			addrs, err := net.LookupHost(h)
			if err != nil {
				continue
			}
			for _, a := range addrs {
				if x, err := netip.ParseAddr(a); err == nil && x.Unmap() == ip {
					return Granted
				}
			}
		}
		return Denied
	case "user":
		if r.User == "" {
			return DeniedNoUser
		}
		for _, u := range rule.Args {
			if u == r.User {
				return Granted
			}
		}
		return Denied
	case "valid-user":
		if r.User == "" {
			return DeniedNoUser
		}
		return Granted
	case "group":
		return checkGroup(r, rule)
	}
	return checkExternal(r, rule)
}

func clientAddr(r *phases.Request) (netip.Addr, bool) {
	a, err := netip.ParseAddr(r.UseragentIP)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// remoteHostDoubleRev is ap_get_useragent_host with REMOTE_DOUBLE_REV: the
// client's reverse-DNS name, only if it resolves back to the client.
func remoteHostDoubleRev(r *phases.Request) string {
	if r.Conn != nil && r.UseragentIP == r.Conn.ClientIP {
		return core.DoubleReverseHost(r) // once per connection
	}
	ip, ok := clientAddr(r)
	if !ok {
		return ""
	}
	names, err := net.LookupAddr(ip.String())
	if err != nil {
		return ""
	}
	for _, n := range names {
		n = strings.TrimSuffix(n, ".")
		addrs, err := net.LookupHost(n)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if x, err := netip.ParseAddr(a); err == nil && x.Unmap() == ip {
				return n
			}
		}
	}
	return ""
}

// inDomain is mod_authz_host's in_domain: what ends with domain at a
// label boundary.
func inDomain(domain, what string) bool {
	dl, wl := len(domain), len(what)
	if wl < dl || !strings.EqualFold(domain, what[wl-dl:]) {
		return false
	}
	return wl == dl || domain[0] == '.' || what[wl-dl-1] == '.'
}

// checkGroup is mod_authz_groupfile's "Require group".
func checkGroup(r *phases.Request, rule *Rule) Result {
	if r.User == "" {
		return DeniedNoUser
	}
	file := ""
	for gs := range phases.EachDirConf[GroupSettings](r, GroupModuleName) {
		if gs.GroupFile != "" {
			file = gs.GroupFile
		}
	}
	if file == "" {
		logErr(r, "Authorization of user %s to access %s failed, reason: no AuthGroupFile was specified in the configuration", r.User, r.URI)
		return Denied
	}
	groups, err := groupsFor(file, r.User)
	if err != nil {
		logErr(r, "Could not open group file: %s (%v)", file, err)
		return GeneralError
	}
	for _, g := range rule.Args {
		if groups[g] {
			return Granted
		}
	}
	if r.Log() != nil {
		r.Log().Info("authz_groupfile", "Authorization of user %s to access %s failed, reason: user doesn't appear in group file (%s).", r.User, r.URI, file)
	}
	return Denied
}

// groupsFor reads a group file ("group: user user ...", '#' comments) for
// the groups user is in; it is read on every request, as Apache does.
func groupsFor(file, user string) (map[string]bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		g, members, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, m := range strings.Fields(members) {
			if m == user {
				out[strings.TrimSpace(g)] = true
			}
		}
	}
	return out, sc.Err()
}
