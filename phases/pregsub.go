package phases

import "strings"

// Pregsub is Apache's ap_pregsub: tmpl with $0..$9 replaced by the groups
// of a regexp match m (FindStringSubmatchIndex of src), "\$" and "\&"
// standing for a literal '$' and '&'.
func Pregsub(tmpl, src string, m []int) string {
	if !strings.ContainsAny(tmpl, "$\\") {
		return tmpl
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '\\' && i+1 < len(tmpl) && (tmpl[i+1] == '$' || tmpl[i+1] == '&'):
			i++
			b.WriteByte(tmpl[i])
		case c == '$' && i+1 < len(tmpl) && tmpl[i+1] >= '0' && tmpl[i+1] <= '9':
			n := int(tmpl[i+1] - '0')
			i++
			if 2*n+1 < len(m) && m[2*n] >= 0 {
				b.WriteString(src[m[2*n]:m[2*n+1]])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
