package authbasic

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// ModuleName is the module's identifier. The settings of all three modules
// this package registers are kept under it.
const ModuleName = "auth_basic_module"

// DirSettings are the authentication settings of a per-directory section.
type DirSettings struct {
	AuthType  string   // "Basic" or "None"; "" when unset
	AuthName  string   // the realm
	Providers []string // AuthBasicProvider, in order ("file")
	UserFile  string   // AuthUserFile, absolute
	Users     []string // the user names AuthUserFile lists, in file order
}

// SectionOf returns the authentication settings of sec.
func SectionOf(sec *config.Section) *DirSettings {
	return config.SectionConf[DirSettings](sec, ModuleName)
}

func dirOf(cmd *config.Cmd) *DirSettings {
	return config.DirConf[DirSettings](cmd, ModuleName)
}

func init() {
	d := func(name string, form config.ArgForm, help string, h func(*config.Cmd) error) *config.Directive {
		return &config.Directive{Name: name, Form: form, Contexts: config.DirHtaccess, Help: help, Handler: h, Built: true}
	}
	phases.RegisterModule(&phases.Module{Name: "authn_core_module", Source: "mod_authn_core.c", Directives: []*config.Directive{
		d("AuthType", config.Take1, "the HTTP authentication scheme: Basic, or None to turn authentication off", authType),
		d("AuthName", config.Take1, "the realm the browser shows when asking for credentials (e.g. \"Members Only\")", func(c *config.Cmd) error {
			dirOf(c).AuthName = c.Args[0]
			return nil
		}),
	}})
	phases.RegisterModule(&phases.Module{Name: ModuleName, Source: "mod_auth_basic.c", RegisterHooks: registerHooks, Directives: []*config.Directive{
		d("AuthBasicProvider", config.Iterate, "the providers that check Basic credentials, tried in order (file)", authBasicProvider),
	}})
	phases.RegisterModule(&phases.Module{Name: "authn_file_module", Source: "mod_authn_file.c", Directives: []*config.Directive{
		d("AuthUserFile", config.Take1, "an htpasswd file of user names and password hashes", authUserFile),
	}})
}

func authType(c *config.Cmd) error {
	switch v := strings.ToLower(c.Args[0]); v {
	case "basic":
		dirOf(c).AuthType = "Basic"
	case "none":
		dirOf(c).AuthType = "None"
	case "digest", "form":
		return fmt.Errorf("AuthType %s is not supported by httpdg: only Basic (and None) are", c.Args[0])
	default:
		return fmt.Errorf("AuthType: '%s' is not an authentication scheme httpdg knows (Basic or None)", c.Args[0])
	}
	return nil
}

func authBasicProvider(c *config.Cmd) error {
	var ps []string
	for _, p := range c.Args {
		switch {
		case p == "file":
			ps = append(ps, p)
		case strings.EqualFold(p, "file"):
			return fmt.Errorf("Unknown Authn provider: %s (provider names are case-sensitive: did you mean 'file'?)", p)
		default:
			return fmt.Errorf("Unknown Authn provider: %s", p)
		}
	}
	ds := dirOf(c)
	ds.Providers = append(ds.Providers, ps...)
	return nil
}

func authUserFile(c *config.Cmd) error {
	path, err := c.ExistingFile(c.Args[0])
	if err != nil {
		return err
	}
	users, err := checkHtpasswd(path)
	if err != nil {
		return fmt.Errorf("AuthUserFile: %v", err)
	}
	ds := dirOf(c)
	ds.UserFile, ds.Users = path, users
	return nil
}

var hashFormats = []*regexp.Regexp{
	regexp.MustCompile(`^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$`),                       // bcrypt
	regexp.MustCompile(`^\$apr1\$[^$]{1,8}\$[./0-9A-Za-z]{22}$`),                                        // Apache MD5
	regexp.MustCompile(`^\$1\$[^$]{1,8}\$[./0-9A-Za-z]{22}$`),                                           // MD5-crypt
	regexp.MustCompile(`^\$[56]\$(rounds=[0-9]+\$)?[^$]{1,16}\$[./0-9A-Za-z]{43}([./0-9A-Za-z]{43})?$`), // SHA-crypt
	regexp.MustCompile(`^[./0-9A-Za-z]{13}$`),                                                           // DES crypt
}

// checkHtpasswd reads an htpasswd file as mod_authn_file does (blank lines
// and '#' comments skipped, "user:hash" otherwise) and checks every hash is
// in a format httpdg can verify. It returns the user names.
func checkHtpasswd(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var users []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("line %d of %s: expected user:password-hash", n, path)
		}
		if !validHash(hash) {
			return nil, fmt.Errorf("line %d of %s: the password of '%s' is not a hash httpdg can check (bcrypt $2y$, {SHA}, $apr1$ or crypt); create it with htpasswd -B", n, path, user)
		}
		users = append(users, user)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %v", path, err)
	}
	return users, nil
}

func validHash(h string) bool {
	if b64, ok := strings.CutPrefix(h, "{SHA}"); ok {
		raw, err := base64.StdEncoding.DecodeString(b64)
		return err == nil && len(raw) == 20
	}
	for _, re := range hashFormats {
		if re.MatchString(h) {
			return true
		}
	}
	return false
}
