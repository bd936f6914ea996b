package config

import (
	"fmt"
	"sort"
	"strings"
)

// ArgForm is how a directive takes its arguments, as Apache's command_rec
// declares it.
type ArgForm int

const (
	RawArgs  ArgForm = iota // the handler parses the raw argument text
	Take1                   // exactly one argument
	Take2                   // exactly two
	Take3                   // exactly three
	Take12                  // one or two
	Take23                  // two or three
	Take123                 // one to three
	Take13                  // one or three
	Iterate                 // one or more, handler called once per argument
	Iterate2                // a first argument then one or more
	Flag                    // On or Off
	NoArgs                  // none
)

var argFormNames = [...]string{"RAW_ARGS", "TAKE1", "TAKE2", "TAKE3", "TAKE12", "TAKE23", "TAKE123", "TAKE13", "ITERATE", "ITERATE2", "FLAG", "NO_ARGS"}

func (f ArgForm) String() string {
	if int(f) < len(argFormNames) {
		return argFormNames[f]
	}
	return fmt.Sprintf("ArgForm(%d)", int(f))
}

// Context is a set of places a directive may appear.
type Context uint16

const (
	InServer      Context = 1 << iota // the main server config, outside any section
	InVirtualHost                     // inside <VirtualHost>
	InDirectory                       // inside <Directory>, <DirectoryMatch> or <Proxy>
	InLocation                        // inside <Location>, <LocationMatch>
	InFiles                           // inside <Files>, <FilesMatch>
	InHtaccess                        // in a .htaccess file
)

// Common context sets, named after Apache's documentation.
const (
	ServerOnly   = InServer
	ServerVhost  = InServer | InVirtualHost
	PerDir       = InDirectory | InLocation | InFiles
	AnyContext   = InServer | InVirtualHost | PerDir | InHtaccess
	DirHtaccess  = PerDir | InHtaccess
	ServerVhostD = ServerVhost | PerDir
)

// Describe lists the context set in the words of Apache's documentation.
func (c Context) Describe() string {
	var parts []string
	if c&InServer != 0 {
		parts = append(parts, "server config")
	}
	if c&InVirtualHost != 0 {
		parts = append(parts, "virtual host")
	}
	if c&InDirectory != 0 {
		parts = append(parts, "directory")
	}
	if c&InLocation != 0 && c&InDirectory == 0 {
		parts = append(parts, "location")
	}
	if c&InFiles != 0 && c&InDirectory == 0 {
		parts = append(parts, "files")
	}
	if c&InHtaccess != 0 {
		parts = append(parts, ".htaccess")
	}
	return strings.Join(parts, ", ")
}

// Directive declares one config directive: what it is called, how it takes
// arguments, where it may appear, and what to do with it.
type Directive struct {
	Name     string  // as documented, e.g. "Listen"; a section's name without '<'
	Module   string  // the declaring module, e.g. "core_module"; set on registration
	Form     ArgForm // argument form
	Contexts Context // where the directive may appear
	Help     string  // one line, appended to argument-count errors as Apache does
	Section  bool    // a container: written <Name args> ... </Name>
	Built    bool    // true when its run-time behaviour exists; -L marks the others
	ReadTime bool    // acted on while the file is read (Include, Define, If*...)
	Handler  func(*Cmd) error
}

// Display is the name as written in a config: "<Directory>" for sections.
func (d *Directive) Display() string {
	if d.Section {
		return "<" + d.Name + ">"
	}
	return d.Name
}

func (d *Directive) key() string {
	if d.Section {
		return "<" + strings.ToLower(d.Name)
	}
	return strings.ToLower(d.Name)
}

// Registry holds every directive the compiled-in modules declare.
type Registry struct {
	byKey map[string]*Directive
	list  []*Directive
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byKey: make(map[string]*Directive)}
}

// Add registers d for module; a name declared twice is a programming error.
func (r *Registry) Add(module string, d *Directive) error {
	d.Module = module
	k := d.key()
	if prev, ok := r.byKey[k]; ok {
		return fmt.Errorf("directive %s declared by both %s and %s", d.Display(), prev.Module, module)
	}
	r.byKey[k] = d
	r.list = append(r.list, d)
	return nil
}

// Directive finds a plain directive by case-insensitive name.
func (r *Registry) Directive(name string) *Directive {
	return r.byKey[strings.ToLower(name)]
}

// Section finds a container directive by name, without '<'.
func (r *Registry) Section(name string) *Directive {
	return r.byKey["<"+strings.ToLower(name)]
}

// All returns every directive, sorted by name.
func (r *Registry) All() []*Directive {
	out := append([]*Directive(nil), r.list...)
	sort.SliceStable(out, func(i, j int) bool {
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out
}

// Suggest returns the registered directive name closest to name, or "" when
// none is close enough to be a likely typo.
func (r *Registry) Suggest(name string, section bool) string {
	best, bestDist := "", 0
	lname := strings.ToLower(name)
	for _, d := range r.list {
		if d.Section != section {
			continue
		}
		dist := editDistance(lname, strings.ToLower(d.Name))
		limit := 2
		if len(name) > 8 {
			limit = 3
		}
		if dist <= limit && (best == "" || dist < bestDist) {
			best, bestDist = d.Name, dist
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (adjacent swaps count one),
// so "Lisetn" is one edit from "Listen".
func editDistance(a, b string) int {
	la, lb := len(a), len(b)
	prev2 := make([]int, lb+1)
	prev := make([]int, lb+1)
	cur := make([]int, lb+1)
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// checkArgs applies the argument-form rules with Apache's messages.
func (d *Directive) checkArgs(args []string) error {
	n := len(args)
	name := d.Display()
	help := ""
	if d.Help != "" {
		help = ", " + d.Help
	}
	bad := func(what string) error { return fmt.Errorf("%s %s%s", name, what, help) }
	switch d.Form {
	case NoArgs:
		if n != 0 {
			return fmt.Errorf("%s takes no arguments", name)
		}
	case Take1:
		if n != 1 {
			return bad("takes one argument")
		}
	case Take2:
		if n != 2 {
			return bad("takes two arguments")
		}
	case Take3:
		if n != 3 {
			return bad("takes three arguments")
		}
	case Take12:
		if n < 1 || n > 2 {
			return bad("takes 1-2 arguments")
		}
	case Take23:
		if n < 2 || n > 3 {
			return bad("takes two or three arguments")
		}
	case Take123:
		if n < 1 || n > 3 {
			return bad("takes one, two or three arguments")
		}
	case Take13:
		if n != 1 && n != 3 {
			return bad("takes one or three arguments")
		}
	case Iterate:
		if n < 1 {
			return bad("requires at least one argument")
		}
	case Iterate2:
		if n < 2 {
			return bad("requires at least two arguments")
		}
	case Flag:
		if n != 1 || (!strings.EqualFold(args[0], "on") && !strings.EqualFold(args[0], "off")) {
			return fmt.Errorf("%s must be On or Off", name)
		}
	}
	return nil
}
