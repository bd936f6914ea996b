package config

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Node is one directive or section of the effective config tree: includes
// inlined, ${VAR} expanded, conditional sections resolved (a true one's body
// is spliced in its place, a false one is gone), read-time directives
// (Include, Define, LoadModule, ServerRoot...) consumed.
type Node struct {
	Name     string   // as written; a section's name without '<'
	Args     []string // unquoted arguments
	Raw      string   // argument text as written after expansion (sections: without '>')
	Section  bool     // a <Name ...> container
	Children []*Node  // a section's body
	Origin   *Origin
}

// Display is the name as written in a config: "<Directory" is shown as
// "<Directory>" in messages.
func (n *Node) Display() string {
	if n.Section {
		return "<" + n.Name + ">"
	}
	return n.Name
}

// Dump writes the tree as a valid config, one "# In file:" comment each time
// the source file changes, sections indented by four spaces. Paths under root
// are shown relative to it so the output does not depend on where the tree
// lives.
func Dump(w io.Writer, nodes []*Node, root string) error {
	d := dumper{w: w, root: root}
	d.nodes(nodes, 0)
	return d.err
}

type dumper struct {
	w    io.Writer
	root string
	file string
	err  error
}

func (d *dumper) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}

func (d *dumper) nodes(nodes []*Node, depth int) {
	indent := strings.Repeat("    ", depth)
	for _, n := range nodes {
		if f := n.Origin.File; f != d.file {
			d.file = f
			d.printf("%s# In file: %s\n", indent, d.rel(f))
		}
		sep := " "
		if n.Raw == "" {
			sep = ""
		}
		if !n.Section {
			d.printf("%s%s%s%s\n", indent, n.Name, sep, n.Raw)
			continue
		}
		d.printf("%s<%s%s%s>\n", indent, n.Name, sep, n.Raw)
		d.nodes(n.Children, depth+1)
		d.printf("%s</%s>\n", indent, n.Name)
	}
}

func (d *dumper) rel(path string) string {
	if d.root == "" || !filepath.IsAbs(path) {
		return path
	}
	if r, err := filepath.Rel(d.root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}
