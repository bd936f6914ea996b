package scoreboard

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// childEnv switches the test binary into the child of TestChildProcess:
// it attaches the board inherited as fd 3 and writes slot childSlot.
const childEnv = "HTTPDG_SCOREBOARD_TEST_CHILD"

const childSlot, childThread = 1, 2

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild is the child process: what an MPM child does with the board.
func runChild() int {
	b, err := Attach(os.NewFile(3, "scoreboard"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer b.Close()
	w := b.Worker(childSlot, childThread)
	w.NewConnection()
	w.SetState(Reading)
	w.StartRequest("192.0.2.7", "child.example:80", "GET /from-child HTTP/1.1")
	w.SetState(Writing)
	w.EndRequest(1234)
	w.SetState(Keepalive)
	b.SetConns(childSlot, 5, 2, 1, 1)
	return 0
}

func mustCreate(t testing.TB, serverLimit, threadLimit int) *Board {
	t.Helper()
	b, err := Create(serverLimit, threadLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// attachCopy maps b a second time, as another process would, through a
// duplicate of its file descriptor (Attach takes ownership of the file).
func attachCopy(t testing.TB, b *Board) *Board {
	t.Helper()
	fd, err := unix.Dup(int(b.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := Attach(os.NewFile(uintptr(fd), "scoreboard-copy"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b2.Close() })
	return b2
}

func TestCreate(t *testing.T) {
	before := time.Now()
	b := mustCreate(t, 3, 4)
	if s, th := b.Limits(); s != 3 || th != 4 {
		t.Errorf("Limits = %d, %d", s, th)
	}
	g := b.Global()
	if g.StartTime.Before(before.Add(-time.Millisecond)) || g.StartTime.After(time.Now()) || !g.RestartTime.Equal(g.StartTime) {
		t.Errorf("StartTime %v RestartTime %v, created at %v", g.StartTime, g.RestartTime, before)
	}
	if !g.Extended || g.RequestTail || g.Generation != 0 || g.MPM != "" || g.MasterPid != os.Getpid() {
		t.Errorf("Global = %+v", g)
	}
	snap := b.Snapshot()
	if len(snap.Processes) != 3 || len(snap.Workers) != 3 {
		t.Fatalf("snapshot has %d processes, %d worker rows", len(snap.Processes), len(snap.Workers))
	}
	for i, row := range snap.Workers {
		if snap.Processes[i] != (ProcessInfo{}) {
			t.Errorf("process %d = %+v", i, snap.Processes[i])
		}
		if len(row) != 4 {
			t.Fatalf("row %d has %d workers", i, len(row))
		}
		for j, w := range row {
			if w != (WorkerInfo{State: Open}) {
				t.Errorf("worker %d/%d = %+v", i, j, w)
			}
		}
	}
	// The file is sealed: no process can shrink it under the others.
	if err := unix.Ftruncate(int(b.File().Fd()), 0); err == nil {
		t.Error("the scoreboard memfd could be truncated")
	}
}

func TestCreateLimits(t *testing.T) {
	for _, c := range [][2]int{{0, 1}, {1, 0}, {-1, 5}, {maxWorkers, 2}} {
		if b, err := Create(c[0], c[1]); err == nil {
			b.Close()
			t.Errorf("Create(%d, %d) succeeded", c[0], c[1])
		} else if !strings.HasPrefix(err.Error(), "scoreboard: ") {
			t.Errorf("error %q lacks context", err)
		}
	}
}

func TestAttachRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) *os.File {
		p := dir + "/" + name
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	if _, err := Attach(write("small", []byte("x"))); err == nil || !strings.Contains(err.Error(), "too small") {
		t.Errorf("small file: %v", err)
	}
	if _, err := Attach(write("zeros", make([]byte, 4096))); err == nil || !strings.Contains(err.Error(), "not a scoreboard") {
		t.Errorf("zero file: %v", err)
	}
	if _, err := Attach(nil); err == nil {
		t.Error("nil file attached")
	}
}

// TestTwoMappings: two mappings of one memfd (the master's and a child's)
// see each other's writes.
func TestTwoMappings(t *testing.T) {
	master := mustCreate(t, 2, 2)
	child := attachCopy(t, master)
	if s, th := child.Limits(); s != 2 || th != 2 {
		t.Fatalf("attached Limits = %d, %d", s, th)
	}

	restart := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	master.SetRestart(3, restart)
	master.SetMPM("worker")
	master.SetExtended(true)
	master.SetActive(2, 1)
	master.SetProcess(1, 4242, 3)
	if g := child.Global(); g.Generation != 3 || !g.RestartTime.Equal(restart) || g.MPM != "worker" || g.MaxServers != 2 || g.ThreadsPerChild != 1 {
		t.Errorf("child sees Global %+v", g)
	}
	if p := child.Process(1); p.Pid != 4242 || p.Generation != 3 || p.Quiescing {
		t.Errorf("child sees process %+v", p)
	}
	// SetActive(2, 1): one thread per child starts; the other stays Open.
	if st := child.Worker(1, 0).State(); st != Starting {
		t.Errorf("child sees state %c, want S", st)
	}
	if st := child.Worker(1, 1).State(); st != Open {
		t.Errorf("thread beyond ThreadsPerChild: state %c, want .", st)
	}

	w := child.Worker(1, 0)
	w.SetState(Idle)
	w.StartRequest("2001:db8::1", "www.example:443", "POST /form HTTP/2.0")
	w.EndRequest(10)
	child.SetConns(1, 3, 1, 1, 0)
	info := master.Worker(1, 0).Info()
	if info.State != Idle || info.Accesses != 1 || info.Bytes != 10 || info.Client != "2001:db8::1" ||
		info.Vhost != "www.example:443" || info.Request != "POST /form HTTP/2.0" || info.Generation != 3 {
		t.Errorf("master sees %+v", info)
	}
	if p := master.Process(1); p.ConnsTotal != 3 || p.ConnsKeepAlive != 1 || p.ConnsWriting != 1 || p.ConnsClosing != 0 {
		t.Errorf("master sees process %+v", p)
	}
	master.SetQuiescing(1)
	if !child.Process(1).Quiescing {
		t.Error("quiescing not seen")
	}
}

// TestChildProcess re-executes the test binary as a child that inherits
// the memfd, attaches it and serves a request on a slot the parent reads.
func TestChildProcess(t *testing.T) {
	b := mustCreate(t, 2, 4)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// GORACE: a -race binary otherwise sleeps a second before exiting.
	cmd.Env = append(os.Environ(), childEnv+"=1", "GORACE=atexit_sleep_ms=0")
	cmd.ExtraFiles = []*os.File{b.File()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	info := b.Worker(childSlot, childThread).Info()
	want := WorkerInfo{State: Keepalive, Accesses: 1, Bytes: 1234, ConnAccesses: 1, ConnBytes: 1234, ChildAccesses: 1, ChildBytes: 1234,
		Client: "192.0.2.7", Vhost: "child.example:80", Request: "GET /from-child HTTP/1.1"}
	got := info
	got.Duration, got.LastDuration, got.LastUsed, got.RequestStart = 0, 0, time.Time{}, time.Time{}
	if got != want {
		t.Errorf("child's slot:\n got %+v\nwant %+v", got, want)
	}
	if info.RequestStart.IsZero() || info.LastUsed.Before(info.RequestStart) || info.Duration != info.LastDuration || info.Duration < 0 {
		t.Errorf("times: start %v last used %v duration %v last %v", info.RequestStart, info.LastUsed, info.Duration, info.LastDuration)
	}
	if p := b.Process(childSlot); p.ConnsTotal != 5 || p.ConnsKeepAlive != 2 {
		t.Errorf("process = %+v", p)
	}
	// Nothing else was touched.
	if st := b.Worker(0, 0).State(); st != Open {
		t.Errorf("worker 0/0 = %c", st)
	}
}

// TestNoTornStrings races a writer (the worker's goroutine, through one
// mapping) with readers (server-status, through another): every copy a
// reader gets must come from one StartRequest.
func TestNoTornStrings(t *testing.T) {
	master := mustCreate(t, 1, 1)
	child := attachCopy(t, master)
	w := child.Worker(0, 0)
	r := master.Worker(0, 0)

	iterations := 20000
	if testing.Short() {
		iterations = 2000
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	errs := make(chan string, 3)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				info := r.Info()
				reads.Add(1)
				if msg := checkConsistent(info); msg != "" {
					select {
					case errs <- msg:
					default:
					}
					return
				}
			}
		}()
	}
	for i := 1; i <= iterations; i++ {
		// Lengths vary so a torn copy would mix a long and a short string.
		n := strconv.Itoa(i)
		pad := strings.Repeat("x", i%50)
		w.StartRequest("10.0."+n, "vhost-"+n+pad, "GET /"+n+"/"+pad+" HTTP/1.1")
		w.EndRequest(int64(i))
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if info := r.Info(); info.Accesses != uint64(iterations) || info.Bytes != uint64(iterations*(iterations+1)/2) {
		t.Errorf("after %d requests: %d accesses, %d bytes", iterations, info.Accesses, info.Bytes)
	}
	t.Logf("%d consistent reads", reads.Load())
}

// checkConsistent reports a copy whose fields come from different
// StartRequest/EndRequest pairs.
func checkConsistent(info WorkerInfo) string {
	if info.Client == "" && info.Accesses == 0 {
		return ""
	}
	n := strings.TrimPrefix(info.Client, "10.0.")
	i, err := strconv.Atoi(n)
	if err != nil {
		return fmt.Sprintf("torn client %q", info.Client)
	}
	pad := strings.Repeat("x", i%50)
	wantVhost, wantReq := "vhost-"+n+pad, "GET /"+n+"/"+pad+" HTTP/1.1"
	if len(wantReq) > RequestLen {
		wantReq = wantReq[:RequestLen]
	}
	if info.Vhost != wantVhost || info.Request != wantReq {
		return fmt.Sprintf("torn copy: client %q vhost %q request %q", info.Client, info.Vhost, info.Request)
	}
	// StartRequest(i) follows EndRequest(i-1): i-1 or i accesses.
	if info.Accesses != uint64(i-1) && info.Accesses != uint64(i) {
		return fmt.Sprintf("request %d with %d accesses", i, info.Accesses)
	}
	if a := info.Accesses; info.Bytes != a*(a+1)/2 {
		return fmt.Sprintf("%d accesses with %d bytes", a, info.Bytes)
	}
	return ""
}

func TestCounters(t *testing.T) {
	b := mustCreate(t, 1, 1)
	w := b.Worker(0, 0)
	w.NewConnection()
	for _, n := range []int64{100, 200, -5} {
		w.StartRequest("c", "v", "r")
		time.Sleep(time.Millisecond)
		w.EndRequest(n)
	}
	info := w.Info()
	if info.Accesses != 3 || info.ConnAccesses != 3 || info.ChildAccesses != 3 || info.Bytes != 300 || info.ConnBytes != 300 || info.ChildBytes != 300 {
		t.Errorf("after 3 requests: %+v", info)
	}
	if info.LastDuration < time.Millisecond || info.Duration < 3*time.Millisecond || info.Duration < info.LastDuration {
		t.Errorf("durations: total %v last %v", info.Duration, info.LastDuration)
	}
	w.NewConnection()
	w.StartRequest("c", "v", "r")
	w.EndRequest(7)
	info = w.Info()
	if info.ConnAccesses != 1 || info.ConnBytes != 7 || info.Accesses != 4 || info.Bytes != 307 {
		t.Errorf("after a new connection: %+v", info)
	}
}

func TestStrings(t *testing.T) {
	b := mustCreate(t, 1, 1)
	w := b.Worker(0, 0)
	long := "GET /" + strings.Repeat("a", 100) + "/end HTTP/1.1"
	w.StartRequest(strings.Repeat("c", 100), strings.Repeat("v", 100), long)
	info := w.Info()
	if len(info.Client) != ClientLen || len(info.Vhost) != VhostLen || info.Request != long[:RequestLen] {
		t.Errorf("cut strings: %q %q %q", info.Client, info.Vhost, info.Request)
	}

	b.SetRequestTail(true)
	w.StartRequest("c", "v", long)
	if got := w.Info().Request; got != long[len(long)-RequestLen:] || !strings.HasSuffix(got, "/end HTTP/1.1") {
		t.Errorf("SeeRequestTail: %q", got)
	}
	w.StartRequest("c", "v", "GET / HTTP/1.1") // short lines are whole either way
	if got := w.Info().Request; got != "GET / HTTP/1.1" {
		t.Errorf("short request with tail: %q", got)
	}

	b.SetExtended(false)
	w.StartRequest("192.0.2.1", "secret.example", "GET /private HTTP/1.1")
	w.EndRequest(5)
	info = w.Info()
	if info.Client != "" || info.Vhost != "" || info.Request != "" {
		t.Errorf("ExtendedStatus Off recorded %q %q %q", info.Client, info.Vhost, info.Request)
	}
	if info.Accesses != 1 || info.Bytes != 5 {
		t.Errorf("ExtendedStatus Off still counts: %+v", info)
	}
}

func TestClearProcess(t *testing.T) {
	b := mustCreate(t, 2, 2)
	b.SetProcess(0, 100, 1)
	b.SetProcess(1, 101, 1)
	for th := 0; th < 2; th++ {
		w := b.Worker(0, th)
		w.SetState(Writing)
		w.NewConnection()
		w.StartRequest("c", "v", "GET /x HTTP/1.1")
		w.EndRequest(50)
	}
	b.SetConns(0, 4, 1, 1, 1)
	b.SetQuiescing(0)
	b.ClearProcess(0)

	if p := b.Process(0); p != (ProcessInfo{Generation: 1}) {
		t.Errorf("cleared process = %+v", p)
	}
	for th := 0; th < 2; th++ {
		info := b.Worker(0, th).Info()
		if info.State != Open || info.ChildAccesses != 0 || info.ChildBytes != 0 || info.ConnAccesses != 0 || info.ConnBytes != 0 {
			t.Errorf("cleared worker %d = %+v", th, info)
		}
		// The slot's totals survive its process, as Apache's do.
		if info.Accesses != 1 || info.Bytes != 50 || info.Request != "GET /x HTTP/1.1" {
			t.Errorf("cleared worker %d lost its totals: %+v", th, info)
		}
	}
	if p := b.Process(1); p.Pid != 101 {
		t.Errorf("other process touched: %+v", p)
	}
	if st := b.Worker(1, 0).State(); st != Starting {
		t.Errorf("other worker touched: %c", st)
	}

	// A new process in the slot starts from Starting with fresh
	// per-process counters.
	b.SetProcess(0, 200, 2)
	info := b.Worker(0, 1).Info()
	if info.State != Starting || info.Generation != 2 || info.ChildAccesses != 0 || info.Accesses != 1 {
		t.Errorf("reused slot: %+v", info)
	}
	if p := b.Process(0); p.Pid != 200 || p.Generation != 2 || p.Quiescing || p.ConnsTotal != 0 {
		t.Errorf("reused process = %+v", p)
	}
}

// TestSetProcessAfterChild: a child may mark its workers before the master
// records its pid; SetProcess must not turn them back into Starting.
func TestSetProcessAfterChild(t *testing.T) {
	b := mustCreate(t, 1, 3)
	b.Worker(0, 0).SetState(Idle)
	b.Worker(0, 1).SetState(Reading)
	b.SetProcess(0, 300, 1)
	for th, want := range []State{Idle, Reading, Starting} {
		if st := b.Worker(0, th).State(); st != want {
			t.Errorf("worker %d = %c, want %c", th, st, want)
		}
	}
}

// TestDeadWriter: a child killed inside a seqlock section leaves the
// counter odd; readers must not hang, and ClearProcess repairs it.
func TestDeadWriter(t *testing.T) {
	b := mustCreate(t, 1, 1)
	b.patience = 50 * time.Millisecond
	w := b.Worker(0, 0)
	w.StartRequest("c", "v", "GET / HTTP/1.1")
	atomic.AddUint64(&w.slot.seq, 1) // a writer that never finished
	done := make(chan WorkerInfo)
	go func() { done <- w.Info() }()
	select {
	case info := <-done:
		if info.Request != "GET / HTTP/1.1" {
			t.Errorf("best-effort read = %+v", info)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Info hangs on an odd sequence counter")
	}
	b.ClearProcess(0)
	if seq := atomic.LoadUint64(&w.slot.seq); seq&1 != 0 {
		t.Errorf("ClearProcess left the counter odd (%d)", seq)
	}
}

func TestNilAndOutOfRange(t *testing.T) {
	var nb *Board
	var nw *Worker
	nw.SetState(Writing)
	nw.StartRequest("a", "b", "c")
	nw.EndRequest(1)
	nw.NewConnection()
	if nw.State() != Open || nw.Info().State != Open {
		t.Error("nil worker is not Open")
	}
	if nb.Worker(0, 0) != nil || nb.Snapshot().Processes != nil || nb.Close() != nil || nb.File() != nil {
		t.Error("nil board")
	}
	if s, th := nb.Limits(); s != 0 || th != 0 {
		t.Error("nil board limits")
	}
	nb.SetProcess(0, 1, 1)
	nb.SetRestart(1, time.Now())
	_ = nb.Global()

	b := mustCreate(t, 2, 2)
	for _, c := range [][2]int{{-1, 0}, {2, 0}, {0, 2}, {0, -1}} {
		if b.Worker(c[0], c[1]) != nil {
			t.Errorf("Worker(%d, %d) is not nil", c[0], c[1])
		}
	}
	b.SetProcess(5, 1, 1) // ignored
	b.SetConns(-1, 1, 1, 1, 1)
	b.ClearProcess(9)
	if p := b.Process(7); p != (ProcessInfo{}) {
		t.Errorf("Process(7) = %+v", p)
	}
	if err := b.Close(); err != nil {
		t.Error(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStateString(t *testing.T) {
	if Graceful.String() != "G" || Open.String() != "." {
		t.Error(Graceful.String(), Open.String())
	}
}

func BenchmarkSetState(b *testing.B) {
	board := mustCreate(b, 1, 1)
	w := board.Worker(0, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i&1 == 0 {
			w.SetState(Reading)
		} else {
			w.SetState(Writing)
		}
	}
}

func BenchmarkStartEndRequest(b *testing.B) {
	board := mustCreate(b, 1, 1)
	w := board.Worker(0, 0)
	b.ReportAllocs()
	for b.Loop() {
		w.StartRequest("203.0.113.9", "www.example.com:443", "GET /index.html?query=1 HTTP/1.1")
		w.EndRequest(4096)
	}
}

func BenchmarkInfo(b *testing.B) {
	board := mustCreate(b, 1, 1)
	w := board.Worker(0, 0)
	w.StartRequest("203.0.113.9", "www.example.com:443", "GET /index.html HTTP/1.1")
	b.ReportAllocs()
	for b.Loop() {
		_ = w.Info()
	}
}

func TestAcceptingBefore(t *testing.T) {
	b := mustCreate(t, 4, 2)
	b.SetProcess(0, 100, 7)
	b.SetProcess(1, 101, 7)
	b.SetProcess(2, 102, 6) // an older generation
	b.SetProcess(3, 103, 7)
	if n := b.AcceptingBefore(3, 7); n != 0 {
		t.Fatalf("none says it accepts: %d", n)
	}
	for _, s := range []int{0, 1, 2} {
		b.SetAccepting(s, true)
	}
	if n := b.AcceptingBefore(3, 7); n != 2 {
		t.Fatalf("slots 0 and 1 of generation 7 accept: %d, want 2", n)
	}
	if n := b.AcceptingBefore(1, 7); n != 1 {
		t.Fatalf("before slot 1: %d, want 1", n)
	}
	b.SetQuiescing(0)
	if n := b.AcceptingBefore(3, 7); n != 1 {
		t.Fatalf("a quiescing process still counted: %d", n)
	}
	b.SetAccepting(1, false)
	if n := b.AcceptingBefore(3, 7); n != 0 {
		t.Fatalf("a full process still counted: %d", n)
	}
	b.SetAccepting(1, true)
	b.ClearProcess(1)
	if n := b.AcceptingBefore(3, 7); n != 0 {
		t.Fatalf("a dead process still counted: %d", n)
	}
}
