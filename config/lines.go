package config

import "strings"

// logicalLine is one directive line after continuation lines are joined,
// with the number of the physical line it starts on.
type logicalLine struct {
	Text string
	Line int
}

// splitLogicalLines applies Apache's line rules: a backslash that ends a line
// joins the next one (so a comment line ending in '\' swallows the next line,
// as in Apache), leading and trailing blanks are dropped, and blank lines and
// lines whose first non-blank character is '#' are skipped.
func splitLogicalLines(data string) []logicalLine {
	var out []logicalLine
	lineNo := 0
	var pending strings.Builder
	startLine := 0
	joining := false
	for len(data) > 0 {
		var phys string
		if i := strings.IndexByte(data, '\n'); i >= 0 {
			phys, data = data[:i], data[i+1:]
		} else {
			phys, data = data, ""
		}
		lineNo++
		phys = strings.TrimSuffix(phys, "\r")
		if !joining {
			startLine = lineNo
			pending.Reset()
		}
		if strings.HasSuffix(phys, "\\") {
			pending.WriteString(phys[:len(phys)-1])
			joining = true
			continue
		}
		joining = false
		var text string
		if pending.Len() > 0 {
			pending.WriteString(phys)
			text = pending.String()
		} else {
			text = phys
		}
		if l, ok := meaningful(text, startLine); ok {
			out = append(out, l)
		}
	}
	if joining { // file ends inside a continuation
		if l, ok := meaningful(pending.String(), startLine); ok {
			out = append(out, l)
		}
	}
	return out
}

func meaningful(text string, line int) (logicalLine, bool) {
	text = strings.TrimSpace(text)
	if text == "" || text[0] == '#' {
		return logicalLine{}, false
	}
	return logicalLine{Text: text, Line: line}, true
}
