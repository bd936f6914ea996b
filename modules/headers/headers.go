// Package headers is httpdg's headers module (headers_module, Apache's
// mod_headers): Header changes response headers and RequestHeader changes
// request headers, with Apache 2.4's syntax
//
//	Header [always|onsuccess] action header [value] [replacement] [early|env=[!]var|expr=...]
//	RequestHeader action header [value] [replacement] [early|env=[!]var|expr=...]
//
// See registerHooks for where each line is applied; expr= conditions and
// values are not supported (the lines are skipped, with a warning).
package headers

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the headers module's identifier.
const ModuleName = "headers_module"

// Action is one Header or RequestHeader line.
type Action struct {
	// Always is true for "Header always" (the table kept for error
	// responses too); false for onsuccess and for RequestHeader.
	Always bool
	// Action is the lower-case action: set, append, merge, add, unset,
	// echo, edit, edit*, setifempty or note.
	Action string
	// Header is the header name (a trailing ":" removed); for echo, a
	// regular expression on request header names, compiled in Regex.
	Header string
	// Value is the value (a format string with %-specifiers, or
	// "expr=..."); for edit and edit*, the regular expression compiled in
	// Regex; for note, the note's name.
	Value string
	// Replacement is edit's and edit*'s replacement text.
	Replacement string
	Regex       *regexp.Regexp
	// The condition: Early for "early"; EnvVar (negated by EnvNot) for
	// "env=[!]var"; Expr for "expr=...".
	Early  bool
	EnvVar string
	EnvNot bool
	Expr   string
	Origin *config.Origin
}

// DirSettings holds the Header and RequestHeader lines of one per-directory
// section, or of a server's defaults outside any section, each in config
// order.
type DirSettings struct {
	Response []Action // Header
	Request  []Action // RequestHeader
}

// SectionOf returns the headers settings made inside sec.
func SectionOf(sec *config.Section) *DirSettings {
	return config.SectionConf[DirSettings](sec, ModuleName)
}

// ServerDirOf returns the headers settings server s makes outside any
// section.
func ServerDirOf(s *config.Server) *DirSettings {
	return config.ServerDirConf[DirSettings](s, ModuleName)
}

func dirOf(cmd *config.Cmd) *DirSettings {
	return config.DirConf[DirSettings](cmd, ModuleName)
}

func init() {
	all := config.AnyContext
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_headers.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		{Name: "Header", Form: config.RawArgs, Contexts: all, Built: true, Help: "an optional always or onsuccess, an action, a header name and value, and an optional condition", Handler: func(c *config.Cmd) error {
			a, err := parse(c, true)
			if err == nil {
				dirOf(c).Response = append(dirOf(c).Response, a)
			}
			return err
		}},
		{Name: "RequestHeader", Form: config.RawArgs, Contexts: all, Built: true, Help: "an action, a header name and value, and an optional condition", Handler: func(c *config.Cmd) error {
			a, err := parse(c, false)
			if err == nil {
				dirOf(c).Request = append(dirOf(c).Request, a)
			}
			return err
		}},
	}})
}

var actions = []string{"set", "append", "merge", "add", "unset", "echo", "edit", "edit*", "setifempty", "note"}

// parse reads one line the way mod_headers' header_cmd and
// header_inout_cmd do, with their messages.
func parse(c *config.Cmd, response bool) (Action, error) {
	name := c.Directive.Name
	args := c.Args
	a := Action{Origin: c.Node.Origin}
	next := func() string {
		if len(args) == 0 {
			return ""
		}
		s := args[0]
		args = args[1:]
		return s
	}
	action := next()
	if response {
		switch strings.ToLower(action) {
		case "always":
			a.Always = true
			action = next()
		case "onsuccess":
			action = next()
		}
	}
	a.Action = strings.ToLower(action)
	known := false
	for _, x := range actions {
		known = known || a.Action == x
	}
	if !known {
		if !response && (strings.EqualFold(action, "always") || strings.EqualFold(action, "onsuccess")) {
			return a, fmt.Errorf("RequestHeader: '%s' is only valid on Header directives", action)
		}
		return a, fmt.Errorf("%s: first argument must be 'add', 'set', 'setifempty', 'append', 'merge', 'unset', 'echo', 'note', 'edit', or 'edit*' (got '%s')", name, action)
	}
	if !response && (a.Action == "echo" || a.Action == "note") {
		return a, fmt.Errorf("RequestHeader: '%s' is only valid on Header directives", a.Action)
	}
	hdr := next()
	if hdr == "" {
		return a, fmt.Errorf("%s %s requires a header name", name, a.Action)
	}
	var value, subs, cond string
	hasValue, hasSubs := len(args) > 0, len(args) > 1
	value, subs, cond = next(), next(), next()
	if len(args) > 0 {
		return a, fmt.Errorf("%s has too many arguments", name)
	}
	switch a.Action {
	case "edit", "edit*":
		if !hasSubs {
			return a, fmt.Errorf("%s edit requires a match and a substitution", name)
		}
		re, err := regexp.Compile(value)
		if err != nil {
			return a, fmt.Errorf("%s edit regex could not be compiled: '%s': %v", name, value, err)
		}
		a.Regex, a.Replacement = re, subs
		if err := checkFormat(name, subs); err != nil {
			return a, err
		}
	default:
		// Without a replacement, the third word is the condition.
		if cond != "" {
			return a, fmt.Errorf("Too many arguments to directive %s %s", name, a.Action)
		}
		cond = subs
	}
	switch a.Action {
	case "unset":
		if hasValue {
			if cond != "" {
				return a, fmt.Errorf("%s unset takes two arguments (a header name and an optional condition)", name)
			}
			cond, value = value, ""
		}
	case "echo":
		if hasValue {
			if cond != "" {
				return a, fmt.Errorf("Header echo takes two arguments (a header name regex and an optional condition)")
			}
			cond, value = value, ""
		}
		re, err := regexp.Compile(hdr)
		if err != nil {
			return a, fmt.Errorf("Header echo regex could not be compiled: '%s': %v", hdr, err)
		}
		a.Regex = re
	case "edit", "edit*":
	default:
		if !hasValue {
			return a, fmt.Errorf("%s %s requires three arguments (an action, a header name and a value)", name, a.Action)
		}
		if err := checkFormat(name, value); err != nil {
			return a, err
		}
	}
	a.Value = value
	if a.Action != "echo" {
		hdr, _, _ = strings.Cut(hdr, ":")
		if !token(hdr) {
			return a, fmt.Errorf("%s: '%s' is not a valid header name", name, hdr)
		}
	}
	a.Header = hdr
	if cond != "" {
		if err := condition(c, &a, cond); err != nil {
			return a, err
		}
	}
	return a, nil
}

// condition parses early, env=[!]var or expr=... .
func condition(c *config.Cmd, a *Action, cond string) error {
	name := c.Directive.Name
	lower := strings.ToLower(cond)
	switch {
	case lower == "early":
		if c.Section != nil {
			return fmt.Errorf("%s: early is only valid in server config and virtual host context", name)
		}
		a.Early = true
	case strings.HasPrefix(lower, "env="):
		v := cond[4:]
		if strings.HasPrefix(v, "!") {
			a.EnvNot, v = true, v[1:]
		}
		if v == "" {
			return fmt.Errorf("error: missing environment variable name. envclause should be in the form env=envar ")
		}
		a.EnvVar = v
	case strings.HasPrefix(lower, "expr="):
		if cond[5:] == "" {
			return fmt.Errorf("Can't parse envclause/expression: the expression is empty")
		}
		a.Expr = cond[5:]
	default:
		return fmt.Errorf("Unknown parameter: %s", cond)
	}
	return nil
}

// checkFormat validates the %-specifiers of a header value the way
// mod_headers parses them: %% %t %D %l %i %b %{NAME}e %{NAME}s
// %{NAME}^ti %{NAME}^to; a '%' at the end stands for itself. A value
// written "expr=..." is an expression instead.
func checkFormat(name, s string) error {
	if len(s) >= 5 && strings.EqualFold(s[:5], "expr=") {
		if s[5:] == "" {
			return fmt.Errorf("Can't parse value expression: the expression is empty")
		}
		return nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		i++
		if i >= len(s) || s[i] == '%' {
			continue
		}
		arg, hasArg := "", false
		if s[i] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return fmt.Errorf("%s: unterminated %%{ in '%s'", name, s)
			}
			arg, hasArg = s[i+1:i+end], true
			i += end + 1
			if i >= len(s) {
				return fmt.Errorf("%s: '%%{%s}' is not followed by a format letter in '%s'", name, arg, s)
			}
		}
		tag := s[i : i+1]
		if strings.HasPrefix(s[i:], "^ti") || strings.HasPrefix(s[i:], "^to") {
			tag = s[i : i+3]
			i += 2
		}
		switch tag {
		case "t", "D", "l", "i", "b":
		case "e", "s", "^ti", "^to":
			if !hasArg || arg == "" {
				return fmt.Errorf("%s: %%%s needs a name, as in %%{NAME}%s", name, tag, tag)
			}
		default:
			return fmt.Errorf("Unrecognized header format %%%s", tag)
		}
	}
	return nil
}

// token reports whether s is a non-empty RFC 9110 token (a header name).
func token(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return true
}
