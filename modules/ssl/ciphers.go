package ssl

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
)

// The OpenSSL cipher-string language (SSLCipherSuite's argument) evaluated
// over the TLS 1.0-1.2 cipher suites Go's crypto/tls implements.
//
// Each suite Go has is in suiteTable under its OpenSSL name with the
// attributes OpenSSL's aliases select on. An alias (HIGH, ECDHE, AESGCM...)
// adds only suites of tls.CipherSuites() (Go's secure set); the suites of
// tls.InsecureCipherSuites() (RC4, 3DES, RSA key exchange, CBC-SHA256) are
// added only by their explicit OpenSSL name, though aliases do remove or
// move them once added.

// Key exchange, authentication, encryption and MAC of a suite, as
// OpenSSL's algorithm_mkey/auth/enc/mac bits.
const (
	kRSA = iota + 1
	kECDHE
)
const (
	aRSA = iota + 1
	aECDSA
)
const (
	encAES128 = iota + 1
	encAES256
	encAES128GCM
	encAES256GCM
	encCHACHA20
	enc3DES
	encRC4
)
const (
	macSHA1 = iota + 1
	macSHA256
	macAEAD
)

type suiteInfo struct {
	name     string // OpenSSL's name
	id       uint16
	kx, au   int
	enc, mac int
	tls12    bool // only in TLS 1.2 (OpenSSL's TLSv1.2 alias); else SSLv3/TLSv1
	bits     int  // strength: HIGH > 112 >= MEDIUM
}

var suiteTable = []suiteInfo{
	{"ECDHE-ECDSA-AES128-GCM-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, kECDHE, aECDSA, encAES128GCM, macAEAD, true, 128},
	{"ECDHE-RSA-AES128-GCM-SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, kECDHE, aRSA, encAES128GCM, macAEAD, true, 128},
	{"ECDHE-ECDSA-AES256-GCM-SHA384", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, kECDHE, aECDSA, encAES256GCM, macAEAD, true, 256},
	{"ECDHE-RSA-AES256-GCM-SHA384", tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, kECDHE, aRSA, encAES256GCM, macAEAD, true, 256},
	{"ECDHE-ECDSA-CHACHA20-POLY1305", tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, kECDHE, aECDSA, encCHACHA20, macAEAD, true, 256},
	{"ECDHE-RSA-CHACHA20-POLY1305", tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, kECDHE, aRSA, encCHACHA20, macAEAD, true, 256},
	{"ECDHE-ECDSA-AES128-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, kECDHE, aECDSA, encAES128, macSHA1, false, 128},
	{"ECDHE-RSA-AES128-SHA", tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, kECDHE, aRSA, encAES128, macSHA1, false, 128},
	{"ECDHE-ECDSA-AES256-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, kECDHE, aECDSA, encAES256, macSHA1, false, 256},
	{"ECDHE-RSA-AES256-SHA", tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, kECDHE, aRSA, encAES256, macSHA1, false, 256},
	{"ECDHE-ECDSA-AES128-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, kECDHE, aECDSA, encAES128, macSHA256, true, 128},
	{"ECDHE-RSA-AES128-SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, kECDHE, aRSA, encAES128, macSHA256, true, 128},
	{"AES128-GCM-SHA256", tls.TLS_RSA_WITH_AES_128_GCM_SHA256, kRSA, aRSA, encAES128GCM, macAEAD, true, 128},
	{"AES256-GCM-SHA384", tls.TLS_RSA_WITH_AES_256_GCM_SHA384, kRSA, aRSA, encAES256GCM, macAEAD, true, 256},
	{"AES128-SHA256", tls.TLS_RSA_WITH_AES_128_CBC_SHA256, kRSA, aRSA, encAES128, macSHA256, true, 128},
	{"AES128-SHA", tls.TLS_RSA_WITH_AES_128_CBC_SHA, kRSA, aRSA, encAES128, macSHA1, false, 128},
	{"AES256-SHA", tls.TLS_RSA_WITH_AES_256_CBC_SHA, kRSA, aRSA, encAES256, macSHA1, false, 256},
	{"ECDHE-RSA-DES-CBC3-SHA", tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, kECDHE, aRSA, enc3DES, macSHA1, false, 112},
	{"DES-CBC3-SHA", tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, kRSA, aRSA, enc3DES, macSHA1, false, 112},
	{"ECDHE-ECDSA-RC4-SHA", tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA, kECDHE, aECDSA, encRC4, macSHA1, false, 128},
	{"ECDHE-RSA-RC4-SHA", tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, kECDHE, aRSA, encRC4, macSHA1, false, 128},
	{"RC4-SHA", tls.TLS_RSA_WITH_RC4_128_SHA, kRSA, aRSA, encRC4, macSHA1, false, 128},
}

// secureSuites are Go's secure TLS 1.0-1.2 suites (tls.CipherSuites()),
// which are also the ones Go's server enables when CipherSuites is nil.
var secureSuites = func() map[uint16]bool {
	m := map[uint16]bool{}
	for _, c := range tls.CipherSuites() {
		if slices.ContainsFunc(c.SupportedVersions, func(v uint16) bool { return v <= tls.VersionTLS12 }) {
			m[c.ID] = true
		}
	}
	return m
}()

// goDefaultSuites lists secureSuites in suiteTable's order.
func goDefaultSuites() []uint16 {
	var ids []uint16
	for _, s := range suiteTable {
		if secureSuites[s.id] {
			ids = append(ids, s.id)
		}
	}
	return ids
}

// aliases maps OpenSSL's cipher aliases (case-sensitive, as in OpenSSL) to
// the suites they select. Aliases of algorithms Go does not implement
// (DHE, CAMELLIA, PSK...) are known and select nothing.
var aliases = func() map[string]func(*suiteInfo) bool {
	none := func(*suiteInfo) bool { return false }
	all := func(*suiteInfo) bool { return true }
	kx := func(k int) func(*suiteInfo) bool { return func(s *suiteInfo) bool { return s.kx == k } }
	au := func(a int) func(*suiteInfo) bool { return func(s *suiteInfo) bool { return s.au == a } }
	enc := func(e ...int) func(*suiteInfo) bool {
		return func(s *suiteInfo) bool { return slices.Contains(e, s.enc) }
	}
	mac := func(m int) func(*suiteInfo) bool { return func(s *suiteInfo) bool { return s.mac == m } }
	m := map[string]func(*suiteInfo) bool{
		"ALL": all, "DEFAULT": all, "COMPLEMENTOFALL": none,
		"COMPLEMENTOFDEFAULT": enc(encRC4),
		"HIGH":                func(s *suiteInfo) bool { return s.bits > 112 && s.enc != encRC4 },
		"MEDIUM":              func(s *suiteInfo) bool { return s.bits == 112 || s.enc == encRC4 },
		"FIPS":                func(s *suiteInfo) bool { return s.bits > 112 && s.enc != encRC4 && s.enc != encCHACHA20 },
		"kRSA":                kx(kRSA), "RSA": kx(kRSA),
		"kECDHE": kx(kECDHE), "kEECDH": kx(kECDHE), "ECDHE": kx(kECDHE), "EECDH": kx(kECDHE),
		"kECDH": kx(kECDHE), "ECDH": kx(kECDHE),
		"aRSA": au(aRSA), "aECDSA": au(aECDSA), "ECDSA": au(aECDSA),
		"AES128": enc(encAES128, encAES128GCM), "AES256": enc(encAES256, encAES256GCM),
		"AES":    enc(encAES128, encAES256, encAES128GCM, encAES256GCM),
		"AESGCM": enc(encAES128GCM, encAES256GCM), "CHACHA20": enc(encCHACHA20),
		"3DES": enc(enc3DES), "RC4": enc(encRC4),
		"SHA1": mac(macSHA1), "SHA": mac(macSHA1), "SHA256": mac(macSHA256),
		"SSLv3":   func(s *suiteInfo) bool { return !s.tls12 },
		"TLSv1":   func(s *suiteInfo) bool { return !s.tls12 },
		"TLSv1.0": func(s *suiteInfo) bool { return !s.tls12 },
		"TLSv1.2": func(s *suiteInfo) bool { return s.tls12 },
		"SUITEB128": func(s *suiteInfo) bool {
			return s.id == tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 || s.id == tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
		},
		"SUITEB128ONLY": func(s *suiteInfo) bool { return s.id == tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 },
		"SUITEB128C2":   func(s *suiteInfo) bool { return s.id == tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 },
		"SUITEB192":     func(s *suiteInfo) bool { return s.id == tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 },
	}
	for _, name := range strings.Fields(`LOW EXP EXPORT EXPORT40 EXPORT56 EXP40 EXP56 aNULL eNULL NULL ADH AECDH
		kDHE kEDH DHE EDH DH kDH kDHr kDHd aDH kECDHr kECDHe aECDH
		aDSS DSS aNULL aKRB5 kKRB5 KRB5 kPSK aPSK PSK kRSAPSK RSAPSK kECDHEPSK ECDHEPSK kDHEPSK DHEPSK
		kSRP aSRP SRP kGOST kGOST18 aGOST aGOST01 aGOST12 GOST89 GOST89MAC GOST94 GOST12 GOST89MAC12 GOST2012
		DES RC2 IDEA SEED MD5 SHA384 AESCCM AESCCM8 CAMELLIA CAMELLIA128 CAMELLIA256
		ARIA ARIA128 ARIA256 ARIAGCM CBC`) {
		if m[name] == nil {
			m[name] = none
		}
	}
	return m
}()

// cipherNameWords are the words OpenSSL's cipher names are made of; a
// dashed name of these words that is not in suiteTable names a suite Go
// does not implement (DHE-RSA-AES128-GCM-SHA256...): known, selecting
// nothing. Anything else is an error.
var cipherNameWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ECDHE ECDH EDH DHE DH ADH AECDH RSA DSS ECDSA PSK SRP KRB5 EXP EXP1024
		AES128 AES256 AES GCM CCM CCM8 CBC CBC3 CBC5 DES SHA SHA256 SHA384 MD5 CHACHA20 POLY1305
		CAMELLIA128 CAMELLIA256 CAMELLIA ARIA128 ARIA256 IDEA SEED RC4 RC2 NULL
		GOST GOST94 GOST89 GOST2001 GOST2012 GOST2012256 CNT KUZNYECHIK MAGMA CTR OMAC`) {
		cipherNameWords[w] = true
	}
}

// CipherString is an evaluated SSLCipherSuite string.
type CipherString struct {
	// Suites are the enabled suite IDs in the OpenSSL list's order (Go's
	// TLS ignores the order and uses its own).
	Suites []uint16
	// NotInGo are the explicit OpenSSL cipher names the string adds that
	// Go's TLS does not implement (they select nothing).
	NotInGo []string
	// Insecure are the names of the suites enabled from Go's insecure set.
	Insecure []string
}

// EvalCipherString evaluates an OpenSSL cipher string as OpenSSL's
// ssl_cipher_process_rulestr does, over suiteTable: a plain element adds
// the suites it selects at the end, "-" disables them (a later element may
// add them back), "!" deletes them for good, "+" moves the enabled ones to
// the end; "A+B" selects the suites both select. "@STRENGTH" and
// "@SECLEVEL=n" are accepted and ignored: Go orders suites itself and has
// no security levels. An unknown name is an error, and so is a string
// that leaves no suite.
func EvalCipherString(spec string) (*CipherString, error) {
	if err := checkCipherString(spec); err != nil {
		return nil, err
	}
	type entry struct {
		s      *suiteInfo
		active bool
	}
	list := make([]*entry, len(suiteTable))
	for i := range suiteTable {
		list[i] = &entry{s: &suiteTable[i]}
	}
	moveToEnd := func(e *entry) {
		i := slices.Index(list, e)
		list = append(slices.Delete(list, i, i+1), e)
	}
	out := &CipherString{}
	for _, elem := range strings.FieldsFunc(spec, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		op, body := byte(0), elem
		if elem[0] == '!' || elem[0] == '-' || elem[0] == '+' {
			op, body = elem[0], elem[1:]
		}
		if strings.HasPrefix(body, "@") {
			continue
		}
		var match func(*suiteInfo) bool
		explicit := false
		for _, part := range strings.Split(body, "+") {
			f, exp, err := selector(part, spec, out, op == 0)
			if err != nil {
				return nil, err
			}
			explicit = explicit || exp
			if prev := match; prev != nil {
				match = func(s *suiteInfo) bool { return prev(s) && f(s) }
			} else {
				match = f
			}
		}
		var sel []*entry
		for _, e := range list {
			if match(e.s) && (explicit || secureSuites[e.s.id] || op != 0) {
				sel = append(sel, e)
			}
		}
		for _, e := range sel {
			switch op {
			case 0:
				if !e.active {
					e.active = true
					moveToEnd(e)
				}
			case '+':
				if e.active {
					moveToEnd(e)
				}
			case '-':
				e.active = false
			case '!':
				list = slices.DeleteFunc(list, func(x *entry) bool { return x == e })
			}
		}
	}
	for _, e := range list {
		if e.active {
			out.Suites = append(out.Suites, e.s.id)
			if !secureSuites[e.s.id] {
				out.Insecure = append(out.Insecure, e.s.name)
			}
		}
	}
	if len(out.Suites) == 0 {
		return nil, fmt.Errorf("SSLCipherSuite: no cipher suite left from '%s' (of the TLS 1.0-1.2 suites Go implements: %s)", spec, strings.Join(suiteNames(goDefaultSuites()), ":"))
	}
	return out, nil
}

// selector returns what one name of an element selects and whether it is
// an explicit cipher name. adding says the element adds (no prefix): an
// explicit name Go lacks is then recorded in out.NotInGo.
func selector(name, spec string, out *CipherString, adding bool) (func(*suiteInfo) bool, bool, error) {
	for i := range suiteTable {
		if suiteTable[i].name == name {
			id := suiteTable[i].id
			return func(s *suiteInfo) bool { return s.id == id }, true, nil
		}
	}
	if f := aliases[name]; f != nil {
		return f, false, nil
	}
	known := slices.Contains(tls13Ciphers, name)
	if !known && strings.Contains(name, "-") {
		known = true
		for _, w := range strings.Split(name, "-") {
			known = known && (cipherNameWords[w] || w != "" && strings.Trim(w, "0123456789") == "")
		}
	}
	if !known {
		return nil, false, fmt.Errorf("SSLCipherSuite: unknown cipher or alias '%s' in '%s'", name, spec)
	}
	if adding && !slices.Contains(out.NotInGo, name) {
		out.NotInGo = append(out.NotInGo, name)
	}
	return func(*suiteInfo) bool { return false }, true, nil
}

// suiteNames are the OpenSSL names of ids.
func suiteNames(ids []uint16) []string {
	var names []string
	for _, id := range ids {
		for _, s := range suiteTable {
			if s.id == id {
				names = append(names, s.name)
			}
		}
	}
	return names
}
