package authbasic

import (
	"bufio"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// authorizedKey marks (in the request pool) a request the authorization
// checks granted without a user, so authentication is skipped as Apache
// skips check_user_id when access_checker_ex grants.
const authorizedKey = "authz.granted_without_user"

// MarkAuthorized records that r was granted access without authentication.
func MarkAuthorized(r *phases.Request) {
	if r.Pool != nil {
		r.Pool.SetUserdata(authorizedKey, true)
		return
	}
	r.Notes[authorizedKey] = "1"
}

// Authorized reports whether MarkAuthorized was called for r.
func Authorized(r *phases.Request) bool {
	if r.Pool != nil {
		v, ok := r.Pool.Userdata(authorizedKey)
		return ok && v == true
	}
	return r.Notes[authorizedKey] != ""
}

// Merged returns the authentication settings that apply to r: each field
// from the last section that sets it (Apache's merge for mod_authn_core,
// mod_auth_basic and mod_authn_file).
func Merged(r *phases.Request) DirSettings {
	var m DirSettings
	for ds := range phases.EachDirConf[DirSettings](r, ModuleName) {
		if ds.AuthType != "" {
			m.AuthType = ds.AuthType
		}
		if ds.AuthName != "" {
			m.AuthName = ds.AuthName
		}
		if len(ds.Providers) > 0 {
			m.Providers = ds.Providers
		}
		if ds.UserFile != "" {
			m.UserFile, m.Users = ds.UserFile, ds.Users
		}
	}
	return m
}

// AuthType is Apache's ap_auth_type: "Basic", or "" when no AuthType
// applies or it is None.
func AuthType(r *phases.Request) string {
	if t := Merged(r).AuthType; t != "None" {
		return t
	}
	return ""
}

// NoteAuthFailure is ap_note_auth_failure for Basic: the challenge goes in
// the error headers, so it is sent with the 401.
func NoteAuthFailure(r *phases.Request) {
	m := Merged(r)
	if m.AuthType != "Basic" {
		return
	}
	r.ErrHeadersOut.Set("WWW-Authenticate", `Basic realm="`+m.AuthName+`"`)
}

func registerHooks(h *phases.ServerHooks, cfg *config.Config) error {
	h.Request.CheckUserID.Add(phases.Entry[phases.RequestHookFunc]{Fn: checkUserID, Origin: ModuleName + " (Go)", Module: ModuleName, Order: phases.Middle, Replayable: true})
	return nil
}

// checkUserID is authenticate_basic_user with mod_authn_file as the
// provider.
func checkUserID(r *phases.Request) (phases.Status, error) {
	if Authorized(r) {
		return phases.DECLINED, nil
	}
	m := Merged(r)
	if m.AuthType != "Basic" {
		return phases.DECLINED, nil
	}
	r.NotReplayable() // the answer depends on the credentials sent
	if m.AuthName == "" {
		logErr(r, "need AuthName: %s", r.URI)
		return http.StatusInternalServerError, nil
	}
	line := r.HeadersIn.Get("Authorization")
	if line == "" {
		NoteAuthFailure(r)
		return http.StatusUnauthorized, nil
	}
	scheme, cred, _ := strings.Cut(line, " ")
	if !strings.EqualFold(scheme, "Basic") {
		logErr(r, "client used wrong authentication scheme: %s", r.URI)
		NoteAuthFailure(r)
		return http.StatusUnauthorized, nil
	}
	decoded := decodeBase64(strings.TrimLeft(cred, " \t"))
	user, pw, _ := strings.Cut(decoded, ":")
	// Apache sets the user even though it is not authenticated yet (it
	// is logged with the 401).
	r.User = user
	if m.UserFile == "" {
		logErr(r, "AuthBasicProvider file: no AuthUserFile configured for %s", r.URI)
		return http.StatusInternalServerError, nil
	}
	hash, found, err := lookupUser(m.UserFile, user)
	if err != nil {
		logErr(r, "Could not open password file: %s (%v)", m.UserFile, err)
		return http.StatusInternalServerError, nil
	}
	if !found {
		logErr(r, "user %s not found: %s", user, r.URI)
		NoteAuthFailure(r)
		return http.StatusUnauthorized, nil
	}
	ok, err := ValidatePassword(pw, hash)
	if err != nil {
		logErr(r, "user %s: cannot check the password for \"%s\": %v", user, r.URI, err)
		return http.StatusInternalServerError, nil
	}
	if !ok {
		logErr(r, "user %s: authentication failure for \"%s\": Password Mismatch", user, r.URI)
		NoteAuthFailure(r)
		return http.StatusUnauthorized, nil
	}
	return phases.OK, nil
}

func logErr(r *phases.Request, format string, args ...any) {
	if r.Log() != nil {
		r.Log().Error("auth_basic", format, args...)
	}
}

// decodeBase64 is ap_pbase64decode: lenient, decoding up to the first
// character that is not base64.
func decodeBase64(s string) string {
	n := 0
	for n < len(s) && (s[n] >= 'A' && s[n] <= 'Z' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= '0' && s[n] <= '9' || s[n] == '+' || s[n] == '/') {
		n++
	}
	s = s[:n]
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return ""
	}
	return string(b)
}

// lookupUser reads the htpasswd file (as mod_authn_file does on every
// request, so edits apply at once) for user's hash.
func lookupUser(file, user string) (string, bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		u, rest, ok := strings.Cut(line, ":")
		if !ok || u != user {
			continue
		}
		hash, _, _ := strings.Cut(strings.TrimRight(rest, "\r"), ":")
		return strings.TrimSpace(hash), true, nil
	}
	return "", false, sc.Err()
}

// ErrUnsupportedHash is returned for crypt(3) hashes httpdg cannot check
// (DES, $5$ and $6$ SHA-crypt).
var ErrUnsupportedHash = errors.New("the password hash is in a crypt(3) format httpdg does not check (DES, $5$ or $6$); recreate it with htpasswd -B, -m or -s")

// ValidatePassword is apr_password_validate for the formats httpdg checks:
// $apr1$ (Apache MD5) and $1$ (MD5-crypt), bcrypt ($2y$, $2a$, $2b$, by
// golang.org/x/crypto/bcrypt) and {SHA}.
func ValidatePassword(pw, hash string) (bool, error) {
	switch {
	case strings.HasPrefix(hash, "$apr1$"):
		return equal(MD5Crypt(pw, hash, "$apr1$"), hash), nil
	case strings.HasPrefix(hash, "$1$"):
		return equal(MD5Crypt(pw, hash, "$1$"), hash), nil
	case strings.HasPrefix(hash, "{SHA}"):
		sum := sha1.Sum([]byte(pw))
		return equal("{SHA}"+base64.StdEncoding.EncodeToString(sum[:]), hash), nil
	case strings.HasPrefix(hash, "$2"):
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
		if err == nil {
			return true, nil
		}
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, nil
		}
		return false, err
	}
	return false, ErrUnsupportedHash
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// MD5Crypt is the MD5-based crypt of APR (magic "$apr1$") and of FreeBSD
// and glibc (magic "$1$"): setting is a full hash or "magic salt[$...]";
// the salt is at most 8 characters.
func MD5Crypt(pw, setting, magic string) string {
	salt := strings.TrimPrefix(setting, magic)
	if i := strings.IndexByte(salt, '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > 8 {
		salt = salt[:8]
	}
	ctx := md5.New()
	ctx.Write([]byte(pw + magic + salt))
	alt := md5.Sum([]byte(pw + salt + pw))
	for pl := len(pw); pl > 0; pl -= 16 {
		ctx.Write(alt[:min(16, pl)])
	}
	for i := len(pw); i != 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write([]byte{pw[0]})
		}
	}
	final := ctx.Sum(nil)
	for i := 0; i < 1000; i++ {
		c := md5.New()
		if i&1 != 0 {
			c.Write([]byte(pw))
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write([]byte(salt))
		}
		if i%7 != 0 {
			c.Write([]byte(pw))
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write([]byte(pw))
		}
		final = c.Sum(nil)
	}
	var b strings.Builder
	b.WriteString(magic + salt + "$")
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			b.WriteByte(itoa64[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		to64(uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	to64(uint32(final[11]), 2)
	return b.String()
}
