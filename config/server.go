package config

import (
	"regexp"
	"sync"
)

// Server is the configuration of the main server or of one <VirtualHost>:
// its per-module settings and its per-directory sections. It is plain data;
// what it means for serving is the modules' business.
type Server struct {
	Origin    *Origin  // the <VirtualHost> line; nil for the main server
	IsVirtual bool     // a <VirtualHost>
	Addrs     []string // the <VirtualHost> addresses, as written
	Sections  []*Section
	conf      confMap
	dirConf   confMap // per-directory defaults set outside any section
}

// NewServer returns an empty server config.
func NewServer(origin *Origin, virtual bool, addrs []string) *Server {
	return &Server{Origin: origin, IsVirtual: virtual, Addrs: addrs}
}

// Section is one per-directory section (<Directory>, <Location>, <Files>,
// their Match forms, <Proxy>) with the module settings made inside it.
type Section struct {
	Kind     string         // section name as declared, e.g. "Directory"
	Arg      string         // path, URL or pattern
	Regex    *regexp.Regexp // for the Match forms and "~" arguments
	Origin   *Origin
	Parent   *Section   // enclosing section (a <Files> inside a <Directory>)
	Children []*Section // nested sections
	conf     confMap
}

// NewSection returns an empty section.
func NewSection(kind, arg string, re *regexp.Regexp, origin *Origin, parent *Section) *Section {
	return &Section{Kind: kind, Arg: arg, Regex: re, Origin: origin, Parent: parent}
}

// ServerConf returns module's settings of type T in s, created on first use.
func ServerConf[T any](s *Server, module string) *T {
	return confOf[T](&s.conf, module)
}

// SectionConf returns module's settings of type T in sec, created on first use.
func SectionConf[T any](sec *Section, module string) *T {
	return confOf[T](&sec.conf, module)
}

// ServerDirConf returns module's per-directory settings of type T that
// server s sets outside any section: the defaults for all its directories.
func ServerDirConf[T any](s *Server, module string) *T {
	return confOf[T](&s.dirConf, module)
}

// DirConf returns the per-directory settings a directive at cmd writes:
// those of the enclosing section, or the server's directory defaults
// outside any section.
func DirConf[T any](cmd *Cmd, module string) *T {
	if cmd.Section != nil {
		return SectionConf[T](cmd.Section, module)
	}
	return ServerDirConf[T](cmd.Server, module)
}

// Global returns module's process-wide settings of type T (Listen lines,
// the error log...), created on first use.
func Global[T any](c *Config, module string) *T {
	return confOf[T](&c.global, module)
}

// confMap holds per-module settings. Reading a module's settings creates
// them on first use, and requests read settings concurrently (a module
// with nothing set in a section gets its zero settings), so it is locked.
type confMap struct {
	mu sync.Mutex
	m  map[string]any
}

func confOf[T any](cm *confMap, module string) *T {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if v, ok := cm.m[module]; ok {
		if t, ok := v.(*T); ok {
			return t
		}
	}
	if cm.m == nil {
		cm.m = map[string]any{}
	}
	t := new(T)
	cm.m[module] = t
	return t
}
