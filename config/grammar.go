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
	Close *closeAST     `parser:"@@"`
	Open  *sectionAST   `parser:"| @@"`
	Cmd   *directiveAST `parser:"| @@"`
}

type closeAST struct {
	Tag  string   `parser:"@CloseTag"`
	Rest []argAST `parser:"@@*"`
}

type sectionAST struct {
	Tag  string   `parser:"@OpenTag"`
	Args []argAST `parser:"@@*"`
}

type directiveAST struct {
	Name string   `parser:"@(Word | Quoted)"`
	Args []argAST `parser:"@@*"`
}

type argAST struct {
	Quoted *string `parser:"@Quoted"`
	Word   *string `parser:"| @Word"`
}

func (a argAST) value() string {
	if a.Quoted != nil {
		return unquote(*a.Quoted)
	}
	return *a.Word
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
	tokWord lexer.TokenType = iota + 1
	tokQuoted
	tokOpenTag
	tokCloseTag
)

// lineLexer splits a logical line the way Apache's ap_getword_conf does:
// white space separates words, a word that starts with a quote runs to the
// matching unescaped quote. Hand-written because it runs for every line of
// every config read and a regexp lexer costs several times more.
type lineLexer struct{}

func (lineLexer) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF": lexer.EOF, "Word": tokWord, "Quoted": tokQuoted,
		"OpenTag": tokOpenTag, "CloseTag": tokCloseTag,
	}
}

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
	s    string
	pos  int
	file string
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
		return lexer.Token{Type: tokQuoted, Value: l.s[start:end], Pos: p}, nil
	}
	for l.pos < len(l.s) && !isBlank(l.s[l.pos]) {
		l.pos++
	}
	word := l.s[start:l.pos]
	typ := tokWord
	if start == 0 && len(word) > 1 && word[0] == '<' {
		typ = tokOpenTag
		if word[1] == '/' {
			typ = tokCloseTag
		}
	}
	return lexer.Token{Type: typ, Value: word, Pos: p}, nil
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
	switch {
	case ast.Close != nil:
		name := strings.TrimSuffix(ast.Close.Tag[2:], ">")
		if !strings.HasSuffix(ast.Close.Tag, ">") && !(len(ast.Close.Rest) == 1 && ast.Close.Rest[0].Word != nil && *ast.Close.Rest[0].Word == ">") {
			return nil, fmt.Errorf("</%s directive missing closing '>'", name)
		}
		return &parsedLine{Kind: kindClose, Name: name}, nil
	case ast.Open != nil:
		tag := ast.Open.Tag[1:]
		pl := &parsedLine{Kind: kindOpen}
		raw := strings.TrimSpace(text[len(ast.Open.Tag):])
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
		args := ast.Open.Args
		if n := len(args); n > 0 && args[n-1].Word != nil {
			last := *args[n-1].Word
			if last == ">" {
				args = args[:n-1]
			} else {
				trimmed := strings.TrimSuffix(last, ">")
				args = append(args[:n-1:n-1], argAST{Word: &trimmed})
			}
		}
		for _, a := range args {
			pl.Args = append(pl.Args, a.value())
		}
		return pl, nil
	default:
		name := ast.Cmd.Name
		if strings.HasPrefix(name, "\"") || strings.HasPrefix(name, "'") {
			name = unquote(name)
		}
		pl := &parsedLine{Kind: kindDirective, Name: name}
		pl.Raw = strings.TrimSpace(text[len(ast.Cmd.Name):])
		for _, a := range ast.Cmd.Args {
			if a.Word != nil && pl.HashArg == "" && strings.HasPrefix(*a.Word, "#") {
				pl.HashArg = *a.Word
			}
			pl.Args = append(pl.Args, a.value())
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
