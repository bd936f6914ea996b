package authz_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest"
)

// users made with htpasswd 2.4.67: bob -B, sam -s, amy -m, dan -d (DES
// crypt, which httpdg does not check).
const htpasswd = `bob:$2y$05$yQpxrEdqnLOo9NR.u2ErmelFgYiw9nacgqVfrG0pCGfghOVyILRi6
sam:{SHA}zdfHiOZdF7FOb1t0y5i0bM17qNc=
amy:$apr1$TZu1p3N4$3ZZQ3ZE27L.Qi0EeS5qFD1
dan:bJ/.YZb7bmvic
`

var passwords = map[string]string{"bob": "bobpw", "sam": "sampw", "amy": "amypw", "dan": "danpw"}

const locations = `
<Location /denied>
  Require all denied
</Location>
<Location /ip>
  Require ip 10.0.0.0/8
</Location>
<Location /ipok>
  Require ip 127.0
</Location>
<Location /notip>
  <RequireAll>
  Require all granted
  Require not ip 127.0.0.1
  </RequireAll>
</Location>
<Location /none>
  <RequireAll>
  Require all granted
  <RequireNone>
  Require ip 127.0.0.0/8
  </RequireNone>
  </RequireAll>
</Location>
<Location /method>
  Require method POST
</Location>
<Location /local>
  Require local
</Location>
<Location /host>
  Require host localhost
</Location>
<Location /env>
  Require env nosuchvar
</Location>
<Location /auth>
  AuthType Basic
  AuthName "Members Only"
  AuthUserFile conf/htpasswd
  Require valid-user
</Location>
<Location /authbob>
  AuthType Basic
  AuthName "Bob"
  AuthUserFile conf/htpasswd
  Require user bob
</Location>
<Location /grp>
  AuthType Basic
  AuthName "G"
  AuthUserFile conf/htpasswd
  AuthGroupFile conf/groups
  Require group admins
</Location>
<Location /ipany>
  AuthType Basic
  AuthName "Any"
  AuthUserFile conf/htpasswd
  Require ip 10.0.0.1
  Require valid-user
</Location>
<Location /ipall>
  AuthType Basic
  AuthName "All"
  AuthUserFile conf/htpasswd
  <RequireAll>
  Require not ip 127.0.0.1
  Require valid-user
  </RequireAll>
</Location>
<Location /noauthtype>
  Require valid-user
</Location>
<Location /authnoreq>
  AuthType Basic
  AuthName "X"
  AuthUserFile conf/htpasswd
</Location>
<Location /noname>
  AuthType Basic
  AuthUserFile conf/htpasswd
  Require valid-user
</Location>
<Location /merge>
  Require ip 127.0.0.1
</Location>
<Location /merge/and>
  AuthMerging And
  Require ip 10.0.0.1
</Location>
<Location /merge/or>
  AuthMerging Or
  Require ip 10.0.0.1
</Location>
<Location /merge/off>
  Require ip 10.0.0.1
</Location>
`

// TestRequireMatchesApache encodes what Apache 2.4.67 answered for the same
// config and tree (no files under these paths, so "granted" shows as 404).
func TestRequireMatchesApache(t *testing.T) {
	port := httpdgtest.FreePort(t)
	root := httpdgtest.WriteTree(t, map[string]string{
		"htdocs/ok.txt": "ok\n",
		"conf/htpasswd": htpasswd,
		"conf/groups":   "admins: bob amy\n",
	})
	conf := httpdgtest.Conf(port, "DocumentRoot htdocs", locations)
	if err := os.WriteFile(filepath.Join(root, "conf/httpd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := httpdgtest.Start(t, root, port)
	type want struct {
		status int
		realm  string
	}
	cases := []struct {
		path, user string
		method     string
		want       want
	}{
		{"/ok.txt", "", "", want{200, ""}}, // nothing configured: granted
		{"/denied", "", "", want{403, ""}},
		{"/ip", "", "", want{403, ""}},
		{"/ipok", "", "", want{404, ""}},
		{"/notip", "", "", want{403, ""}},
		{"/none", "", "", want{403, ""}},
		{"/method", "", "", want{403, ""}},
		{"/method", "", "POST", want{404, ""}},
		{"/local", "", "", want{404, ""}},
		{"/host", "", "", want{404, ""}},
		{"/env", "", "", want{403, ""}},
		{"/auth", "", "", want{401, `Basic realm="Members Only"`}},
		{"/noauthtype", "", "", want{500, ""}},
		{"/authnoreq", "", "", want{500, ""}},
		{"/noname", "", "", want{500, ""}},
		{"/merge", "", "", want{404, ""}},
		{"/merge/and", "", "", want{403, ""}},
		{"/merge/or", "", "", want{404, ""}},
		{"/merge/off", "", "", want{403, ""}},
		{"/ipall", "", "", want{403, ""}},
		{"/auth/x", "bob", "", want{404, ""}},
		{"/authbob", "bob", "", want{404, ""}},
		{"/grp", "bob", "", want{404, ""}},
		{"/ipany", "bob", "", want{404, ""}},
		{"/ipall", "bob", "", want{403, ""}},
		{"/auth/x", "sam", "", want{404, ""}},
		{"/authbob", "sam", "", want{401, `Basic realm="Bob"`}},
		{"/grp", "sam", "", want{401, `Basic realm="G"`}},
		{"/ipany", "sam", "", want{404, ""}},
		{"/auth/x", "amy", "", want{404, ""}},
		{"/authbob", "amy", "", want{401, `Basic realm="Bob"`}},
		{"/grp", "amy", "", want{404, ""}},
		{"/auth/x", "bob:wrong", "", want{401, `Basic realm="Members Only"`}},
		{"/ipany", "bob:wrong", "", want{401, `Basic realm="Any"`}},
		{"/ipall", "bob:wrong", "", want{403, ""}},
		{"/auth/x", "nobody:x", "", want{401, `Basic realm="Members Only"`}},
		// Apache checks DES crypt with crypt(3) and answers 404 here;
		// httpdg refuses the hash with 500 and a log line.
		{"/auth/x", "dan", "", want{500, ""}},
	}
	for _, c := range cases {
		method := c.method
		if method == "" {
			method = http.MethodGet
		}
		req, _ := http.NewRequest(method, s.URL+c.path, nil)
		if c.user != "" {
			u, pw, ok := strings.Cut(c.user, ":")
			if !ok {
				pw = passwords[u]
			}
			req.SetBasicAuth(u, pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := want{resp.StatusCode, resp.Header.Get("WWW-Authenticate")}
		if got != c.want {
			t.Errorf("%s %s as %q: got %+v, want %+v", method, c.path, c.user, got, c.want)
		}
	}
	// Malformed credentials, as Apache answers them.
	for _, h := range []string{"Bearer x", "Basic !!!", "Basic Ym9i"} {
		req, _ := http.NewRequest("GET", s.URL+"/auth", nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="Members Only"` {
			t.Errorf("Authorization %q: %d %q", h, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}
