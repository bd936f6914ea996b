// Command apachediff is the Go half of scripts/apache-diff.sh, which sets
// up the servers and calls it; it is not meant to be run alone. It works
// on the parity fixture (cmd/httpdg/httpdgtest/parity):
//
//	apachediff ports N                 print N free loopback ports
//	apachediff tree DIR                write the document tree into DIR
//	apachediff config DIR MAIN NOTRACE print the config both servers share
//	apachediff diff -apache MAIN,NOTRACE -httpdg MAIN,NOTRACE [-apache-log F -httpdg-log F] [-v]
//	apachediff emit -apache MAIN,NOTRACE
//
// diff sends every request of the parity table to both servers and prints,
// for each, both answers' status and key headers side by side, whether
// they agree, and whether Apache still answers what the table recorded;
// then the access-log lines that differ. emit prints Apache's answers,
// one "name<TAB>fields" line per case, as the expectation fields of
// parity.Cases rows: to record them after a change to the requests.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/httpdg/httpdg/cmd/httpdg/httpdgtest/parity"
)

func main() {
	if len(os.Args) < 2 {
		fatal(fmt.Errorf("usage: apachediff ports|tree|config|diff|emit ..."))
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "ports":
		n, err := strconv.Atoi(arg(args, 0))
		if err != nil {
			fatal(err)
		}
		freePorts(n)
	case "tree":
		if err := parity.WriteTree(arg(args, 0)); err != nil {
			fatal(err)
		}
	case "config":
		p, err := ports(arg(args, 1) + "," + arg(args, 2))
		if err != nil {
			fatal(err)
		}
		fmt.Print(parity.Config(arg(args, 0), p))
	case "diff", "emit":
		compare(os.Args[1], args)
	default:
		fatal(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}

// arg is args[i], or a fatal error when it is missing.
func arg(args []string, i int) string {
	if i >= len(args) {
		fatal(fmt.Errorf("%s: missing argument %d", os.Args[1], i+1))
	}
	return args[i]
}

// freePorts prints n loopback ports nothing listens on, holding them all
// open until printed so they are distinct.
func freePorts(n int) {
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fatal(err)
		}
		defer l.Close()
		out = append(out, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	fmt.Println(strings.Join(out, " "))
}

func compare(cmd string, args []string) {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	apacheFlag := fs.String("apache", "", "Apache's two ports: main,notrace")
	httpdgFlag := fs.String("httpdg", "", "httpdg's two ports: main,notrace")
	apacheLog := fs.String("apache-log", "", "Apache's combined access log, to compare lines")
	httpdgLog := fs.String("httpdg-log", "", "httpdg's combined access log")
	verbose := fs.Bool("v", false, "print both heads byte for byte for every difference")
	_ = fs.Parse(args)
	ap, err := ports(*apacheFlag)
	if err != nil {
		fatal(err)
	}
	if cmd == "emit" {
		alog := newTail(*apacheLog)
		for _, c := range parity.Cases {
			a := parity.Send(port(ap, c), c.Request)
			fmt.Println(row(c, a, port(ap, c), alog.next(port(ap, c))))
		}
		return
	}
	hp, err := ports(*httpdgFlag)
	if err != nil {
		fatal(err)
	}
	alog, hlog := newTail(*apacheLog), newTail(*httpdgLog)

	fmt.Println("| # | request | Apache 2.4 | httpdg | same? | recorded |")
	fmt.Println("|---|---|---|---|---|---|")
	var details []string
	differ, stale, logDiffer := 0, 0, 0
	var logLines []string
	for i, c := range parity.Cases {
		a := parity.Send(port(ap, c), c.Request)
		b := parity.Send(port(hp, c), c.Request)
		sa, sb := summary(a, port(ap, c)), summary(b, port(hp, c))
		same := "yes"
		if sa == sb && !sameBody(a, b, port(ap, c), port(hp, c)) {
			same = "status and headers; **bodies differ**"
		}
		if sa != sb {
			same, differ = "**no**", differ+1
			if *verbose {
				details = append(details, fmt.Sprintf("### %d %s\nApache:\n%s\n\nhttpdg:\n%s\n", i+1, c.Name, indent(a.Head, a), indent(b.Head, b)))
			}
		}
		rec := "ok"
		if !matchesRecord(c, a, port(ap, c)) {
			rec, stale = "**stale**", stale+1
		}
		if c.KnownGap != "" {
			rec += " (known gap)"
		}
		fmt.Printf("| %d | %s | %s | %s | %s | %s |\n", i+1, c.Name, sa, sb, same, rec)
		la, lb := alog.next(port(ap, c)), hlog.next(port(hp, c))
		if alog != nil && la != lb {
			logDiffer++
			logLines = append(logLines, fmt.Sprintf("%d %s\n  apache: %s\n  httpdg: %s", i+1, c.Name, la, lb))
		}
	}
	fmt.Printf("\n%d requests, %d answered differently, %d recorded answers no longer Apache's\n", len(parity.Cases), differ, stale)
	if alog != nil {
		fmt.Printf("access log (combined, time and port masked): %d lines differ\n", logDiffer)
		for _, l := range logLines {
			fmt.Println(l)
		}
	}
	for _, d := range details {
		fmt.Println()
		fmt.Print(d)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "apachediff:", err)
	os.Exit(2)
}

// ports parses "main,notrace".
func ports(s string) (parity.Ports, error) {
	a, b, ok := strings.Cut(s, ",")
	m, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return parity.Ports{}, fmt.Errorf("want two ports, main,notrace; got %q", s)
	}
	return parity.Ports{Main: m, NoTrace: n}, nil
}

// port is the port c goes to.
func port(p parity.Ports, c parity.Case) int {
	if c.NoTrace {
		return p.NoTrace
	}
	return p.Main
}

// summary renders an answer's status, key headers and body kind on one
// line, with the server's address masked, so two servers' summaries can be
// compared as strings.
func summary(a parity.Answer, port int) string {
	if a.Status == 0 && a.Err == nil {
		return "no head; body: " + parity.BodyKind(a)
	}
	if a.Status == 0 {
		return fmt.Sprintf("no response (%v)", a.Err)
	}
	key := parity.Key(a, port)
	parts := []string{strconv.Itoa(a.Status)}
	for _, k := range parity.KeyHeaders {
		if v, ok := key[k]; ok {
			parts = append(parts, k+": "+v)
		}
	}
	if kind := parity.BodyKind(a); kind != "" {
		parts = append(parts, "body: "+kind)
	}
	return strings.ReplaceAll(strings.Join(parts, "; "), "|", `\|`)
}

// sameBody compares two answers' bodies with each server's address and
// multipart boundary masked.
func sameBody(a, b parity.Answer, pa, pb int) bool {
	mask := func(x parity.Answer, port int) string {
		body := strings.ReplaceAll(string(x.Body), parity.Host(port), "{host}")
		if _, params, ok := strings.Cut(x.Header.Get("Content-Type"), "boundary="); ok {
			body = strings.ReplaceAll(body, params, "BOUNDARY")
		}
		return body
	}
	return mask(a, pa) == mask(b, pb)
}

// matchesRecord tells whether Apache's live answer is the one the table
// recorded for c.
func matchesRecord(c parity.Case, a parity.Answer, port int) bool {
	if a.Status != c.Status || (parity.BodyKind(a) == "apache-page") != c.Page {
		return false
	}
	key := parity.Key(a, port)
	if len(key) != len(c.Header) {
		return false
	}
	for k, v := range c.Header {
		if key[k] != v {
			return false
		}
	}
	return true
}

// row renders Apache's answer a to c, and its access-log line, as the
// expectation fields of a parity.Cases row, after a tab and c's name
// (scripts merge it in).
// Validators built from the fixture's MTime are written as etag(size) and
// lastMod, the names cases.go gives them.
func row(c parity.Case, a parity.Answer, port int, logLine string) string {
	key := parity.Key(a, port)
	var hdr []string
	for _, k := range parity.KeyHeaders {
		v, ok := key[k]
		if !ok {
			continue
		}
		val := quote(v)
		switch {
		case k == "ETag" && strings.HasPrefix(v, `"`) && strings.HasSuffix(v, parity.ETagSuffix):
			if n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(v, `"`), parity.ETagSuffix), 16, 64); err == nil {
				val = fmt.Sprintf("etag(%d)", n)
			}
		case k == "Last-Modified" && v == parity.LastModified:
			val = "lastMod"
		}
		hdr = append(hdr, strconv.Quote(k), val)
	}
	out := fmt.Sprintf("Status: %d", a.Status)
	if parity.BodyKind(a) == "apache-page" {
		out += ", Page: true"
	}
	if len(hdr) > 0 {
		out += ", Header: h(" + strings.Join(hdr, ", ") + ")"
	}
	if logLine != "" && logLine != "(no line)" {
		out += ", Log: " + quote(parity.MaskRequestLine(logLine, c.Request))
	}
	return c.Name + "\t" + out
}

// quote writes s as a Go string literal, with backquotes when it holds
// double quotes.
func quote(s string) string {
	if strings.Contains(s, `"`) && !strings.Contains(s, "`") {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

func indent(head string, a parity.Answer) string {
	out := "    " + strings.ReplaceAll(head, "\r\n", "\n    ")
	if a.Err != nil {
		out += fmt.Sprintf("\n    (error: %v)", a.Err)
	}
	if kind := parity.BodyKind(a); kind != "" {
		out += "\n    (body: " + kind + ")"
	}
	return out
}

// tail follows an access log: next returns the lines added since the
// previous call, with the time and the server's address masked.
type tail struct {
	file string
	seen int
}

func newTail(file string) *tail {
	if file == "" {
		return nil
	}
	return &tail{file: file}
}

var logTime = regexp.MustCompile(`\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]`)

// next waits briefly for the log line of the request just answered (the
// server writes it after the response), then returns what was added.
func (t *tail) next(port int) string {
	if t == nil {
		return ""
	}
	var b []byte
	for deadline := time.Now().Add(500 * time.Millisecond); ; {
		b, _ = os.ReadFile(t.file)
		if len(b) > t.seen && b[len(b)-1] == '\n' || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(b) <= t.seen {
		return "(no line)"
	}
	added := strings.TrimSuffix(string(b[t.seen:]), "\n")
	t.seen = len(b)
	added = logTime.ReplaceAllString(added, "[T]")
	return strings.ReplaceAll(strings.ReplaceAll(added, parity.Host(port), "{host}"), strconv.Itoa(port), "{port}")
}
