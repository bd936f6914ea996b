package static

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpdg/httpdg/phases"
)

// settledNow returns a "now" at which the file at path counts as settled,
// so the tests need not wait for its ctime to age.
func settledNow(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := phases.IdentityOf(fi)
	if !ok {
		t.Fatal("no stat data")
	}
	return time.Unix(0, id.Ctime).Add(cacheSettle + time.Millisecond)
}

func readBody(t *testing.T, c *fileCache, path string, now time.Time, useCache bool) (string, bool) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openBody(c, path, fi, now, useCache)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	if b.data == nil {
		buf := make([]byte, fi.Size())
		n, err := preadFull(b.fd, buf, 0)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n]), false
	}
	return string(b.data), true
}

func TestFileCacheServesSettledFilesAndSeesEveryChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(path, []byte("first version"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newFileCache(cacheMaxBytes)

	// A fresh file is read but not cached: its ctime tick may not be over.
	fi, _ := os.Stat(path)
	id, _ := phases.IdentityOf(fi)
	if got, _ := readBody(t, c, path, time.Unix(0, id.Ctime), true); got != "first version" {
		t.Fatalf("fresh read %q", got)
	}
	if _, ok := c.get(path, id); ok {
		t.Fatal("a file changed within cacheSettle was cached")
	}

	now := settledNow(t, path)
	if got, _ := readBody(t, c, path, now, true); got != "first version" {
		t.Fatalf("first read %q", got)
	}
	if _, ok := c.get(path, id); !ok {
		t.Fatal("settled small file not cached")
	}
	if got, cached := readBody(t, c, path, now, true); got != "first version" || !cached {
		t.Fatalf("second read %q cached=%v", got, cached)
	}

	// Same size, mtime put back: only ctime tells. The cache must miss.
	mtime := fi.ModTime()
	if err := os.WriteFile(path, []byte("other version"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if got, _ := readBody(t, c, path, settledNow(t, path), true); got != "other version" {
		t.Fatalf("after rewrite %q", got)
	}

	// Replaced by rename (a new inode): the new file, not the cached one.
	tmp := filepath.Join(dir, "new")
	if err := os.WriteFile(tmp, []byte("third version"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if got, _ := readBody(t, c, path, settledNow(t, path), true); got != "third version" {
		t.Fatalf("after rename %q", got)
	}

	// EnableMMAP Off: never from the cache.
	c = newFileCache(cacheMaxBytes)
	if got, cached := readBody(t, c, path, settledNow(t, path), false); got != "third version" || cached || len(c.files) != 0 {
		t.Fatalf("cache off %q cached=%v", got, cached)
	}
}

func TestFileCacheKeepsLargeFilesOutAndStaysWithinItsSize(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("b", cacheMaxFile+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newFileCache(cacheMaxBytes)
	if _, cached := readBody(t, c, big, settledNow(t, big), true); cached {
		t.Fatal("a file over cacheMaxFile was cached")
	}
	// Fill past the limit: the total stays within cacheMaxBytes.
	n := cacheMaxBytes/cacheMaxFile + 8
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, "f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Duration(i).String())
		if err := os.WriteFile(p, []byte(strings.Repeat("s", cacheMaxFile)), 0o644); err != nil {
			t.Fatal(err)
		}
		readBody(t, c, p, settledNow(t, p), true)
		if c.bytes > cacheMaxBytes {
			t.Fatalf("cache holds %d bytes after %d files, limit %d", c.bytes, i+1, cacheMaxBytes)
		}
	}
	total := int64(0)
	for _, f := range c.files {
		total += int64(len(f.data))
	}
	if total != c.bytes || len(c.files) == 0 {
		t.Fatalf("accounting: %d files, %d bytes counted, %d held", len(c.files), c.bytes, total)
	}
}

// TestFileCacheConcurrent: requests on many goroutines read and fill the
// cache at once (run with -race).
func TestFileCacheConcurrent(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 8; i++ {
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := os.WriteFile(p, []byte(strings.Repeat(string(rune('a'+i)), 1000+i)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	now := settledNow(t, paths[len(paths)-1])
	c := newFileCache(cacheMaxBytes)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				p := paths[(g+i)%len(paths)]
				fi, err := os.Stat(p)
				if err != nil {
					t.Error(err)
					return
				}
				b, err := openBody(c, p, fi, now, true)
				if err != nil {
					t.Error(err)
					return
				}
				if int64(len(b.data)) != fi.Size() {
					t.Errorf("%s: %d bytes, want %d", p, len(b.data), fi.Size())
				}
				b.close()
			}
		}()
	}
	wg.Wait()
	if len(c.files) != len(paths) {
		t.Fatalf("%d files cached, want %d", len(c.files), len(paths))
	}
}
