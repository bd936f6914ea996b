package authbasic_test

import (
	"errors"
	"testing"

	"github.com/httpdg/httpdg/modules/authbasic"
)

// The hashes were made by htpasswd 2.4.67 (-B, -s, -m) and openssl passwd.
func TestValidatePassword(t *testing.T) {
	cases := []struct {
		pw, hash string
		ok       bool
	}{
		{"bobpw", "$2y$05$yQpxrEdqnLOo9NR.u2ErmelFgYiw9nacgqVfrG0pCGfghOVyILRi6", true},
		{"bobpx", "$2y$05$yQpxrEdqnLOo9NR.u2ErmelFgYiw9nacgqVfrG0pCGfghOVyILRi6", false},
		{"sampw", "{SHA}zdfHiOZdF7FOb1t0y5i0bM17qNc=", true},
		{"samp", "{SHA}zdfHiOZdF7FOb1t0y5i0bM17qNc=", false},
		{"amypw", "$apr1$TZu1p3N4$3ZZQ3ZE27L.Qi0EeS5qFD1", true},
		{"amypW", "$apr1$TZu1p3N4$3ZZQ3ZE27L.Qi0EeS5qFD1", false},
		{"hello", "$apr1$xyz$V9Ia6WfootzHtHT4Rjgs7.", true},
		{"secret", "$1$saltsalt$9xy1btjgzLYfb7hivXtC//", true},
		{"", "$1$saltsalt$9xy1btjgzLYfb7hivXtC//", false},
	}
	for _, c := range cases {
		ok, err := authbasic.ValidatePassword(c.pw, c.hash)
		if err != nil || ok != c.ok {
			t.Errorf("ValidatePassword(%q, %q) = %v, %v; want %v", c.pw, c.hash, ok, err, c.ok)
		}
	}
	for _, h := range []string{"bJ/.YZb7bmvic", "$6$VkkP.O7QyPZgdju4$uRICGX4v4lLSH9i38pqtTDc07aoy3nDwWQ6wuHH11wjYumC5xzdmbOm.z2Y14.41eJAQBequL/wl3uPrlituE1"} {
		if _, err := authbasic.ValidatePassword("x", h); !errors.Is(err, authbasic.ErrUnsupportedHash) {
			t.Errorf("%s: err %v, want ErrUnsupportedHash", h, err)
		}
	}
}
