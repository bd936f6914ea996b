package config

import (
	"fmt"
	"strings"
)

// Origin says where a config line came from: its file, its line, and the
// Include directive (itself an Origin) that brought the file in.
type Origin struct {
	File         string
	Line         int
	IncludedFrom *Origin
}

// maxChainShown bounds the include chain an error message lists.
const maxChainShown = 8

// String renders the origin the way error messages name it:
// "line 12 of /srv/conf/x.conf (included from line 40 of /srv/conf/httpd.conf)".
func (o *Origin) String() string {
	if o == nil {
		return "<unknown>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "line %d of %s", o.Line, o.File)
	if o.IncludedFrom != nil {
		var chain []*Origin
		for inc := o.IncludedFrom; inc != nil; inc = inc.IncludedFrom {
			chain = append(chain, inc)
		}
		b.WriteString(" (")
		for i, inc := range chain {
			// A runaway recursion would print 128 links: keep both ends.
			if len(chain) > maxChainShown && i == maxChainShown/2 {
				fmt.Fprintf(&b, ", ... %d more includes ...", len(chain)-maxChainShown)
			}
			if len(chain) > maxChainShown && i >= maxChainShown/2 && i < len(chain)-maxChainShown/2 {
				continue
			}
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "included from line %d of %s", inc.Line, inc.File)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Short renders "file:line" for log lines and warnings.
func (o *Origin) Short() string {
	if o == nil {
		return "<unknown>"
	}
	return fmt.Sprintf("%s:%d", o.File, o.Line)
}

// Error is a configuration error tied to the line that caused it. Its text
// follows Apache's "Syntax error on line N of FILE:" layout, with the include
// chain added.
type Error struct {
	Origin *Origin
	Msg    string
}

func (e *Error) Error() string {
	if e.Origin == nil {
		return e.Msg
	}
	return fmt.Sprintf("Syntax error on %s:\n%s", e.Origin, e.Msg)
}

// errorAt builds an *Error for origin o.
func errorAt(o *Origin, format string, args ...any) *Error {
	return &Error{Origin: o, Msg: fmt.Sprintf(format, args...)}
}

// Warning is a non-fatal remark about a config line (a trailing '#', a
// built-in module named by LoadModule).
type Warning struct {
	Origin *Origin
	Msg    string
}

func (w Warning) String() string {
	return fmt.Sprintf("%s: %s", w.Origin.Short(), w.Msg)
}
