package systemd

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// childEnv switches the test binary into activatedChild: the process
// socket activation is tested in.
const childEnv = "HTTPDG_SYSTEMD_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(activatedChild())
	}
	os.Exit(m.Run())
}

// childReport is what activatedChild prints for the test to check.
type childReport struct {
	Error    string
	Names    []string
	Keys     []string
	CloExec  []bool
	EnvLeft  []string // LISTEN_* variables still set after Listeners
	Accepted bool     // the first socket accepted a connection
}

// activatedChild runs as a socket-activated service would: Listeners
// first, then it reports what it got on stdout.
func activatedChild() int {
	var r childReport
	files, err := Listeners()
	if err != nil {
		r.Error = err.Error()
	}
	for _, name := range []string{ListenPIDEnv, ListenFDsEnv, ListenFDNamesEnv} {
		if _, ok := os.LookupEnv(name); ok {
			r.EnvLeft = append(r.EnvLeft, name)
		}
	}
	for _, f := range files {
		r.Names = append(r.Names, f.Name())
		key, err := ListenerKey(f)
		if err != nil {
			key = "error: " + err.Error()
		}
		r.Keys = append(r.Keys, key)
		flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
		r.CloExec = append(r.CloExec, err == nil && flags&unix.FD_CLOEXEC != 0)
	}
	if len(files) > 0 {
		// The passed socket is usable as a listener: accept one
		// connection, which the parent makes once it has the report.
		if ln, err := net.FileListener(files[0]); err == nil {
			b, _ := json.Marshal(r)
			fmt.Printf("%s\n", b)
			if c, err := ln.Accept(); err == nil {
				c.Write([]byte("accepted\n"))
				c.Close()
			}
			return 0
		}
	}
	b, _ := json.Marshal(r)
	fmt.Printf("%s\n", b)
	return 0
}

// runActivated starts the test binary as activatedChild with files at fd
// 3 on and LISTEN_FDS/LISTEN_FDNAMES set. LISTEN_PID must be the child's
// own pid, unknown before it starts, so the child is started through a
// shell that sets it to its own pid ($$) and then execs (keeping the pid).
func runActivated(t *testing.T, files []*os.File, names string) (*exec.Cmd, *json.Decoder) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh to set LISTEN_PID with")
	}
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, os.Args[0], "-test.run=^$")
	env := []string{childEnv + "=1", ListenFDsEnv + "=" + strconv.Itoa(len(files))}
	if names != "" {
		env = append(env, ListenFDNamesEnv+"="+names)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LISTEN_") && !strings.HasPrefix(kv, NotifySocketEnv+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.ExtraFiles = files
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The child exits by itself; Kill only matters if a check failed
		// before the connection that ends it was made.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, json.NewDecoder(out)
}

func listenFile(t *testing.T, network, addr string) (net.Listener, *os.File) {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s %s here: %v", network, addr, err)
	}
	t.Cleanup(func() { l.Close() })
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return l, f
}

func TestSocketActivation(t *testing.T) {
	l4, f4 := listenFile(t, "tcp4", "127.0.0.1:0")
	// The second socket is IPv6 where the machine has it.
	network2, addr2 := "tcp6", "[::1]:0"
	if probe, err := net.Listen(network2, addr2); err != nil {
		network2, addr2 = "tcp4", "127.0.0.1:0"
	} else {
		probe.Close()
	}
	l2, f2 := listenFile(t, network2, addr2)

	_, dec := runActivated(t, []*os.File{f4, f2}, "http:admin")
	var r childReport
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("reading the child's report: %v", err)
	}
	if r.Error != "" {
		t.Fatalf("Listeners in the child: %s", r.Error)
	}
	if fmt.Sprint(r.Names) != "[http admin]" {
		t.Errorf("names %v, want [http admin]", r.Names)
	}
	if want := []string{l4.Addr().String(), l2.Addr().String()}; fmt.Sprint(r.Keys) != fmt.Sprint(want) {
		t.Errorf("keys %v, want %v", r.Keys, want)
	}
	if fmt.Sprint(r.CloExec) != "[true true]" {
		t.Errorf("close-on-exec %v, want both set", r.CloExec)
	}
	if len(r.EnvLeft) != 0 {
		t.Errorf("still in the environment after Listeners: %v", r.EnvLeft)
	}
	// The child accepts on the socket it was given.
	c, err := net.DialTimeout("tcp", l4.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	if got := string(buf[:n]); got != "accepted\n" {
		t.Fatalf("the child answered %q on the passed socket", got)
	}
}

func TestSocketActivationWithoutNames(t *testing.T) {
	_, f := listenFile(t, "tcp4", "127.0.0.1:0")
	// Two names for one fd: they cannot be matched, so none is used.
	_, dec := runActivated(t, []*os.File{f}, "a:b")
	var r childReport
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Error != "" || fmt.Sprint(r.Names) != "[LISTEN_FD_3]" {
		t.Fatalf("got %+v, want one socket named LISTEN_FD_3", r)
	}
}

func TestSocketActivationRejectsNonSocket(t *testing.T) {
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, dec := runActivated(t, []*os.File{f}, "")
	var r childReport
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Error, "fd 3 of LISTEN_FDS=1 is not a socket") {
		t.Fatalf("got %+v, want the non-socket refused", r)
	}
	if len(r.EnvLeft) != 0 {
		t.Errorf("still in the environment after a failed Listeners: %v", r.EnvLeft)
	}
}

func TestListenersNotForUs(t *testing.T) {
	// Inherited from a parent that was activated: LISTEN_PID names
	// another process, so nothing is taken (fd 3 is not even looked at),
	// and the variables are gone afterwards.
	t.Setenv(ListenPIDEnv, strconv.Itoa(os.Getppid()))
	t.Setenv(ListenFDsEnv, "2")
	t.Setenv(ListenFDNamesEnv, "a:b")
	files, err := Listeners()
	if err != nil || files != nil {
		t.Fatalf("got %v, %v; want nothing", files, err)
	}
	for _, name := range []string{ListenPIDEnv, ListenFDsEnv, ListenFDNamesEnv} {
		if v, ok := os.LookupEnv(name); ok {
			t.Errorf("%s=%q left in the environment", name, v)
		}
	}
}

func TestListenersUnsetOrBad(t *testing.T) {
	t.Setenv(ListenPIDEnv, "")
	os.Unsetenv(ListenPIDEnv)
	if files, err := Listeners(); err != nil || files != nil {
		t.Fatalf("without LISTEN_PID: %v, %v", files, err)
	}
	t.Setenv(ListenPIDEnv, strconv.Itoa(os.Getpid()))
	t.Setenv(ListenFDsEnv, "many")
	if _, err := Listeners(); err == nil || !strings.Contains(err.Error(), `LISTEN_FDS="many" is not a count`) {
		t.Fatalf("bad LISTEN_FDS: %v", err)
	}
	t.Setenv(ListenPIDEnv, "me")
	t.Setenv(ListenFDsEnv, "1")
	if _, err := Listeners(); err == nil || !strings.Contains(err.Error(), "is not a pid") {
		t.Fatalf("bad LISTEN_PID: %v", err)
	}
}

func TestListenerKey(t *testing.T) {
	cases := []struct{ network, addr, wantHost string }{
		{"tcp4", "127.0.0.1:0", "127.0.0.1"},
		{"tcp4", "0.0.0.0:0", "0.0.0.0"},
		{"tcp6", "[::1]:0", "[::1]"},
		{"tcp6", "[::]:0", "[::]"},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			l, f := listenFile(t, c.network, c.addr)
			key, err := ListenerKey(f)
			if err != nil {
				t.Fatal(err)
			}
			want := c.wantHost + ":" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			if key != want {
				t.Fatalf("key %q, want %q", key, want)
			}
		})
	}
}

func TestListenerKeyRefusesOtherSockets(t *testing.T) {
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "s"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	uf, err := ul.File()
	if err != nil {
		t.Fatal(err)
	}
	defer uf.Close()

	tl, _ := listenFile(t, "tcp4", "127.0.0.1:0")
	conn, err := net.Dial("tcp4", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cf, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()

	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pf, err := pc.(*net.UDPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()

	for name, f := range map[string]*os.File{"unix listener": uf, "connected tcp": cf, "udp": pf} {
		if key, err := ListenerKey(f); err == nil {
			t.Errorf("%s: got key %q, want an error", name, key)
		}
	}
}

// fakeNotifySocket listens where systemd would and returns the address
// to put in NOTIFY_SOCKET and the socket to read messages from.
func fakeNotifySocket(t *testing.T, addr string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv(NotifySocketEnv, addr)
	return c
}

func receive(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, _, err := c.ReadFromUnix(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotify(t *testing.T) {
	for name, addr := range map[string]string{
		"path":     filepath.Join(t.TempDir(), "notify"),
		"abstract": fmt.Sprintf("@httpdg-test-notify-%d-%d", os.Getpid(), time.Now().UnixNano()),
	} {
		t.Run(name, func(t *testing.T) {
			srv := fakeNotifySocket(t, addr)
			sent, err := Notify(Ready + "\n" + Status("serving\ngeneration 1"))
			if err != nil || !sent {
				t.Fatalf("Notify: %v, %v", sent, err)
			}
			if got := receive(t, srv); got != "READY=1\nSTATUS=serving generation 1" {
				t.Fatalf("systemd got %q", got)
			}
		})
	}
}

func TestNotifyWithoutSystemd(t *testing.T) {
	t.Setenv(NotifySocketEnv, "")
	if sent, err := Notify(Ready); sent || err != nil {
		t.Fatalf("got %v, %v; want false, nil", sent, err)
	}
}

func TestNotifyErrors(t *testing.T) {
	t.Setenv(NotifySocketEnv, "vsock:2:1234")
	if _, err := Notify(Ready); err == nil {
		t.Error("vsock address accepted")
	}
	t.Setenv(NotifySocketEnv, filepath.Join(t.TempDir(), "absent"))
	if sent, err := Notify(Ready); err == nil || sent {
		t.Errorf("missing socket: %v, %v", sent, err)
	}
}

func TestReloading(t *testing.T) {
	now := func() int64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			t.Fatal(err)
		}
		return ts.Sec*1_000_000 + ts.Nsec/1_000
	}
	before := now()
	state := Reloading()
	after := now()
	usec, ok := strings.CutPrefix(state, "RELOADING=1\nMONOTONIC_USEC=")
	if !ok {
		t.Fatalf("state %q", state)
	}
	v, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || v < before || v > after {
		t.Fatalf("MONOTONIC_USEC=%s, want between %d and %d", usec, before, after)
	}
}

func TestStateHelpers(t *testing.T) {
	if got := MainPID(42); got != "MAINPID=42" {
		t.Errorf("MainPID: %q", got)
	}
	if got := Status("a\r\nb"); got != "STATUS=a b" {
		t.Errorf("Status: %q", got)
	}
}
