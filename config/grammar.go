package config

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar of one logical config line. Apache's syntax is line based: a
// line is a section opener ("<Name args>"), a section closer ("</Name>") or a
// directive ("Name args"); an argument is a bare word or a quoted string.
// Nesting is checked by the reader, which gives Apache's own messages for
// unbalanced sections rather than a generic parse error.

type lineAST struct {
	Head string   `parser:"@Head"`
	Args []string `parser:"@Arg*"`
}

// The first token of a line (Head) says what the line is: "</Name>" closes
// a section, "<Name" opens one, anything else names a directive. An
// argument is one Arg token, a bare word or a quoted string, captured as
// written (a quoted one keeps its quotes, see isQuoted) and unquoted
// afterwards. A grammar with one alternative per kind of line and per kind
// of argument made the parser branch, and allocate, several times a token:
// most of the time of loading a large config.

// isQuoted reports whether an Arg token is a quoted string: the lexer makes
// every token that starts with a quote one.
func isQuoted(tok string) bool {
	return tok != "" && (tok[0] == '"' || tok[0] == '\'')
}

// argValue is the value of an argument token: unquoted and unescaped if quoted.
func argValue(tok string) string {
	if isQuoted(tok) {
		return unquote(tok)
	}
	return tok
}

// unquote strips the quotes of a quoted argument and undoes the escapes
// Apache honours inside quotes: \" \' and \\.
func unquote(q string) string {
	s := q[1 : len(q)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\'' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Token types of the line lexer.
const (
	tokHead lexer.TokenType = iota + 1 // the first token of the line
	tokArg                             // a bare word or a quoted string
)

// lineLexer splits a logical line the way Apache's ap_getword_conf does:
// white space separates words, a word that starts with a quote runs to the
// matching unescaped quote. Hand-written because it runs for every line of
// every config read and a regexp lexer costs several times more.
type lineLexer struct{}

// lineSymbols is built once: participle asks for the symbols on every parse.
var lineSymbols = map[string]lexer.TokenType{
	"EOF": lexer.EOF, "Head": tokHead, "Arg": tokArg,
}

func (lineLexer) Symbols() map[string]lexer.TokenType { return lineSymbols }

func (d lineLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

func (lineLexer) LexString(filename, s string) (lexer.Lexer, error) {
	return &lineScanner{s: s, file: filename}, nil
}

type lineScanner struct {
	s     string
	pos   int
	file  string
	first bool // the Head token has been returned
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

func (l *lineScanner) Next() (lexer.Token, error) {
	for l.pos < len(l.s) && isBlank(l.s[l.pos]) {
		l.pos++
	}
	start := l.pos
	p := lexer.Position{Filename: l.file, Offset: start, Line: 1, Column: start + 1}
	if l.pos >= len(l.s) {
		return lexer.Token{Type: lexer.EOF, Pos: p}, nil
	}
	if c := l.s[l.pos]; c == '"' || c == '\'' {
		end, ok := quoteEnd(l.s, l.pos)
		if !ok {
			return lexer.Token{}, fmt.Errorf("unterminated quoted argument: %s", l.s[start:])
		}
		l.pos = end
		return lexer.Token{Type: l.typ(), Value: l.s[start:end], Pos: p}, nil
	}
	for l.pos < len(l.s) && !isBlank(l.s[l.pos]) {
		l.pos++
	}
	return lexer.Token{Type: l.typ(), Value: l.s[start:l.pos], Pos: p}, nil
}

// typ is the type of the next token: Head for the first, then Arg.
func (l *lineScanner) typ() lexer.TokenType {
	if l.first {
		return tokArg
	}
	l.first = true
	return tokHead
}

// quoteEnd returns the index just past the quote closing the one at s[i].
func quoteEnd(s string, i int) (int, bool) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j + 1, true
		}
	}
	return 0, false
}

var lineParser = participle.MustBuild[lineAST](participle.Lexer(lineLexer{}), participle.UseLookahead(1))

// lineKind says what a parsed line is.
type lineKind int

const (
	kindDirective lineKind = iota
	kindOpen
	kindClose
)

// parsedLine is one logical line broken into its parts.
type parsedLine struct {
	Kind lineKind
	Name string   // directive or section name, without '<', '</' or '>'
	Args []string // unquoted arguments
	Raw  string   // the argument text as written (sections: without the closing '>')
	// HashArg is the first bare argument starting with '#', which Apache
	// takes as an argument where users often mean a comment.
	HashArg string
}

// parseLine parses one logical (already ${}-expanded) line.
func parseLine(text string) (*parsedLine, error) {
	ast, err := lineParser.ParseString("", text)
	if err != nil {
		if _, ok := firstUnterminated(text); ok {
			return nil, fmt.Errorf("unterminated quoted argument in: %s", text)
		}
		return nil, fmt.Errorf("cannot parse line: %s", text)
	}
	head := ast.Head
	switch {
	case strings.HasPrefix(head, "</"):
		name := strings.TrimSuffix(head[2:], ">")
		if !strings.HasSuffix(head, ">") && !(len(ast.Args) == 1 && ast.Args[0] == ">") {
			return nil, fmt.Errorf("</%s directive missing closing '>'", name)
		}
		return &parsedLine{Kind: kindClose, Name: name}, nil
	case len(head) > 1 && head[0] == '<':
		tag := head[1:]
		pl := &parsedLine{Kind: kindOpen}
		raw := strings.TrimSpace(text[len(head):])
		if strings.HasSuffix(tag, ">") {
			// "<Name>": no arguments; anything after the '>' is an error.
			pl.Name = strings.TrimSuffix(tag, ">")
			if raw != "" {
				return nil, fmt.Errorf("<%s> has text after its closing '>': %s", pl.Name, raw)
			}
			return pl, nil
		}
		pl.Name = tag
		if !strings.HasSuffix(raw, ">") {
			return nil, fmt.Errorf("<%s> directive missing closing '>'", tag)
		}
		pl.Raw = strings.TrimSpace(strings.TrimSuffix(raw, ">"))
		args := ast.Args
		if n := len(args); n > 0 && !isQuoted(args[n-1]) {
			last := args[n-1]
			if last == ">" {
				args = args[:n-1]
			} else {
				args = append(args[:n-1:n-1], strings.TrimSuffix(last, ">"))
			}
		}
		if len(args) > 0 {
			pl.Args = make([]string, 0, len(args))
		}
		for _, a := range args {
			pl.Args = append(pl.Args, argValue(a))
		}
		return pl, nil
	default:
		pl := &parsedLine{Kind: kindDirective, Name: argValue(head)}
		pl.Raw = strings.TrimSpace(text[len(head):])
		if len(ast.Args) > 0 {
			pl.Args = make([]string, 0, len(ast.Args))
		}
		for _, a := range ast.Args {
			if pl.HashArg == "" && strings.HasPrefix(a, "#") {
				pl.HashArg = a
			}
			pl.Args = append(pl.Args, argValue(a))
		}
		return pl, nil
	}
}

func firstUnterminated(s string) (int, bool) {
	for i := 0; i < len(s); i++ {
		if isBlank(s[i]) {
			continue
		}
		if s[i] == '"' || s[i] == '\'' {
			end, ok := quoteEnd(s, i)
			if !ok {
				return i, true
			}
			i = end - 1
			continue
		}
		for i < len(s) && !isBlank(s[i]) {
			i++
		}
	}
	return 0, false
}
