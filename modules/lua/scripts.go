package lua

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"github.com/httpdg/httpdg/config"
)

// compileMode returns "eager" or "lazy": the value of the last LuaCompile
// line in the effective config tree. It is found by a scan of the tree on
// first use, so a LuaCompile line anywhere governs every script.
func compileMode(cfg *config.Config) string {
	g := GlobalOf(cfg)
	if !g.compileKnown {
		g.compileKnown = true
		g.Compile = DefaultCompile
		var walk func([]*config.Node)
		walk = func(ns []*config.Node) {
			for _, n := range ns {
				if n.Section {
					walk(n.Children)
					continue
				}
				if strings.EqualFold(n.Name, "LuaCompile") && len(n.Args) == 1 {
					switch strings.ToLower(n.Args[0]) {
					case "lazy", "eager":
						g.Compile = strings.ToLower(n.Args[0])
					}
				}
			}
		}
		walk(cfg.Tree)
	}
	return g.Compile
}

// scriptPath resolves a script named by a directive: relative to the
// LuaRoot in effect, else to ServerRoot.
func scriptPath(c *config.Cmd, file string) string {
	if filepath.IsAbs(file) {
		return filepath.Clean(file)
	}
	if root := luaRoot(c); root != "" {
		return filepath.Join(root, file)
	}
	return c.Path(file)
}

// displayPath shows path relative to ServerRoot when it lies under it.
func displayPath(cfg *config.Config, path string) string {
	if rel, err := filepath.Rel(cfg.ServerRoot, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return path
}

// checkScript checks the script a directive names: it must be a readable
// file and, with LuaCompile eager, compile. function, when not empty, is
// the global the directive will call; a script that visibly does not
// define it gets a warning.
func checkScript(c *config.Cmd, file, function string) (string, error) {
	path := scriptPath(c, file)
	if _, err := c.ExistingFile(path); err != nil {
		return "", err
	}
	if compileMode(c.Config) != "eager" {
		return path, nil
	}
	s := loadScript(c.Config, path)
	if s.Err != nil {
		return "", fmt.Errorf("%s: lua script %v", c.Directive.Name, s.Err)
	}
	if function != "" && !s.Globals[function] {
		c.Warn("%s: %s does not define a global function '%s' at its top level; the hook fails if it is not defined when the script runs",
			c.Directive.Name, displayPath(c.Config, path), function)
	}
	return path, nil
}

// loadScript parses and compiles the script at path once per config load.
func loadScript(cfg *config.Config, path string) *Script {
	g := GlobalOf(cfg)
	if s := g.scripts[path]; s != nil {
		return s
	}
	if g.scripts == nil {
		g.scripts = map[string]*Script{}
	}
	s := compileScript(path, displayPath(cfg, path))
	g.scripts[path] = s
	return s
}

// compileScript parses and compiles a Lua file without running it. Errors
// read "name:line: message".
func compileScript(path, name string) (s *Script) {
	s = &Script{Path: path}
	if st, err := os.Stat(path); err == nil {
		s.ModTime, s.Size = st.ModTime(), st.Size()
	}
	src, err := os.ReadFile(path)
	if err != nil {
		s.Err = fmt.Errorf("%s: %v", name, err)
		return s
	}
	defer func() { // gopher-lua panics on some malformed input
		if r := recover(); r != nil {
			s.Proto, s.Err = nil, fmt.Errorf("%s: %v", name, r)
		}
	}()
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err == nil && chunk == nil {
		err = errors.New("the Lua parser failed")
	}
	if err != nil {
		s.Err = luaError(name, src, err)
		return s
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		s.Err = luaError(name, src, err)
		return s
	}
	s.Proto = proto
	s.Globals = topLevelGlobals(chunk)
	return s
}

// luaError renders a gopher-lua parse or compile error as "name:line: msg".
func luaError(name string, src []byte, err error) error {
	var pe *parse.Error
	var ce *lua.CompileError
	switch {
	case errors.As(err, &pe):
		if pe.Pos.Line == parse.EOF {
			return fmt.Errorf("%s:%d: at end of file: %s", name, lastLine(src), pe.Message)
		}
		if pe.Pos.Column == 0 && pe.Pos.Line > 1 {
			// the scanner stopped just past a newline (an unterminated
			// string): the fault is on the line before
			return fmt.Errorf("%s:%d: near '%s': %s", name, pe.Pos.Line-1, pe.Token, pe.Message)
		}
		return fmt.Errorf("%s:%d: near '%s' (column %d): %s", name, pe.Pos.Line, pe.Token, pe.Pos.Column, pe.Message)
	case errors.As(err, &ce):
		return fmt.Errorf("%s:%d: %s", name, ce.Line, ce.Message)
	}
	return fmt.Errorf("%s: %s", name, strings.TrimSpace(err.Error()))
}

func lastLine(src []byte) int {
	n := bytes.Count(src, []byte("\n"))
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return max(n, 1)
}

// topLevelGlobals lists the globals a chunk's top level assigns.
func topLevelGlobals(chunk []ast.Stmt) map[string]bool {
	out := map[string]bool{}
	for _, st := range chunk {
		switch st := st.(type) {
		case *ast.FuncDefStmt:
			if id, ok := st.Name.Func.(*ast.IdentExpr); ok && st.Name.Receiver == nil {
				out[id.Value] = true
			}
		case *ast.AssignStmt:
			for _, e := range st.Lhs {
				if id, ok := e.(*ast.IdentExpr); ok {
					out[id.Value] = true
				}
			}
		}
	}
	return out
}
