package static

import (
	"errors"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/httpdg/httpdg/phases"
	"golang.org/x/sys/unix"
)

// The contents cache keeps small files in memory so that serving one costs
// the stat every request makes anyway and no open, read or close: on a
// 4 KB file those three system calls are a fifth of the request's time.
//
// An entry is used only while the file's device, inode, size, mtime and
// ctime are those it was read with. Any write, truncation, chmod or rename
// over the name changes one of them, and ctime cannot be set back by a
// user, so a hit is the file as it is now. A file whose ctime is less than
// cacheSettle old is not cached: file systems keep ctime in coarse ticks, and
// a write landing in the same tick as our read would leave the old bytes
// under an unchanged identity.
const (
	cacheMaxFile  = copyBufSize // larger files go out through sendfile
	cacheMaxBytes = 8 << 20     // per process of a threaded MPM
	// prefork runs a process per connection, often a hundred or more:
	// each keeps a smaller cache.
	cacheMaxBytesPrefork = 1 << 20
	cacheSettle          = 2 * time.Second
)

type cachedFile struct {
	id   phases.FileIdentity
	data []byte
	// The validators serveFile would compute, fixed once the file's mtime
	// is over a second old ("" otherwise: computed per request).
	etag, lastModified string
}

// fileCache maps file names to their cached contents.
type fileCache struct {
	mu    sync.RWMutex
	files map[string]*cachedFile
	bytes int64
	limit int64 // bytes held at most
}

func newFileCache(limit int64) *fileCache {
	return &fileCache{files: map[string]*cachedFile{}, limit: limit}
}

// get returns name's entry if it is cached for identity id.
func (c *fileCache) get(name string, id phases.FileIdentity) (*cachedFile, bool) {
	c.mu.RLock()
	f := c.files[name]
	c.mu.RUnlock()
	if f == nil || f.id != id {
		return nil, false
	}
	return f, true
}

// put caches data as name's contents for identity id, dropping other
// entries while the cache would be over its size.
func (c *fileCache) put(name string, f *cachedFile) {
	data := f.data
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.files[name]; old != nil {
		c.bytes -= int64(len(old.data))
		delete(c.files, name)
	}
	for other, f := range c.files { // map order: a random victim each time
		if c.bytes+int64(len(data)) <= c.limit {
			break
		}
		c.bytes -= int64(len(f.data))
		delete(c.files, other)
	}
	c.files[name] = f
	c.bytes += int64(len(data))
}

// cacheable reports whether a file of identity id may be cached at now.
func cacheable(id phases.FileIdentity, now time.Time) bool {
	return id.Size <= cacheMaxFile && now.UnixNano()-id.Ctime >= int64(cacheSettle)
}

// fileBody is what a response's bytes are read from: a cached copy, or an
// open descriptor.
type fileBody struct {
	data []byte // the whole file when cached or just read
	fd   int    // open when data is nil; -1 otherwise
	name string
	file *os.File // fd as an os.File, made for sendfile
	// The cached validators, when the cache has them.
	etag, lastModified string
}

// errFileReplaced: the file changed between the stat and its open or
// read; the handler stats it again.
var errFileReplaced = errors.New("file replaced since its stat")

// openBody returns the body of regular file name with identity id: from
// the cache when it holds it, else read into the cache when the file is
// small and settled, else an open descriptor. useCache false (EnableMMAP
// Off) always opens.
func openBody(c *fileCache, name string, fi os.FileInfo, now time.Time, useCache bool) (fileBody, error) {
	id, known := phases.IdentityOf(fi)
	useCache = useCache && known && c != nil
	if useCache {
		if f, ok := c.get(name, id); ok {
			return fileBody{data: f.data, fd: -1, name: name, etag: f.etag, lastModified: f.lastModified}, nil
		}
	}
	// O_CLOEXEC and no os.File: os.Open would also try (and fail) to put a
	// regular file in the network poller, an fcntl and an epoll_ctl each.
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fileBody{}, &os.PathError{Op: "open", Path: name, Err: err}
	}
	if known {
		// The name may have been renamed over since the stat the
		// headers come from: then this is another file, and its bytes
		// would not match them.
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || uint64(st.Dev) != id.Dev || st.Ino != id.Ino {
			unix.Close(fd)
			return fileBody{}, errFileReplaced
		}
	}
	if !useCache || !cacheable(id, now) {
		return fileBody{fd: fd, name: name}, nil
	}
	data := make([]byte, id.Size)
	n, err := preadFull(fd, data, 0)
	unix.Close(fd)
	if err != nil {
		return fileBody{}, &os.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(n) != id.Size {
		// Truncated in place since the stat: the headers would not
		// match the bytes.
		return fileBody{}, errFileReplaced
	}
	f := &cachedFile{id: id, data: data}
	if mtime := fi.ModTime(); now.Sub(mtime) > time.Second {
		// Neither weak (ETag) nor clamped to now (Last-Modified) any
		// more, whatever the request time: fixed for the entry's life.
		f.etag = ETag(id.Size, mtime, now)
		f.lastModified = mtime.UTC().Format(http.TimeFormat)
	}
	c.put(name, f)
	return fileBody{data: data, fd: -1, name: name}, nil
}

// osFile returns the descriptor as an os.File (which then owns it), the
// form net's sendfile path recognises.
func (b *fileBody) osFile() *os.File {
	if b.file == nil {
		b.file = os.NewFile(uintptr(b.fd), b.name)
	}
	return b.file
}

// close releases the descriptor, if any.
func (b *fileBody) close() {
	switch {
	case b.file != nil:
		b.file.Close()
	case b.fd >= 0:
		unix.Close(b.fd)
	}
	b.fd, b.file = -1, nil
}

// preadFull reads into p from offset off until p is full or the file
// ends, and returns the bytes read.
func preadFull(fd int, p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		n, err := unix.Pread(fd, p[total:], off+int64(total))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, nil
}
