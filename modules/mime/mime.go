// Package mime is httpdg's mime module (mime_module, Apache's mod_mime): it
// maps file name extensions to content types, handlers, character sets and
// content encodings, and reads the mime.types file named by TypesConfig.
//
// Its type_checker hook (typecheck.go) applies them to every request.
package mime

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the mime module's identifier.
const ModuleName = "mime_module"

// Global holds the process-wide mime settings.
type Global struct {
	// TypesConfig is the absolute path of the mime.types file, "" when the
	// config names none.
	TypesConfig string
	// Filters is set when AddOutputFilter or AddInputFilter appears: only
	// then does the type checker look filters up.
	Filters bool
	// Types maps a lower-case extension (without its dot) to the content
	// type the TypesConfig file gives it.
	Types map[string]string
}

// DirSettings holds the extension mappings made in one per-directory
// section, or in a server's defaults outside any section. Extensions are
// lower case, without a leading dot.
type DirSettings struct {
	Types          map[string]string // AddType: extension → content type
	Handlers       map[string]string // AddHandler: extension → handler
	Charsets       map[string]string // AddCharset: extension → charset
	Encodings      map[string]string // AddEncoding: extension → encoding
	RemoveHandlers []string          // RemoveHandler extensions
	DefaultType    string            // DefaultType; "" when unset, "none" to disable
	ForceType      string            // ForceType; "" when unset, "none" to cancel an inherited one
	OutputFilters  map[string]string // AddOutputFilter: extension → "name[;name...]"
	InputFilters   map[string]string // AddInputFilter: extension → "name[;name...]"
}

// GlobalOf returns the process-wide mime settings of cfg.
func GlobalOf(cfg *config.Config) *Global { return config.Global[Global](cfg, ModuleName) }

// SectionOf returns the mime settings made inside sec.
func SectionOf(sec *config.Section) *DirSettings {
	return config.SectionConf[DirSettings](sec, ModuleName)
}

// ServerDirOf returns the mime settings server s makes outside any section,
// the defaults for all its directories.
func ServerDirOf(s *config.Server) *DirSettings {
	return config.ServerDirConf[DirSettings](s, ModuleName)
}

// dirOf returns the settings a per-directory directive writes: those of the
// enclosing section, or the server's defaults outside any section.
func dirOf(cmd *config.Cmd) *DirSettings {
	return config.DirConf[DirSettings](cmd, ModuleName)
}

func init() {
	d := func(name string, form config.ArgForm, ctx config.Context, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Form: form, Contexts: ctx, Help: help, Handler: h, Built: true}
	}
	all := config.AnyContext
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_mime.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		d("AddType", config.Iterate2, all, "a content type followed by one or more file extensions", func(c *config.Cmd) error {
			t, err := mimeType(c, c.Args[0])
			if err != nil {
				return err
			}
			return addMap(c, &dirOf(c).Types, t)
		}),
		d("TypesConfig", config.Take1, config.ServerOnly, "the mime.types file that maps content types to extensions", typesConfig),
		d("DefaultType", config.Take1, all, "the content type of a file whose type cannot be determined otherwise, or none", func(c *config.Cmd) error {
			t, err := typeOrNone(c)
			dirOf(c).DefaultType = t
			return err
		}),
		d("AddHandler", config.Iterate2, all, "a handler name followed by one or more file extensions", func(c *config.Cmd) error {
			return addMap(c, &dirOf(c).Handlers, strings.ToLower(c.Args[0]))
		}),
		d("RemoveHandler", config.Iterate, all, "one or more file extensions whose handler associations are removed", func(c *config.Cmd) error {
			ds := dirOf(c)
			for _, a := range c.Args {
				ext, err := extension(c, a)
				if err != nil {
					return err
				}
				delete(ds.Handlers, ext)
				ds.RemoveHandlers = append(ds.RemoveHandlers, ext)
			}
			return nil
		}),
		d("AddCharset", config.Iterate2, all, "a character set name followed by one or more file extensions", func(c *config.Cmd) error {
			return addMap(c, &dirOf(c).Charsets, strings.ToLower(c.Args[0]))
		}),
		d("AddEncoding", config.Iterate2, all, "a content encoding (e.g. gzip) followed by one or more file extensions", func(c *config.Cmd) error {
			return addMap(c, &dirOf(c).Encodings, strings.ToLower(c.Args[0]))
		}),
		d("AddOutputFilter", config.Iterate2, all, "output filter (or ; delimited list of filters) followed by one or more file extensions", func(c *config.Cmd) error {
			GlobalOf(c.Config).Filters = true
			return addMap(c, &dirOf(c).OutputFilters, c.Args[0])
		}),
		d("AddInputFilter", config.Iterate2, all, "input filter (or ; delimited list of filters) followed by one or more file extensions", func(c *config.Cmd) error {
			GlobalOf(c.Config).Filters = true
			return addMap(c, &dirOf(c).InputFilters, c.Args[0])
		}),
		d("ForceType", config.Take1, config.DirHtaccess, "a content type that every matching file is served as, or none", func(c *config.Cmd) error {
			t, err := typeOrNone(c)
			dirOf(c).ForceType = t
			return err
		}),
	}})
}

// addMap records value for every extension argument after the first.
func addMap(c *config.Cmd, m *map[string]string, value string) error {
	if *m == nil {
		*m = map[string]string{}
	}
	for _, a := range c.Args[1:] {
		ext, err := extension(c, a)
		if err != nil {
			return err
		}
		(*m)[ext] = value
	}
	return nil
}

// extension normalises ".HTML" to "html", as mod_mime does.
func extension(c *config.Cmd, a string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(a, "."))
	if ext == "" || strings.ContainsAny(ext, "/") {
		return "", fmt.Errorf("%s: '%s' is not a file extension", c.Directive.Name, a)
	}
	return ext, nil
}

// mimeType checks s is written type/subtype and returns it in lower case,
// as mod_mime stores it.
func mimeType(c *config.Cmd, s string) (string, error) {
	if !validType(s) {
		return "", fmt.Errorf("%s: '%s' is not a content type (type/subtype)", c.Directive.Name, s)
	}
	return strings.ToLower(s), nil
}

// typeOrNone parses the argument of DefaultType and ForceType.
func typeOrNone(c *config.Cmd) (string, error) {
	if strings.EqualFold(c.Args[0], "none") || strings.EqualFold(c.Args[0], "off") {
		return "none", nil
	}
	return mimeType(c, c.Args[0])
}

// validType reports whether s looks like type/subtype[;params].
func validType(s string) bool {
	main, _, _ := strings.Cut(s, ";")
	main = strings.TrimSpace(main)
	typ, sub, ok := strings.Cut(main, "/")
	return ok && token(typ) && token(sub)
}

// token reports whether s is a non-empty RFC 9110 token.
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

// typesConfig handles TypesConfig: the file must exist and parse.
func typesConfig(c *config.Cmd) error {
	path, err := c.ExistingFile(c.Args[0])
	if err != nil {
		return err
	}
	types, err := ParseTypesFile(path)
	if err != nil {
		return fmt.Errorf("TypesConfig: %v", err)
	}
	g := GlobalOf(c.Config)
	g.TypesConfig, g.Types = path, types
	return nil
}

// ParseTypesFile reads a mime.types file: one "type ext ext..." a line,
// blank lines and lines starting with '#' skipped. A later line wins for an
// extension listed twice, as in Apache.
func ParseTypesFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	types := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if !validType(fields[0]) {
			return nil, fmt.Errorf("line %d of %s: '%s' is not a content type (type/subtype)", n, path, fields[0])
		}
		typ := strings.ToLower(fields[0])
		for _, ext := range fields[1:] {
			types[strings.ToLower(strings.TrimPrefix(ext, "."))] = typ
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %v", path, err)
	}
	return types, nil
}
