package shdict

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv runs the test binary as a helper process (see TestMain): the
// dict is its descriptor 3, the value names what to do.
const helperEnv = "HTTPDG_SHDICT_HELPER"

func TestMain(m *testing.M) {
	if what := os.Getenv(helperEnv); what != "" {
		os.Exit(helper(what))
	}
	os.Exit(m.Run())
}

// helper is a helper process's life: "incr:N" increments "counter" N times
// while churning values of its own, "die-locked" takes the lock, marks the
// dict dirty, tears an entry and exits without unlocking.
func helper(what string) int {
	d, err := Attach("t", os.NewFile(3, "dict"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	switch {
	case strings.HasPrefix(what, "incr:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(what, "incr:"))
		zero := 0.0
		for i := 0; i < n; i++ {
			if _, _, err := d.Incr("counter", 1, &zero, 0); err != nil {
				fmt.Fprintln(os.Stderr, "incr:", err)
				return 1
			}
			// Churn: stores of varied sizes make the dict compact while
			// the other processes increment.
			k := fmt.Sprintf("churn-%d-%d", os.Getpid(), i%50)
			if err := d.SafeSet(k, String(strings.Repeat("x", i%300)), 0); err != nil && !errors.Is(err, ErrNoMemory) {
				fmt.Fprintln(os.Stderr, "set:", err)
				return 1
			}
			if i%3 == 0 {
				d.Delete(k)
			}
		}
		return 0
	case what == "die-locked":
		fd := int(d.lock.Fd())
		if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
			return 1
		}
		d.put(hDirty, uint64(os.Getpid()))
		_, eo, found := d.find("torn", hash("torn"))
		if !found {
			return 3
		}
		copy(d.mem[eo+entryHdr+4:], "GARBAGE") // a value half written
		os.Stdout.WriteString("locked\n")
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return 2
}

func startHelper(t *testing.T, d *Dict, what string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+what)
	cmd.ExtraFiles = []*os.File{d.File()}
	cmd.Stderr = os.Stderr
	return cmd
}

// clock is a settable clock for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newDict(t *testing.T, size int64) (*Dict, *clock) {
	t.Helper()
	d, err := Create("t", size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	d.SetClock(c.now)
	return d, c
}

func mustGet(t *testing.T, d *Dict, key string) (Value, bool) {
	t.Helper()
	v, ok, err := d.Get(key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v, ok
}

func wantValue(t *testing.T, d *Dict, key string, want Value) {
	t.Helper()
	v, ok := mustGet(t, d, key)
	if !ok || v != want {
		t.Fatalf("Get(%q) = %+v, %v; want %+v", key, v, ok, want)
	}
}

func wantAbsent(t *testing.T, d *Dict, key string) {
	t.Helper()
	if v, ok := mustGet(t, d, key); ok {
		t.Fatalf("Get(%q) = %+v, want absent", key, v)
	}
}

func TestSetGetDelete(t *testing.T) {
	d, _ := newDict(t, 64<<10)
	for _, c := range []struct {
		k string
		v Value
	}{{"s", String("hello")}, {"empty", String("")}, {"n", Number(-2.5)}, {"t", Bool(true)}, {"f", Bool(false)}} {
		if _, err := d.Set(c.k, c.v, 0); err != nil {
			t.Fatal(err)
		}
		wantValue(t, d, c.k, c.v)
	}
	// Shorter in place, longer appended: both read back.
	d.Set("s", String("hi"), 0)
	wantValue(t, d, "s", String("hi"))
	long := strings.Repeat("y", 1000)
	d.Set("s", String(long), 0)
	wantValue(t, d, "s", String(long))
	d.Set("s", Number(7), 0)
	wantValue(t, d, "s", Number(7))
	if err := d.Delete("s"); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, d, "s")
	if err := d.Delete("never"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Get(""); err != ErrEmptyKey {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := d.Set(strings.Repeat("k", MaxKeyLen+1), Bool(true), 0); err != ErrKeyLen {
		t.Fatalf("long key: %v", err)
	}
	st, _ := d.Stats()
	if st.Live != 4 {
		t.Fatalf("live %d, want 4", st.Live)
	}
}

func TestAddReplace(t *testing.T) {
	d, c := newDict(t, 64<<10)
	if _, err := d.Add("k", String("a"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Add("k", String("b"), 0); err != ErrExists {
		t.Fatalf("second add: %v", err)
	}
	if err := d.SafeAdd("k", String("b"), 0); err != ErrExists {
		t.Fatalf("safe add: %v", err)
	}
	wantValue(t, d, "k", String("a"))
	if _, err := d.Replace("missing", String("x"), 0); err != ErrNotFound {
		t.Fatalf("replace missing: %v", err)
	}
	wantAbsent(t, d, "missing")
	if _, err := d.Replace("k", String("c"), 0); err != nil {
		t.Fatal(err)
	}
	wantValue(t, d, "k", String("c"))
	// An expired key counts as absent.
	d.Set("e", String("old"), time.Second)
	c.advance(time.Second)
	if _, err := d.Add("e", String("new"), 0); err != nil {
		t.Fatalf("add over an expired key: %v", err)
	}
	wantValue(t, d, "e", String("new"))
}

func TestIncr(t *testing.T) {
	d, c := newDict(t, 64<<10)
	if _, _, err := d.Incr("n", 1, nil, 0); err != ErrNotFound {
		t.Fatalf("incr missing: %v", err)
	}
	init := 10.0
	if v, _, err := d.Incr("n", 2, &init, 0); err != nil || v != 12 {
		t.Fatalf("incr with init: %v %v", v, err)
	}
	if v, _, err := d.Incr("n", -0.5, &init, 0); err != nil || v != 11.5 {
		t.Fatalf("incr existing: %v %v", v, err)
	}
	d.Set("s", String("1"), 0)
	if _, _, err := d.Incr("s", 1, &init, 0); err != ErrNotNumber {
		t.Fatalf("incr a string: %v", err)
	}
	// init_ttl applies to a key incr creates; the key keeps it across incrs.
	if _, _, err := d.Incr("t", 1, &init, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Second)
	d.Incr("t", 1, nil, 0)
	wantValue(t, d, "t", Number(12))
	c.advance(time.Second)
	if _, _, err := d.Incr("t", 1, nil, 0); err != ErrNotFound {
		t.Fatalf("incr expired: %v", err)
	}
}

func TestTTL(t *testing.T) {
	d, c := newDict(t, 64<<10)
	d.Set("a", String("x"), 1500*time.Millisecond)
	d.Set("forever", String("y"), 0)
	if left, err := d.TTL("a"); err != nil || left != 1500*time.Millisecond {
		t.Fatalf("ttl: %v %v", left, err)
	}
	if left, err := d.TTL("forever"); err != nil || left != 0 {
		t.Fatalf("ttl of a key without one: %v %v", left, err)
	}
	c.advance(time.Second)
	wantValue(t, d, "a", String("x"))
	c.advance(500 * time.Millisecond)
	wantAbsent(t, d, "a")
	if _, err := d.TTL("a"); err != ErrNotFound {
		t.Fatalf("ttl of an expired key: %v", err)
	}
	if err := d.Expire("forever", time.Second); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Second)
	wantAbsent(t, d, "forever")
	if err := d.Expire("forever", time.Second); err != ErrNotFound {
		t.Fatalf("expire of an expired key: %v", err)
	}
	if _, err := d.Set("neg", String("x"), -time.Second); err != ErrBadTTL {
		t.Fatalf("negative ttl: %v", err)
	}
}

func TestKeysFlush(t *testing.T) {
	d, c := newDict(t, 256<<10)
	for i := 0; i < 1500; i++ {
		ttl := time.Duration(0)
		if i%2 == 1 {
			ttl = time.Second
		}
		d.Set(fmt.Sprintf("k%04d", i), Number(float64(i)), ttl)
	}
	keys, _ := d.Keys(DefaultMaxKeys)
	if len(keys) != 1024 || keys[0] != "k0000" || keys[1] != "k0001" {
		t.Fatalf("%d keys, first %v", len(keys), keys[:2])
	}
	if all, _ := d.Keys(0); len(all) != 1500 {
		t.Fatalf("Keys(0): %d", len(all))
	}
	c.advance(time.Second)
	if all, _ := d.Keys(0); len(all) != 750 || all[1] != "k0002" {
		t.Fatalf("after expiry %d keys", len(all))
	}
	if n, _ := d.FlushExpired(100); n != 100 {
		t.Fatalf("FlushExpired(100) = %d", n)
	}
	if n, _ := d.FlushExpired(0); n != 650 {
		t.Fatalf("FlushExpired(0) = %d", n)
	}
	if st, _ := d.Stats(); st.Live != 750 {
		t.Fatalf("live %d", st.Live)
	}
	if err := d.FlushAll(); err != nil {
		t.Fatal(err)
	}
	if all, _ := d.Keys(0); len(all) != 0 {
		t.Fatalf("after FlushAll: %v", all)
	}
	if free, _ := d.FreeSpace(); free != d.Capacity() {
		t.Fatalf("free %d of %d after FlushAll", free, d.Capacity())
	}
}

func TestEvictionAndNoMemory(t *testing.T) {
	d, c := newDict(t, MinSize)
	val := String(strings.Repeat("v", 100))
	// Fill with SafeSet until it says no memory.
	n := 0
	for ; ; n++ {
		err := d.SafeSet(fmt.Sprintf("k%d", n), val, 0)
		if err == ErrNoMemory {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 20 {
		t.Fatalf("only %d values of 100 bytes fit in %d bytes", n, MinSize)
	}
	// k0 is used now, so it is the most recently used; k1 the least.
	wantValue(t, d, "k0", val)
	forcible, err := d.Set("new", val, 0)
	if err != nil || !forcible {
		t.Fatalf("Set on a full dict: forcible %v, %v", forcible, err)
	}
	wantValue(t, d, "new", val)
	wantValue(t, d, "k0", val)
	wantAbsent(t, d, "k1")
	wantValue(t, d, fmt.Sprintf("k%d", n-1), val)
	// A value bigger than the whole dict never fits.
	if _, err := d.Set("huge", String(strings.Repeat("h", MinSize)), 0); err != ErrNoMemory {
		t.Fatalf("huge value: %v", err)
	}
	// Expired entries are reclaimed before anything is evicted.
	d.FlushAll()
	for i := 0; ; i++ {
		if err := d.SafeSet(fmt.Sprintf("e%d", i), val, time.Second); err == ErrNoMemory {
			break
		}
	}
	c.advance(time.Second)
	if err := d.SafeSet("after", val, 0); err != nil {
		t.Fatalf("SafeSet after everything expired: %v", err)
	}
}

func TestManySmallKeysFillTheIndex(t *testing.T) {
	d, _ := newDict(t, 64<<10)
	// 1-byte values: the index (3/4 of size/64 slots) fills before the
	// arena; Set evicts, SafeSet says no memory.
	var i int
	for ; ; i++ {
		if err := d.SafeSet(strconv.Itoa(i), Bool(true), 0); err != nil {
			if err != ErrNoMemory {
				t.Fatal(err)
			}
			break
		}
	}
	if max := int(d.slots * 3 / 4); i != max-1 && i != max {
		t.Fatalf("%d keys fit, index holds %d", i, max)
	}
	for j := 0; j < 3*i; j++ {
		if _, err := d.Set("more"+strconv.Itoa(j), Bool(true), 0); err != nil {
			t.Fatal(err)
		}
	}
	wantValue(t, d, "more"+strconv.Itoa(3*i-1), Bool(true))
}

func TestConcurrentGoroutines(t *testing.T) {
	d, _ := newDict(t, 64<<10)
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	zero := 0.0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, _, err := d.Incr("c", 1, &zero, 0); err != nil {
					t.Error(err)
					return
				}
				d.Set(fmt.Sprintf("w%d", w), String(strings.Repeat("z", i%200)), 0)
			}
		}()
	}
	wg.Wait()
	wantValue(t, d, "c", Number(workers*each))
}

// Several processes (and goroutines of this one) increment one key: the
// total is exact.
func TestConcurrentProcesses(t *testing.T) {
	d, _ := newDict(t, 256<<10)
	const procs, each = 4, 3000
	var cmds []*exec.Cmd
	for i := 0; i < procs; i++ {
		cmd := startHelper(t, d, fmt.Sprintf("incr:%d", each))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	var wg sync.WaitGroup
	zero := 0.0
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				d.Incr("counter", 1, &zero, 0)
			}
		}()
	}
	wg.Wait()
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	wantValue(t, d, "counter", Number((procs+2)*each))
}

// A process killed while it holds the lock mid-write leaves neither a
// locked dict nor a damaged one: the next operation rebuilds it, dropping
// only the torn entry.
func TestWriterDiesMidWrite(t *testing.T) {
	d, _ := newDict(t, 64<<10)
	var repairs []string
	d.SetRepairLog(func(msg string) { repairs = append(repairs, msg) })
	for i := 0; i < 50; i++ {
		d.Set(fmt.Sprintf("k%d", i), Number(float64(i)), 0)
	}
	d.Set("torn", String("a value that will be torn"), 0)
	cmd := startHelper(t, d, "die-locked")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("helper said %q, %v", buf, err)
	}
	cmd.Wait()
	done := make(chan struct{})
	go func() {
		defer close(done)
		wantAbsent(t, d, "torn")
		for i := 0; i < 50; i++ {
			wantValue(t, d, fmt.Sprintf("k%d", i), Number(float64(i)))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the dict is still locked 10s after its holder died")
	}
	if len(repairs) != 1 || !strings.Contains(repairs[0], "died while changing it") || !strings.Contains(repairs[0], "50 keys kept") {
		t.Fatalf("repairs: %q", repairs)
	}
	if st, _ := d.Stats(); st.Repairs != 1 || st.Live != 50 {
		t.Fatalf("stats %+v", st)
	}
}

// A compaction cut short (entries half slid down) is rebuilt with every
// entry that is still whole somewhere.
func TestRepairAfterTornCompaction(t *testing.T) {
	d, _ := newDict(t, 64<<10)
	for i := 0; i < 40; i++ {
		d.Set(fmt.Sprintf("k%02d", i), String(strings.Repeat(strconv.Itoa(i%10), 10+i)), 0)
	}
	for i := 0; i < 40; i += 2 {
		d.Delete(fmt.Sprintf("k%02d", i))
	}
	// Slide the first few live entries down as compact does, then stop
	// halfway through copying one, as a killed process would.
	d.mu.Lock()
	d.put(hDirty, 12345)
	used := d.get(hUsed)
	var w uint64
	moved := 0
	for r := uint64(0); r < used && moved < 6; {
		eo := d.arenaOff + r
		total := uint64(d.get32(eo + eTotal))
		if d.mem[eo+eLive] == 1 {
			n := total
			if moved == 5 {
				n = total / 2
			}
			copy(d.mem[d.arenaOff+w:], d.mem[eo:eo+n])
			w += total
			moved++
		}
		r += total
	}
	d.mu.Unlock()
	for i := 1; i < 40; i += 2 {
		wantValue(t, d, fmt.Sprintf("k%02d", i), String(strings.Repeat(strconv.Itoa(i%10), 10+i)))
	}
	for i := 0; i < 40; i += 2 {
		wantAbsent(t, d, fmt.Sprintf("k%02d", i))
	}
	if st, _ := d.Stats(); st.Live != 20 || st.Repairs != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAttachChecksTheSegment(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "notadict")
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MinSize)
	if _, err := Attach("x", f); err == nil || !strings.Contains(err.Error(), "holds no dict") {
		t.Fatalf("Attach of a file of zeros: %v", err)
	}
	d, _ := newDict(t, 64<<10)
	d.Set("k", String("v"), 0)
	a, err := Attach("t", d.File())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	wantValue(t, a, "k", String("v"))
	a.Close()
	if _, _, err := a.Get("k"); err != ErrClosed {
		t.Fatalf("Get on a closed dict: %v", err)
	}
	wantValue(t, d, "k", String("v"))
}

// A new dict takes memory as keys come, not its index's quarter at once.
func TestCreateTouchesOnlyTheHeader(t *testing.T) {
	d, _ := newDict(t, 64<<20)
	var st unix.Stat_t
	if err := unix.Fstat(int(d.File().Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if used := st.Blocks * 512; used > 1<<20 {
		t.Fatalf("a fresh 64M dict holds %d bytes of memory", used)
	}
	d.Set("k", String("v"), 0)
	wantValue(t, d, "k", String("v"))
}

// An entry too long for its 32-bit length is refused, not truncated.
func TestMakeRoomRefusesOver4G(t *testing.T) {
	d, _ := newDict(t, 64<<10)
	d.arenaLen = 1 << 33 // as in a dict over 8G, without the memory
	if _, err := d.makeRoom(1<<32+8, true); err != ErrNoMemory {
		t.Fatalf("makeRoom(4G+8): %v", err)
	}
}

// A read that finds the segment damaged leaves it marked, so that the
// next operation rebuilds it from the arena rather than failing again.
func TestDamagedIndexFoundByAReadIsRepaired(t *testing.T) {
	d, _ := newDict(t, 64<<10)
	d.Set("k", String("v"), 0)
	slot, _, found := d.find("k", hash("k"))
	if !found {
		t.Fatal("k not indexed")
	}
	d.put(d.slotOff(slot)+8, uint64(len(d.mem))+1<<20) // an entry offset past the end
	if _, _, err := d.Get("k"); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Get through a damaged slot: %v", err)
	}
	wantValue(t, d, "k", String("v"))
	if st, _ := d.Stats(); st.Repairs != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// An entry length no entry can have stops a walk with "damaged" (and a
// rebuild) instead of looping for ever under the lock.
func TestZeroLengthEntryStopsTheWalk(t *testing.T) {
	d, _ := newDict(t, 64<<10)
	d.Set("a", String("1"), 0)
	d.Set("b", String("2"), 0)
	d.put32(d.arenaOff+eTotal, 0) // the first entry's length
	done := make(chan error, 1)
	go func() { _, err := d.Keys(0); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("Keys over a zero-length entry: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Keys still walking after 10s: a zero-length entry loops")
	}
	wantValue(t, d, "b", String("2")) // rebuilt: the sound entry is kept
}
