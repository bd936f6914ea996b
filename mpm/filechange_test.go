package mpm

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// statCheck is a replay's stat check for name as it is now, counting the
// stats it makes.
type statCheck struct {
	name  string
	ino   uint64
	size  int64
	mtime int64
	ctime int64
	stats int
}

func newStatCheck(t *testing.T, name string) *statCheck {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(name, &st); err != nil {
		t.Fatal(err)
	}
	return &statCheck{name: name, ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}
}

func (s *statCheck) unchanged() bool {
	s.stats++
	var st syscall.Stat_t
	if err := syscall.Stat(s.name, &st); err != nil {
		return false
	}
	return st.Ino == s.ino && st.Size == s.size && st.Mtim.Nano() == s.mtime && st.Ctim.Nano() == s.ctime
}

// armed returns a watch with name's replay armed, failing if arming
// never takes (a replay with no stat is what is being tested). Arming
// fails while any watched directory changes — "/tmp" does all the time
// when tests run in parallel — so it is tried until it takes.
func armed(t *testing.T, name string) (*fileChanges, *fileCheck, *statCheck) {
	t.Helper()
	c := newFileChanges()
	if c == nil {
		t.Skip("inotify unavailable here")
	}
	t.Cleanup(c.close)
	if !localFileSystem(filepath.Dir(name)) {
		t.Skipf("%s is not on a local file system", name)
	}
	s := newStatCheck(t, name)
	deadline := time.Now().Add(10 * time.Second)
	for {
		fc := &fileCheck{}
		now := time.Now()
		if !c.check(fc, name, s.unchanged, now) {
			t.Fatalf("%s: check says changed right after its stat", name)
		}
		if c.valid(fc, now) {
			return c, fc, s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never armed in 10s", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeFile(t *testing.T, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArmedReplayNeedsNoStat(t *testing.T) {
	name := filepath.Join(t.TempDir(), "htdocs", "index.html")
	writeFile(t, name, "one")
	// A change anywhere on the path (other tests in /tmp) rightly ends a
	// run of stat-free requests: try a few runs.
	var c *fileChanges
	var fc *fileCheck
	var s *statCheck
	for attempt := 0; ; attempt++ {
		c, fc, s = armed(t, name)
		stats, served := s.stats, 0
		now := time.Now()
		for served < 100 && c.valid(fc, now) {
			served++
		}
		if s.stats != stats {
			t.Fatalf("%d stats for %d armed requests, want none", s.stats-stats, served)
		}
		if served == 100 {
			break
		}
		if attempt == 20 {
			t.Fatalf("never 100 requests in a row without a stat (last run: %d)", served)
		}
	}
	// Past fileCheckInterval the file is stat'ed again, for what inotify
	// cannot see (writes through a shared mapping, mounts).
	later := time.Now().Add(fileCheckInterval + time.Millisecond)
	if c.valid(fc, later) {
		t.Fatal("armed replay still valid without a stat after fileCheckInterval")
	}
	stats := s.stats
	if !c.check(fc, name, s.unchanged, later) || s.stats != stats+1 {
		t.Fatalf("the interval's check: %d stats, want 1", s.stats-stats)
	}
	// A change elsewhere in the directory after that long sends the
	// replay to a stat, which arms it again.
	for attempt := 0; ; attempt++ {
		writeFile(t, filepath.Join(filepath.Dir(name), "other"), "x")
		later := time.Now().Add(3*fileCheckInterval + time.Duration(attempt)*armRetryInterval)
		if !c.check(fc, name, s.unchanged, later) {
			t.Fatal("the file changed?")
		}
		if c.valid(fc, later) {
			break
		}
		if attempt == 20 {
			t.Fatal("not armed again after a change in its directory")
		}
	}
}

// Every change that alters what a stat of the name returns invalidates
// the armed replay before the next request, with no wait: the change is
// made, then valid is asked, as a client would change a file and then ask
// for it.
func TestArmedReplayInvalidatedByEveryChange(t *testing.T) {
	type tree struct{ root, name string }
	plain := func(t *testing.T) tree {
		root := t.TempDir()
		name := filepath.Join(root, "htdocs", "f.html")
		writeFile(t, name, "v1")
		return tree{root, name}
	}
	// root/current -> releases/1 (relative), the name through it.
	symlinked := func(t *testing.T) tree {
		root := t.TempDir()
		writeFile(t, filepath.Join(root, "releases", "1", "htdocs", "f.html"), "v1")
		if err := os.Symlink("releases/1", filepath.Join(root, "current")); err != nil {
			t.Fatal(err)
		}
		return tree{root, filepath.Join(root, "current", "htdocs", "f.html")}
	}
	// htdocs/f.html has a second name in a directory never watched.
	linked := func(t *testing.T) tree {
		tr := plain(t)
		other := filepath.Join(tr.root, "elsewhere", "link")
		if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(tr.name, other); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		what   string
		setup  func(*testing.T) tree
		change func(*testing.T, tree)
	}{
		{"written in place", plain, func(t *testing.T, tr tree) {
			f, err := os.OpenFile(tr.name, os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			_, err = f.WriteString("more")
			must(t, err)
			must(t, f.Close())
		}},
		{"truncated", plain, func(t *testing.T, tr tree) { must(t, os.Truncate(tr.name, 0)) }},
		{"chmod", plain, func(t *testing.T, tr tree) { must(t, os.Chmod(tr.name, 0o600)) }},
		{"touched", plain, func(t *testing.T, tr tree) {
			must(t, os.Chtimes(tr.name, time.Now(), time.Now().Add(time.Hour)))
		}},
		{"replaced by rename", plain, func(t *testing.T, tr tree) {
			writeFile(t, tr.name+".new", "v2")
			must(t, os.Rename(tr.name+".new", tr.name))
		}},
		{"removed", plain, func(t *testing.T, tr tree) { must(t, os.Remove(tr.name)) }},
		{"written through another link", linked, func(t *testing.T, tr tree) {
			f, err := os.OpenFile(filepath.Join(tr.root, "elsewhere", "link"), os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			_, err = f.WriteString("x")
			must(t, err)
			must(t, f.Close())
		}},
		{"parent directory swapped", plain, func(t *testing.T, tr tree) {
			writeFile(t, filepath.Join(tr.root, "htdocs.new", "f.html"), "v2")
			must(t, os.Rename(filepath.Join(tr.root, "htdocs"), filepath.Join(tr.root, "htdocs.old")))
			must(t, os.Rename(filepath.Join(tr.root, "htdocs.new"), filepath.Join(tr.root, "htdocs")))
		}},
		{"parent directory chmod", plain, func(t *testing.T, tr tree) {
			must(t, os.Chmod(filepath.Dir(tr.name), 0o700))
		}},
		{"symlinked release switched", symlinked, func(t *testing.T, tr tree) {
			writeFile(t, filepath.Join(tr.root, "releases", "2", "htdocs", "f.html"), "v2")
			must(t, os.Symlink("releases/2", filepath.Join(tr.root, "current.new")))
			must(t, os.Rename(filepath.Join(tr.root, "current.new"), filepath.Join(tr.root, "current")))
		}},
		{"symlink target's directory renamed", symlinked, func(t *testing.T, tr tree) {
			must(t, os.Rename(filepath.Join(tr.root, "releases"), filepath.Join(tr.root, "old")))
		}},
		{"file inside the symlinked release written", symlinked, func(t *testing.T, tr tree) {
			must(t, os.WriteFile(filepath.Join(tr.root, "releases", "1", "htdocs", "f.html"), []byte("v2!"), 0o644))
		}},
	}
	// The file's stat stays the same (what a server not running as root
	// may open does not).
	sameStat := map[string]bool{"parent directory chmod": true}
	for _, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			tr := tc.setup(t)
			c, fc, s := armed(t, tr.name)
			tc.change(t, tr)
			now := time.Now()
			if c.valid(fc, now) {
				t.Fatal("armed replay still valid after the change")
			}
			if !sameStat[tc.what] && c.check(fc, tr.name, s.unchanged, now) {
				t.Fatal("the stat check finds the file unchanged: the change was not one")
			}
		})
	}
}

func TestReplayOnForeignFileSystemKeepsStats(t *testing.T) {
	c := newFileChanges()
	if c == nil {
		t.Skip("inotify unavailable here")
	}
	defer c.close()
	// /proc is not a file system whose changes inotify reports.
	name := "/proc/self/status"
	fc := &fileCheck{}
	stats := 0
	for i := 0; i < 3; i++ {
		c.check(fc, name, func() bool { stats++; return true }, time.Now())
		if c.valid(fc, time.Now()) {
			t.Fatal("a replay of a /proc file was armed")
		}
	}
	if stats != 3 {
		t.Fatalf("%d stats for 3 checks, want 3", stats)
	}
}

func TestClosedWatchFallsBackToStats(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	writeFile(t, name, "x")
	c, fc, s := armed(t, name)
	c.close()
	if c.valid(fc, time.Now()) {
		t.Fatal("valid without a stat after the watch closed")
	}
	before := s.stats
	if !c.check(fc, name, s.unchanged, time.Now()) || s.stats != before+1 {
		t.Fatal("a closed watch does not fall back to a stat")
	}
}

func TestWatchRestartsPastItsBound(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	writeFile(t, name, "x")
	c, fc, _ := armed(t, name)
	c.mu.Lock()
	for i := int32(0); len(c.watches) < maxFileWatches; i++ {
		c.watches[-1-i] = true // pretend
	}
	c.mu.Unlock()
	other := filepath.Join(filepath.Dir(name), "g")
	writeFile(t, other, "y")
	// Writing g was an event anyway; the restart must also leave f's
	// replay unarmed.
	s2 := newStatCheck(t, other)
	if !c.check(&fileCheck{}, other, s2.unchanged, time.Now()) {
		t.Fatal("g changed?")
	}
	c.mu.Lock()
	n := len(c.watches)
	c.mu.Unlock()
	if n >= maxFileWatches {
		t.Fatalf("%d watches after the bound, want a fresh instance", n)
	}
	if c.valid(fc, time.Now()) {
		t.Fatal("a replay armed on the old instance is still valid")
	}
}

func TestPreforkReplaysTakeNoInotifyInstance(t *testing.T) {
	for _, mpmName := range []string{"prefork", "event"} {
		g := newGeneration(&phases.Server{Config: &config.Config{MPM: mpmName}}, nil, nil)
		w := g.replays.watch()
		if mpmName == "prefork" && w != nil {
			t.Fatal("a prefork child took an inotify instance")
		}
		if mpmName == "event" && w == nil {
			if c := newFileChanges(); c != nil {
				c.close()
				t.Fatal("an event child took no inotify instance")
			}
		}
		g.replays.close()
	}
}
