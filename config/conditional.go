package config

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// evalConditional decides an <If...> section. lname is its lower-case name.
func (r *reader) evalConditional(lname string, pl *parsedLine, origin *Origin) (bool, error) {
	display := "<" + pl.Name + ">"
	if lname == "ifversion" {
		return evalIfVersion(pl.Args, r.opts.Version)
	}
	if len(pl.Args) != 1 {
		if len(pl.Args) == 0 {
			return false, fmt.Errorf("%s requires an argument", display)
		}
		return false, fmt.Errorf("%s takes one argument", display)
	}
	arg, negate := pl.Args[0], false
	if strings.HasPrefix(arg, "!") {
		arg, negate = arg[1:], true
	}
	if arg == "" {
		return false, fmt.Errorf("%s requires an argument", display)
	}
	var found bool
	switch lname {
	case "ifdefine":
		found = r.params[arg]
	case "ifmodule":
		found = r.moduleLoaded(arg, origin)
	case "iffile":
		_, err := os.Stat(r.path(arg))
		found = err == nil
	case "ifdirective":
		found = r.opts.Registry.Directive(arg) != nil || readTimeDecl[strings.ToLower(arg)] != nil
	case "ifsection":
		found = r.opts.Registry.Section(arg) != nil || conditionalNames[strings.ToLower(arg)]
	}
	return found != negate, nil
}

// moduleLoaded is true for every compiled-in module, except that of the MPM
// modules only the selected one (by default event) counts as loaded.
func (r *reader) moduleLoaded(name string, origin *Origin) bool {
	m := r.findModule(name)
	if m == nil {
		return false
	}
	if m.MPM == "" {
		return true
	}
	if r.mpmModule == nil {
		if r.mpmAssume == nil {
			r.mpmAssume = origin
		}
		return m.MPM == DefaultMPM
	}
	return r.mpmModule == m
}

// evalIfVersion implements mod_version's <IfVersion [[!]op] version>.
// Operators: = == > >= < <= and ~ (regex); a version written /regex/ is a
// regex match. Components missing from the version compare as 0, except
// that = only compares the components given.
func evalIfVersion(args []string, have string) (bool, error) {
	if len(args) == 0 || len(args) > 2 {
		return false, fmt.Errorf("<IfVersion> takes an optional operator and a version")
	}
	op, want := "=", args[len(args)-1]
	if len(args) == 2 {
		op = args[0]
	}
	negate := false
	if strings.HasPrefix(op, "!") {
		negate, op = true, op[1:]
		if op == "" {
			op = "="
		}
	}
	if strings.HasPrefix(want, "/") && strings.HasSuffix(want, "/") && len(want) > 1 {
		if op != "=" && op != "==" {
			return false, fmt.Errorf("<IfVersion> operator '%s' cannot take a /regex/", op)
		}
		op, want = "~", want[1:len(want)-1]
	}
	if op == "~" {
		re, err := regexp.Compile(want)
		if err != nil {
			return false, fmt.Errorf("<IfVersion> regex '%s' does not compile: %v", want, err)
		}
		return re.MatchString(have) != negate, nil
	}
	w, err := parseVersion(want)
	if err != nil {
		return false, err
	}
	h, _ := parseVersion(have)
	cmp := 0
	for i := 0; i < 3 && cmp == 0; i++ {
		if op == "=" || op == "==" {
			if i >= len(w) {
				break
			}
		}
		a, b := at(h, i), at(w, i)
		switch {
		case a < b:
			cmp = -1
		case a > b:
			cmp = 1
		}
	}
	var ok bool
	switch op {
	case "=", "==":
		ok = cmp == 0
	case ">":
		ok = cmp > 0
	case ">=":
		ok = cmp >= 0
	case "<":
		ok = cmp < 0
	case "<=":
		ok = cmp <= 0
	default:
		return false, fmt.Errorf("<IfVersion> has an unknown operator '%s'", op)
	}
	return ok != negate, nil
}

func at(v []int, i int) int {
	if i < len(v) {
		return v[i]
	}
	return 0
}

func parseVersion(s string) ([]int, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return nil, fmt.Errorf("<IfVersion> version '%s' is not major[.minor[.patch]]", s)
	}
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("<IfVersion> version '%s' is not major[.minor[.patch]]", s)
		}
		out[i] = n
	}
	return out, nil
}
