package logconfig

import (
	"fmt"
	"strconv"
	"strings"
)

// Item is one piece of a parsed log format: literal text, or a
// %-directive.
type Item struct {
	// Literal is text copied as is (escapes \n and \t already applied);
	// when it is set the fields below are unused.
	Literal string
	// Directive is the letter (or "^ti", "^to", "^FB") after '%'.
	Directive string
	// Arg is the text between braces, as in %{Referer}i.
	Arg string
	// Orig is -1 when neither '<' nor '>' was given, 1 for '<' (the
	// original request), 0 for '>' (the final request after internal
	// redirects).
	Orig int
	// Statuses limit the item to responses with these codes (or, with
	// Negate, to the others); the item logs "-" otherwise.
	Statuses []int
	Negate   bool
}

type argRule int

const (
	noArg      argRule = iota // takes no {argument}
	anyArg                    // any argument, or none (strftime formats)
	needArg                   // a non-empty {argument} is required
	choiceArgs                // none, or one of the listed choices
)

// directives are mod_log_config's %-directives, with mod_logio's (%I %O
// %S %^FB) and mod_ssl's (%{VAR}x %{VAR}c).
var directives = map[string]struct {
	rule    argRule
	choices []string
}{
	"a": {choiceArgs, []string{"c"}},
	"A": {noArg, nil},
	"b": {noArg, nil},
	"B": {noArg, nil},
	"C": {needArg, nil},
	"D": {noArg, nil},
	"e": {needArg, nil},
	"f": {noArg, nil},
	"h": {choiceArgs, []string{"c"}},
	"H": {noArg, nil},
	"i": {needArg, nil},
	"k": {noArg, nil},
	"l": {noArg, nil},
	"L": {noArg, nil},
	"m": {noArg, nil},
	"n": {needArg, nil},
	"o": {needArg, nil},
	"p": {choiceArgs, []string{"canonical", "local", "remote"}},
	"P": {choiceArgs, []string{"pid", "tid", "hextid"}},
	"q": {noArg, nil},
	"r": {noArg, nil},
	"R": {noArg, nil},
	"s": {noArg, nil},
	"t": {anyArg, nil},
	"T": {choiceArgs, []string{"s", "ms", "us"}},
	"u": {noArg, nil},
	"U": {noArg, nil},
	"v": {noArg, nil},
	"V": {noArg, nil},
	"X": {noArg, nil},
	"I": {noArg, nil},
	"O": {noArg, nil},
	"S": {noArg, nil},
	"x": {needArg, nil},
	"c": {needArg, nil},
	// Three-character directives start with '^'.
	"^ti": {needArg, nil},
	"^to": {needArg, nil},
	"^FB": {noArg, nil},
}

// ParseFormat parses a LogFormat string the way mod_log_config's
// parse_log_string does, with its messages for what it rejects, and rejects
// besides a {argument} a directive does not understand and a status
// condition that is not an HTTP status.
func ParseFormat(s string) ([]Item, error) {
	var items []Item
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			items = append(items, Item{Literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		ch := s[i]
		if ch == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			default:
				lit.WriteByte('\\')
				lit.WriteByte(s[i+1])
			}
			i += 2
			continue
		}
		if ch != '%' {
			lit.WriteByte(ch)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i += 2
			continue
		}
		item, next, err := parseItem(s, i+1)
		if err != nil {
			return nil, err
		}
		flush()
		items = append(items, item)
		i = next
	}
	flush()
	return items, nil
}

// parseItem reads one %-directive whose text starts at s[i] (after '%')
// and returns the index after it.
func parseItem(s string, i int) (Item, int, error) {
	it := Item{Orig: -1}
	hasArg := false
	for i < len(s) {
		c := s[i]
		switch {
		case c == '!':
			it.Negate = !it.Negate
			i++
		case c == '<':
			it.Orig = 1
			i++
		case c == '>':
			it.Orig = 0
			i++
		case c == ',':
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return it, 0, fmt.Errorf("Ran off end of LogFormat parsing args to some directive (unterminated %%{ in '%s')", s)
			}
			it.Arg, hasArg = s[i+1:i+end], true
			i += end + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(s[i:j])
			if j-i != 3 || n < 100 || n > 599 {
				return it, 0, fmt.Errorf("LogFormat: status condition '%s' is not an HTTP status code (100 to 599)", s[i:j])
			}
			it.Statuses = append(it.Statuses, n)
			i = j
		default:
			name := s[i : i+1]
			if c == '^' && i+3 <= len(s) {
				if _, ok := directives[s[i:i+3]]; ok {
					name = s[i : i+3]
				}
			}
			spec, ok := directives[name]
			if !ok {
				return it, 0, fmt.Errorf("Unrecognized LogFormat directive %%%s", name)
			}
			it.Directive = name
			if err := checkArg(it, hasArg, spec.rule, spec.choices); err != nil {
				return it, 0, err
			}
			return it, i + len(name), nil
		}
	}
	return it, 0, fmt.Errorf("Ran off end of LogFormat parsing args to some directive (a '%%' at the end of '%s'; write %%%% for a percent sign)", s)
}

func checkArg(it Item, hasArg bool, rule argRule, choices []string) error {
	d := it.Directive
	switch rule {
	case noArg:
		if hasArg {
			return fmt.Errorf("LogFormat: %%%s takes no {argument} (got %%{%s}%s)", d, it.Arg, d)
		}
	case needArg:
		if it.Arg == "" {
			return fmt.Errorf("LogFormat: %%%s needs a name in braces, as in %%{NAME}%s", d, d)
		}
	case choiceArgs:
		if !hasArg || it.Arg == "" {
			return nil
		}
		for _, ch := range choices {
			if strings.EqualFold(it.Arg, ch) {
				return nil
			}
		}
		return fmt.Errorf("LogFormat: %%{%s}%s: the argument of %%%s must be one of %s", it.Arg, d, d, strings.Join(choices, ", "))
	}
	return nil
}
