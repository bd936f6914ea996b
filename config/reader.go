package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MaxIncludeDepth bounds nested Include directives, as Apache's
// AP_MAX_INCLUDE_DEPTH does.
const MaxIncludeDepth = 128

// ModuleInfo tells the reader about one compiled-in module, for LoadModule
// and <IfModule>.
type ModuleInfo struct {
	Name   string // module identifier, e.g. "status_module"
	Source string // Apache's source file name, e.g. "mod_status.c"
	MPM    string // for an MPM module, its MPM name ("prefork"); else ""
}

// Options says what to read and with which compiled-in modules.
type Options struct {
	ServerRoot string   // initial ServerRoot (-d); a ServerRoot directive overrides it
	File       string   // config file (-f), relative to ServerRoot unless absolute
	Defines    []string // parameters from -D
	Before     []string // directives from -C, read before the file
	After      []string // directives from -c, read after the file
	Modules    []ModuleInfo
	Registry   *Registry
	// LookupEnv resolves ${NAME} when no Define sets it; os.LookupEnv if nil.
	LookupEnv func(string) (string, bool)
	// Version is the Apache version <IfVersion> compares with; CompatVersion if empty.
	Version string
}

// Config is the outcome of reading and processing a config.
type Config struct {
	ServerRoot string
	File       string            // the main config file, absolute
	Tree       []*Node           // the effective tree
	MPM        string            // prefork, worker or event
	Params     []string          // defined parameters (-D and Define), in definition order
	Vars       map[string]string // Define NAME VALUE
	Warnings   []Warning         // remarks that did not stop the read
	Main       *Server           // the main server
	Vhosts     []*Server         // <VirtualHost> sections in config order

	global confMap // per-module global state, see Global
}

// DefaultMPM is used when the config selects none.
const DefaultMPM = "event"

// CompatVersion is the Apache httpd version httpdg's config language matches;
// <IfVersion> compares with it so configs written for Apache 2.4 work.
const CompatVersion = "2.4.62"

// ReadTimeNames are the directives the reader itself acts on.
var readTimeNames = map[string]bool{
	"include": true, "includeoptional": true, "define": true, "undefine": true,
	"serverroot": true, "loadmodule": true, "mpm": true,
}

var conditionalNames = map[string]bool{
	"ifdefine": true, "ifmodule": true, "iffile": true, "ifdirective": true,
	"ifsection": true, "ifversion": true,
}

type reader struct {
	opts      Options
	cfg       *Config
	params    map[string]bool
	including map[string]bool // files being read: an include cycle is an error
	depth     int
	mpmModule *ModuleInfo // selected by LoadModule or MPM
	mpmAt     *Origin
	mpmAssume *Origin // where <IfModule> assumed the default MPM
}

// Read reads the config file named by opts into its effective tree. It does
// not run directive handlers; Process does.
func Read(opts Options) (*Config, error) {
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Version == "" {
		opts.Version = CompatVersion
	}
	root := opts.ServerRoot
	if root == "" {
		root = "."
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("ServerRoot %s: %w", root, err)
	}
	r := &reader{
		opts:      opts,
		cfg:       &Config{ServerRoot: absRoot, Vars: map[string]string{}},
		params:    map[string]bool{},
		including: map[string]bool{},
	}
	for _, d := range opts.Defines {
		r.define(d)
	}
	var tree []*Node
	if err := r.readStrings("-C", opts.Before, &tree); err != nil {
		return nil, err
	}
	file := opts.File
	if file == "" {
		file = "conf/httpd.conf"
	}
	file = r.path(file)
	r.cfg.File = file
	if err := r.readFile(file, nil, &tree); err != nil {
		return nil, err
	}
	if err := r.readStrings("-c", opts.After, &tree); err != nil {
		return nil, err
	}
	r.cfg.Tree = tree
	r.cfg.MPM = DefaultMPM
	if r.mpmModule != nil {
		r.cfg.MPM = r.mpmModule.MPM
	}
	return r.cfg, nil
}

// path resolves p against the current ServerRoot, as Apache's
// ap_server_root_relative does.
func (r *reader) path(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(r.cfg.ServerRoot, p)
}

func (r *reader) define(name string) {
	if !r.params[name] {
		r.params[name] = true
		r.cfg.Params = append(r.cfg.Params, name)
	}
}

func (r *reader) lookupVar(name string) (string, bool) {
	if v, ok := r.cfg.Vars[name]; ok {
		return v, true
	}
	return r.opts.LookupEnv(name)
}

func (r *reader) readStrings(label string, lines []string, out *[]*Node) error {
	if len(lines) == 0 {
		return nil
	}
	ll := make([]logicalLine, 0, len(lines))
	for i, l := range lines {
		if l, ok := meaningful(l, i+1); ok {
			ll = append(ll, l)
		}
	}
	_, err := r.readBlock(&source{file: label, lines: ll}, 0, nil, out)
	return err
}

// source is one file being read.
type source struct {
	file         string
	lines        []logicalLine
	includedFrom *Origin
}

func (s *source) origin(i int) *Origin {
	return &Origin{File: s.file, Line: s.lines[i].Line, IncludedFrom: s.includedFrom}
}

func (r *reader) readFile(path string, from *Origin, out *[]*Node) error {
	if r.including[path] {
		return &Error{Origin: from, Msg: fmt.Sprintf("Include cycle: %s includes itself", path)}
	}
	if r.depth >= MaxIncludeDepth {
		return &Error{Origin: from, Msg: fmt.Sprintf("Exceeded the maximum include depth of %d; there appears to be a recursion", MaxIncludeDepth)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		msg := fmt.Sprintf("Could not open configuration file %s: %s", path, describeErr(err))
		if from == nil {
			return errors.New(msg)
		}
		return &Error{Origin: from, Msg: msg}
	}
	r.including[path] = true
	r.depth++
	defer func() { delete(r.including, path); r.depth-- }()
	src := &source{file: path, lines: splitLogicalLines(string(data)), includedFrom: from}
	_, err = r.readBlock(src, 0, nil, out)
	return err
}

func describeErr(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// openSection is a section whose closing tag readBlock is looking for.
type openSection struct {
	name   string
	origin *Origin
	// vhost is true inside a <VirtualHost>, for read-time context checks.
	vhost bool
	// depth counts enclosing non-conditional sections.
	depth int
}

// readBlock reads src.lines[i:] into out until the line closing open (or the
// end of the file when open is nil) and returns the index after it.
func (r *reader) readBlock(src *source, i int, open *openSection, out *[]*Node) (int, error) {
	for ; i < len(src.lines); i++ {
		origin := src.origin(i)
		text, err := expandVars(src.lines[i].Text, r.lookupVar)
		if err != nil {
			return 0, &Error{Origin: origin, Msg: err.Error()}
		}
		pl, err := parseLine(text)
		if err != nil {
			return 0, &Error{Origin: origin, Msg: err.Error()}
		}
		switch pl.Kind {
		case kindClose:
			if open == nil {
				return 0, errorAt(origin, "</%s> without matching <%s> section", pl.Name, pl.Name)
			}
			if !strings.EqualFold(pl.Name, open.name) {
				return 0, errorAt(origin, "Expected </%s> but saw </%s>", open.name, pl.Name)
			}
			return i + 1, nil
		case kindOpen:
			i, err = r.readSection(src, i, pl, origin, open, out)
			if err != nil {
				return 0, err
			}
			i-- // the loop's i++ moves past the section
		default:
			if pl.HashArg != "" {
				r.cfg.Warnings = append(r.cfg.Warnings, Warning{Origin: origin,
					Msg: fmt.Sprintf("'%s' after %s is an argument, not a comment; put comments on a line of their own", pl.HashArg, pl.Name)})
			}
			if readTimeNames[strings.ToLower(pl.Name)] {
				if err := r.readTimeDirective(pl, origin, open, out); err != nil {
					return 0, err
				}
				continue
			}
			if r.opts.Registry.Directive(pl.Name) == nil {
				return 0, r.invalidCommand(origin, pl.Name, false)
			}
			*out = append(*out, &Node{Name: pl.Name, Args: pl.Args, Raw: pl.Raw, Origin: origin})
		}
	}
	if open != nil {
		return 0, errorAt(open.origin, "<%s> was not closed.", open.name)
	}
	return i, nil
}

func (r *reader) invalidCommand(origin *Origin, name string, section bool) error {
	shown := name
	if section {
		shown = "<" + name + ">"
	}
	msg := fmt.Sprintf("Invalid command '%s', perhaps misspelled or defined by a module not included in the server configuration", shown)
	if s := r.opts.Registry.Suggest(name, section); s != "" {
		if section {
			s = "<" + s + ">"
		}
		msg += fmt.Sprintf(" (did you mean '%s'?)", s)
	}
	return &Error{Origin: origin, Msg: msg}
}

// readSection handles the opening line src.lines[i] of a section and returns
// the index after its closing line.
func (r *reader) readSection(src *source, i int, pl *parsedLine, origin *Origin, parent *openSection, out *[]*Node) (int, error) {
	lname := strings.ToLower(pl.Name)
	inner := &openSection{name: pl.Name, origin: origin}
	if parent != nil {
		inner.vhost, inner.depth = parent.vhost, parent.depth
	}
	if conditionalNames[lname] {
		ok, err := r.evalConditional(lname, pl, origin)
		if err != nil {
			return 0, &Error{Origin: origin, Msg: err.Error()}
		}
		if !ok {
			return r.skipSection(src, i+1, inner)
		}
		// A true conditional's body joins the enclosing block.
		return r.readBlock(src, i+1, inner, out)
	}
	if r.opts.Registry.Section(pl.Name) == nil {
		return 0, r.invalidCommand(origin, pl.Name, true)
	}
	inner.depth++
	if lname == "virtualhost" {
		inner.vhost = true
	}
	node := &Node{Name: pl.Name, Args: pl.Args, Raw: pl.Raw, Section: true, Origin: origin}
	*out = append(*out, node)
	return r.readBlock(src, i+1, inner, &node.Children)
}

// skipSection passes over the body of a false conditional without expanding
// or validating it, checking only that its sections balance, and returns the
// index after its closing line.
func (r *reader) skipSection(src *source, i int, open *openSection) (int, error) {
	var stack []string
	for ; i < len(src.lines); i++ {
		text := src.lines[i].Text
		if !strings.HasPrefix(text, "<") {
			continue
		}
		if strings.HasPrefix(text, "</") {
			name := sectionWord(text[2:])
			want := open.name
			if len(stack) > 0 {
				want = stack[len(stack)-1]
			}
			if !strings.EqualFold(name, want) {
				return 0, errorAt(src.origin(i), "Expected </%s> but saw </%s>", want, name)
			}
			if len(stack) == 0 {
				return i + 1, nil
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, sectionWord(text[1:]))
	}
	return 0, errorAt(open.origin, "<%s> was not closed.", open.name)
}

// sectionWord returns the section name at the start of s (after '<' or '</').
func sectionWord(s string) string {
	end := strings.IndexFunc(s, func(c rune) bool { return c == '>' || c == ' ' || c == '\t' })
	if end < 0 {
		return s
	}
	return s[:end]
}
