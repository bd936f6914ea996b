package core

import "strings"

// EscapePath is Apache's ap_escape_uri (ap_os_escape_path with partial
// set): every byte but alphanumerics and $-_.+!*'(),:;@&=/~ becomes %hh,
// in lower-case hex as Apache writes it. Modules building a URL from a
// decoded path (redirect Locations, listing links) use it so the URL is
// the one Apache would send.
func EscapePath(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("$-_.+!*'(),:;@&=/~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
