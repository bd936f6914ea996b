package config

import (
	"fmt"
	"strings"
)

// expandVars replaces every ${NAME} in line by a Define'd value, else by the
// environment variable NAME. Unlike Apache, which warns and leaves the text,
// an undefined name is an error: a silently literal "${PORT}" in a Listen line
// is a worse failure later. Values are not expanded again.
func expandVars(line string, lookup func(string) (string, bool)) (string, error) {
	i := strings.Index(line, "${")
	if i < 0 {
		return line, nil
	}
	var b strings.Builder
	for i >= 0 {
		end := strings.IndexByte(line[i+2:], '}')
		if end < 0 {
			break // no closing brace: Apache leaves the text as is
		}
		name := line[i+2 : i+2+end]
		val, ok := lookup(name)
		if !ok {
			return "", fmt.Errorf("Config variable ${%s} is not defined", name)
		}
		b.WriteString(line[:i])
		b.WriteString(val)
		line = line[i+2+end+1:]
		i = strings.Index(line, "${")
	}
	b.WriteString(line)
	return b.String(), nil
}
