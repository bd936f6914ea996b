package mpm

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpdg/httpdg/mpm/http1"
	"github.com/httpdg/httpdg/phases"
)

// Replays (see phases.Replay): a child keeps, per generation, the outcome
// of requests for small unchanged files whose every handler is
// Replayable, and answers the same request again from it after one stat.
// The key is everything the replayable handlers may look at besides the
// config and the file: the listening address (and so TLS), the Host
// header, the method, the request target and the protocol.

const (
	// maxReplays bounds the entries a child keeps per generation.
	maxReplays = 4096
	// replayBytes bounds the bodies they hold (shared with the static
	// module's contents cache, which has the same bound, while both
	// keep a file); prefork's many processes hold less each.
	replayBytes         = 8 << 20
	replayBytesPrefork  = 1 << 20
	replayMaxBodyLength = 64 << 10
)

type replayKey struct {
	localIP               string
	localPort             int
	host, method, uri, pr string
}

// replayEntry is one answer to replay and its request line.
type replayEntry struct {
	*phases.Replay
	theRequest string
	head       *preparedHead // nil: built from the maps each time
	// check is the entry's standing with the cache's file watch.
	check fileCheck
}

// preparedHead is a replay's head rendered once (mpm/http1's
// WritePreparedHeader): its fields after Date, its Content-Length and
// whether it has a Content-Type.
type preparedHead struct {
	fields        []byte
	contentLength int64
	haveType      bool
}

// preparedHeaderWriter is mpm/http1's response.
type preparedHeaderWriter interface {
	WritePreparedHeader(code int, fields []byte, contentLength int64, haveType bool) bool
}

// prepareHead renders the head of r's 200 as WriteHeader would send it
// (without Date and the connection's fields), or returns nil when its
// fields are ones mpm/http1 frames itself.
func prepareHead(r *phases.Request, banner []string) *preparedHead {
	h := http.Header{}
	fillHeader(h, r, banner)
	for _, k := range []string{"Date", "Connection", "Keep-Alive", "Transfer-Encoding", "Trailer", "Content-Encoding"} {
		if _, ok := h[k]; ok {
			return nil
		}
	}
	ph := &preparedHead{contentLength: -1}
	if v := h["Content-Length"]; len(v) > 0 {
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil || n < 0 || len(v) > 1 {
			return nil
		}
		ph.contentLength = n
	}
	_, ph.haveType = h["Content-Type"]
	ph.fields = http1.AppendFields(nil, h)
	return ph
}

// replaySlot is a request's standing with the replays: whether it may be
// replayed or recorded, its key, and the entry to replay (found, and its
// file unchanged).
type replaySlot struct {
	eligible bool
	key      replayKey
	entry    *replayEntry
}

// replayCache maps request keys to the answers to replay.
type replayCache struct {
	mu      sync.RWMutex
	entries map[replayKey]*replayEntry
	bytes   int64
	limit   int64

	// changes tells when replayed files may have changed (nil: inotify
	// unavailable or not wanted, every replay stats its file). It is
	// made at the first replay, so that a child that replays nothing
	// holds no inotify instance (a user has 128 by default).
	changesOnce sync.Once
	changes     *fileChanges
	closed      atomic.Bool
}

// newReplayCache returns a cache holding limit bytes of bodies; watch
// says whether its replays may go without a stat (filechange.go).
func newReplayCache(limit int64, watch bool) *replayCache {
	c := &replayCache{entries: map[replayKey]*replayEntry{}, limit: limit}
	if !watch {
		c.closed.Store(true)
	}
	return c
}

// watch returns the file watch, made on first use (nil: none).
func (c *replayCache) watch() *fileChanges {
	c.changesOnce.Do(func() {
		if !c.closed.Load() {
			c.changes = newFileChanges()
		}
	})
	return c.changes
}

// close releases the file watch (the generation is over).
func (c *replayCache) close() {
	c.closed.Store(true)
	c.changesOnce.Do(func() {}) // none made from now on
	c.changes.close()
}

// unchanged tells whether p's file is still the one its answer was made
// from at now: without a stat while the file watch has seen no change
// since p was last checked, else by a stat (filechange.go).
func (c *replayCache) unchanged(p *replayEntry, now time.Time) bool {
	w := c.watch()
	if w != nil && w.valid(&p.check, now) {
		return true
	}
	return w.check(&p.check, p.Filename(), p.Unchanged, now)
}

func (c *replayCache) get(k replayKey) *replayEntry {
	c.mu.RLock()
	p := c.entries[k]
	c.mu.RUnlock()
	return p
}

// put keeps p under k; past the bounds the cache starts over (the
// requests that matter come back at once).
func (c *replayCache) put(k replayKey, p *replayEntry) {
	n := int64(len(p.Body))
	if n > replayMaxBodyLength || n > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[k]; old != nil {
		c.bytes -= int64(len(old.Body))
	}
	if len(c.entries) >= maxReplays || c.bytes+n > c.limit {
		clear(c.entries)
		c.bytes = 0
	}
	c.entries[k] = p
	c.bytes += n
}

// drop forgets k's entry if it is still p (its file changed).
func (c *replayCache) drop(k replayKey, p *replayEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[k] == p {
		delete(c.entries, k)
		c.bytes -= int64(len(p.Body))
	}
}

// replayHeaders are the request headers that change a static answer (the
// conditionals and ranges) or bring a body: a request with one is never
// replayed nor recorded.
var replayHeaders = []string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "Expect", "Content-Length", "Transfer-Encoding"}

// replayableRequest tells whether req may be answered from, or recorded
// as, a replay: an HTTP/1.x GET or HEAD without a body, conditionals or
// ranges.
func replayableRequest(req *http.Request) bool {
	if req.ProtoMajor != 1 || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody {
		return false
	}
	for _, h := range replayHeaders {
		if _, ok := req.Header[h]; ok {
			return false
		}
	}
	return true
}

func replayKeyOf(req *http.Request, conn *phases.Connection) replayKey {
	return replayKey{localIP: conn.LocalIP, localPort: conn.LocalPort, host: req.Host, method: req.Method, uri: req.RequestURI, pr: req.Proto}
}
