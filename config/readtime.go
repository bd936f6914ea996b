package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ReadTimeDirectives declares the directives the reader acts on while it
// reads (Apache's EXEC_ON_READ), so that -L lists them and <IfDirective>
// knows them. The core module registers them.
func ReadTimeDirectives() []*Directive {
	rt := func(name string, form ArgForm, ctx Context, help string) *Directive {
		return &Directive{Name: name, Form: form, Contexts: ctx, Help: help, ReadTime: true, Built: true}
	}
	sec := func(name, help string) *Directive {
		d := rt(name, RawArgs, AnyContext, help)
		d.Section = true
		return d
	}
	return []*Directive{
		rt("Include", Take1, ServerVhostD, "Name(s) of the config file(s) to be included; fails if the wildcard does not match at least one file"),
		rt("IncludeOptional", Take1, ServerVhostD, "Name or pattern of the config file(s) to be included; ignored if the file does not exist or the pattern does not match any files"),
		rt("Define", Take12, ServerVhostD, "Define a variable, optionally to a value. Same as passing -D to the command line."),
		rt("UnDefine", Take1, ServerVhostD, "Undefine the existence of a variable. Undo a Define."),
		rt("ServerRoot", Take1, ServerOnly, "Common directory of server-related files (logs, confs, etc.)"),
		rt("LoadModule", Take2, ServerOnly, "a module name and the name of a shared object file to load it from"),
		rt("MPM", Take1, ServerOnly, "the MPM to run: prefork, worker or event"),
		sec("IfDefine", "Container for directives based on existence of command line defines"),
		sec("IfModule", "Container for directives based on existence of specified modules"),
		sec("IfFile", "Container for directives based on existence of files on disk"),
		sec("IfDirective", "Container for directives based on existence of named directive"),
		sec("IfSection", "Container for directives based on existence of named section"),
		sec("IfVersion", "a comparison operator, followed by a version string"),
	}
}

var readTimeDecl = func() map[string]*Directive {
	m := map[string]*Directive{}
	for _, d := range ReadTimeDirectives() {
		m[strings.ToLower(d.Name)] = d
	}
	return m
}()

func (r *reader) readTimeDirective(pl *parsedLine, origin *Origin, open *openSection, out *[]*Node) error {
	lname := strings.ToLower(pl.Name)
	d := readTimeDecl[lname]
	if open != nil && open.depth > 0 && d.Contexts == ServerOnly {
		if open.vhost {
			return errorAt(origin, "%s cannot occur within <VirtualHost> section", d.Name)
		}
		return errorAt(origin, "%s not allowed here", d.Name)
	}
	if err := d.checkArgs(pl.Args); err != nil {
		return &Error{Origin: origin, Msg: err.Error()}
	}
	a := pl.Args
	switch lname {
	case "include", "includeoptional":
		return r.include(a[0], lname == "includeoptional", origin, out)
	case "define":
		if strings.Contains(a[0], ":") {
			return errorAt(origin, "Variable name must not contain ':'")
		}
		r.define(a[0])
		if len(a) == 2 {
			r.cfg.Vars[a[0]] = a[1]
		}
	case "undefine":
		delete(r.cfg.Vars, a[0])
		if r.params[a[0]] {
			delete(r.params, a[0])
			for i, p := range r.cfg.Params {
				if p == a[0] {
					r.cfg.Params = append(r.cfg.Params[:i], r.cfg.Params[i+1:]...)
					break
				}
			}
		}
	case "serverroot":
		root := r.path(a[0])
		if st, err := os.Stat(root); err != nil || !st.IsDir() {
			return errorAt(origin, "ServerRoot must be a valid directory")
		}
		r.cfg.ServerRoot = root
	case "loadmodule":
		return r.loadModule(a[0], origin)
	case "mpm":
		for i := range r.opts.Modules {
			if m := &r.opts.Modules[i]; m.MPM != "" && strings.EqualFold(m.MPM, a[0]) {
				return r.selectMPM(m, origin)
			}
		}
		return errorAt(origin, "MPM must be one of %s, not '%s'", strings.Join(r.mpmNames(), ", "), a[0])
	}
	return nil
}

func (r *reader) mpmNames() []string {
	var names []string
	for _, m := range r.opts.Modules {
		if m.MPM != "" {
			names = append(names, m.MPM)
		}
	}
	return names
}

func (r *reader) findModule(name string) *ModuleInfo {
	for i := range r.opts.Modules {
		m := &r.opts.Modules[i]
		if strings.EqualFold(m.Name, name) || (m.Source != "" && strings.EqualFold(m.Source, name)) {
			return m
		}
	}
	return nil
}

func (r *reader) loadModule(name string, origin *Origin) error {
	m := r.findModule(name)
	if m == nil {
		var names []string
		for _, m := range r.opts.Modules {
			names = append(names, m.Name)
		}
		sort.Strings(names)
		return errorAt(origin, "Cannot load %s: httpdg has no such module; modules are compiled in, and these are: %s", name, strings.Join(names, ", "))
	}
	if m.MPM != "" {
		return r.selectMPM(m, origin)
	}
	r.cfg.Warnings = append(r.cfg.Warnings, Warning{Origin: origin, Msg: fmt.Sprintf("module %s is built-in and can't be loaded", m.Name)})
	return nil
}

func (r *reader) selectMPM(m *ModuleInfo, origin *Origin) error {
	if r.mpmModule != nil && r.mpmModule != m {
		return errorAt(origin, "More than one MPM loaded: %s (at %s) and %s", r.mpmModule.Name, r.mpmAt.Short(), m.Name)
	}
	if r.mpmAssume != nil && m.MPM != DefaultMPM {
		return errorAt(origin, "%s is selected after <IfModule> at %s was evaluated with the default MPM (%s); select the MPM before any <IfModule> names one", m.Name, r.mpmAssume.Short(), DefaultMPM)
	}
	r.mpmModule, r.mpmAt = m, origin
	return nil
}

// include reads the files pattern names into out.
func (r *reader) include(pattern string, optional bool, origin *Origin, out *[]*Node) error {
	path := r.path(pattern)
	if strings.ContainsAny(path, "*?[") {
		matches, err := filepath.Glob(path)
		if err != nil {
			return errorAt(origin, "Invalid wildcard pattern '%s': %v", pattern, err)
		}
		matches = withoutBackups(withoutDotfiles(path, matches))
		if len(matches) == 0 {
			if optional {
				return nil
			}
			return errorAt(origin, "No matches for the wildcard '%s' in '%s', failing", filepath.Base(path), filepath.Dir(path))
		}
		for _, m := range matches {
			if err := r.includePath(m, origin, out); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := os.Stat(path); err != nil && optional {
		return nil
	}
	return r.includePath(path, origin, out)
}

// includePath reads one file, or every file below a directory in name order.
func (r *reader) includePath(path string, origin *Origin, out *[]*Node) error {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return r.readFile(path, origin, out)
	}
	if r.including[path] {
		return errorAt(origin, "Include cycle: directory %s includes itself", path)
	}
	if r.depth >= MaxIncludeDepth {
		return errorAt(origin, "Exceeded the maximum include depth of %d; there appears to be a recursion", MaxIncludeDepth)
	}
	r.including[path] = true
	r.depth++
	defer func() { delete(r.including, path); r.depth-- }()
	entries, err := os.ReadDir(path)
	if err != nil {
		return errorAt(origin, "Could not open config directory %s: %s", path, describeErr(err))
	}
	var names []string
	for _, e := range entries {
		names = append(names, filepath.Join(path, e.Name()))
	}
	for _, p := range withoutBackups(names) { // ReadDir sorts by name
		if err := r.includePath(p, origin, out); err != nil {
			return err
		}
	}
	return nil
}

// withoutDotfiles drops the matches of pattern that a wildcard matched to a
// name starting with '.': Apache globs with APR_FNM_PERIOD, so "conf.d/*"
// does not read "conf.d/.hidden", while "conf.d/.*" does.
func withoutDotfiles(pattern string, matches []string) []string {
	pat := strings.Split(pattern, string(filepath.Separator))
	out := matches[:0:0]
next:
	for _, m := range matches {
		parts := strings.Split(m, string(filepath.Separator))
		if len(parts) == len(pat) {
			for i, p := range pat {
				if strings.ContainsAny(p, "*?[") && !strings.HasPrefix(p, ".") && strings.HasPrefix(parts[i], ".") {
					continue next
				}
			}
		}
		out = append(out, m)
	}
	return out
}

// isEditorBackup reports names editors leave beside the file they edit.
func isEditorBackup(name string) bool {
	base := filepath.Base(name)
	return strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp") || strings.HasPrefix(base, ".#")
}

func withoutBackups(paths []string) []string {
	out := paths[:0:0]
	for _, p := range paths {
		if !isEditorBackup(p) {
			out = append(out, p)
		}
	}
	return out
}
