package static

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/httpdg/httpdg/modules/core"
	"github.com/httpdg/httpdg/phases"
)

// Apache's defaults for MaxRanges, MaxRangeOverlaps and MaxRangeReversals:
// past them the whole file is sent.
const (
	maxRanges    = 200
	maxOverlaps  = 20
	maxReversals = 20
)

// copyBufSize is the size of the pooled buffers files are copied through;
// a file this small goes out in one write.
const copyBufSize = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// ETag is Apache 2.4's entity tag for the default "FileETag MTime Size":
// the size and the modification time in microseconds, in lower-case hex.
// A file modified less than a second before now gets a weak tag, as in
// Apache (it may change again within the same second).
func ETag(size int64, mtime, now time.Time) string {
	var b [48]byte
	out := b[:0]
	if now.Sub(mtime) <= time.Second {
		out = append(out, "W/"...)
	}
	out = append(out, '"')
	out = strconv.AppendUint(out, uint64(size), 16)
	out = append(out, '-')
	out = strconv.AppendUint(out, uint64(mtime.UnixMicro()), 16)
	out = append(out, '"')
	return string(out)
}

// serveFile answers GET, HEAD or POST for the regular file r.Filename.
func (m *module) serveFile(r *phases.Request, fi os.FileInfo, now time.Time) (phases.Status, error) {
	mmap, sendfile := fileSettings(r)
	b, err := openBody(m.cache, r.Filename, fi, now, mmap)
	if err == errFileReplaced {
		return phases.DECLINED, err
	}
	if err != nil {
		logf(r, "error", "file permissions deny server access: %s", r.Filename)
		return http.StatusForbidden, nil
	}
	defer b.close()
	size := fi.Size()
	mtime := fi.ModTime()
	lastMod := mtime // Last-Modified is never later than the request
	if lastMod.After(now) {
		lastMod = now
	}
	etag, lastModified := b.etag, b.lastModified
	if etag == "" {
		etag = ETag(size, mtime, now)
		lastModified = lastMod.UTC().Format(http.TimeFormat)
	}
	h := r.HeadersOut
	h["Last-Modified"] = []string{lastModified}
	h["Etag"] = []string{etag}
	h["Accept-Ranges"] = []string{"bytes"}

	switch conditions(r, etag, lastMod.Unix(), now.Unix()) {
	case http.StatusNotModified:
		// Apache's 304 keeps the validators only.
		r.ContentType = ""
		r.Output.WriteHeader(http.StatusNotModified)
		return phases.OK, nil
	case http.StatusPreconditionFailed:
		// The default handler sets the status and sends an empty body:
		// no error page, the headers it had set stay.
		h["Content-Length"] = []string{"0"}
		r.Output.WriteHeader(http.StatusPreconditionFailed)
		return phases.OK, nil
	}

	ranges, rst := byteRanges(r, etag, mtime, size)
	switch rst {
	case http.StatusRequestedRangeNotSatisfiable:
		clearHeaders(r)
		// No "Content-Range: bytes */size", which RFC 9110 §15.5.17
		// suggests: Apache 2.4's byterange filter answers 416 through
		// its error page without one, and clients tuned to Apache see
		// the same here.
		return http.StatusRequestedRangeNotSatisfiable, nil
	case http.StatusPartialContent:
		if len(ranges) == 1 {
			rg := ranges[0]
			h["Content-Length"] = []string{strconv.FormatInt(rg.length(), 10)}
			h["Content-Range"] = []string{rg.contentRange(size)}
			if st, took := perlbalHook(r, hookStartSendFile); took {
				return st, nil
			}
			r.Output.WriteHeader(http.StatusPartialContent)
			if r.Method == http.MethodHead {
				return phases.OK, nil
			}
			return phases.OK, sendRange(r, &b, rg.start, rg.length(), sendfile)
		}
		return sendMultipart(r, &b, ranges, size, sendfile)
	}

	h["Content-Length"] = []string{strconv.FormatInt(size, 10)}
	noSniff(r)
	if st, took := perlbalHook(r, hookStartSendFile); took {
		return st, nil
	}
	r.Output.WriteHeader(http.StatusOK)
	// From the contents cache, with validators fixed for the entry's life,
	// the answer is the same for every such request while the file keeps
	// its identity: the engine may replay it.
	cached := b.etag != "" && int64(len(b.data)) == size
	if r.Method == http.MethodHead || size == 0 {
		if cached {
			r.OfferReplay(nil)
		}
		return phases.OK, nil
	}
	if cached {
		r.OfferReplay(b.data)
	}
	return phases.OK, sendRange(r, &b, 0, size, sendfile)
}

// clearHeaders drops what serveFile set before an error answer (Apache
// clears headers_out for its error pages).
func clearHeaders(r *phases.Request) {
	for _, k := range []string{"Last-Modified", "Etag", "Accept-Ranges", "Content-Length"} {
		delete(r.HeadersOut, k)
	}
}

// noSniff keeps net/http from guessing a Content-Type for a file mod_mime
// gave none (Apache sends no Content-Type then).
func noSniff(r *phases.Request) {
	if r.ContentType == "" {
		if _, ok := r.HeadersOut["Content-Type"]; !ok {
			r.HeadersOut["Content-Type"] = nil
		}
	}
}

// sendRange copies n bytes of b from offset start to the client: in one
// write from a cached copy; through the writer's ReadFrom (sendfile) when
// it has one, sendfile is allowed and the range is large; else through a
// pooled buffer (one write for a small file).
func sendRange(r *phases.Request, b *fileBody, start, n int64, sendfile bool) error {
	if b.data != nil {
		if start+n > int64(len(b.data)) {
			return io.ErrUnexpectedEOF // the file shrank between stat and read
		}
		_, err := r.Output.Write(b.data[start : start+n])
		return err
	}
	if rf, ok := r.Output.(io.ReaderFrom); ok && sendfile && n > copyBufSize {
		f := b.osFile()
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return err
		}
		_, err := rf.ReadFrom(io.LimitReader(f, n))
		return err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for n > 0 {
		chunk := buf
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		m, err := preadFull(b.fd, chunk, start)
		if m > 0 {
			if _, werr := r.Output.Write(chunk[:m]); werr != nil {
				return werr
			}
			start += int64(m)
			n -= int64(m)
		}
		if err != nil {
			return err
		}
		if m < len(chunk) {
			return io.ErrUnexpectedEOF // the file shrank while being sent
		}
	}
	return nil
}

// sendMultipart answers several ranges as multipart/byteranges, laid out
// exactly as Apache's byterange filter does.
func sendMultipart(r *phases.Request, b *fileBody, ranges []byteRange, size int64, sendfile bool) (phases.Status, error) {
	boundary := fmt.Sprintf("%016x", rand.Uint64())
	ct := r.ContentType
	heads := make([]string, len(ranges))
	total := int64(0)
	for i, rg := range ranges {
		var b strings.Builder
		b.WriteString("\r\n--" + boundary + "\r\n")
		if ct != "" {
			b.WriteString("Content-type: " + ct + "\r\n")
		}
		b.WriteString("Content-range: " + rg.contentRange(size) + "\r\n\r\n")
		heads[i] = b.String()
		total += int64(len(heads[i])) + rg.length()
	}
	tail := "\r\n--" + boundary + "--\r\n"
	total += int64(len(tail))
	r.ContentType = "multipart/byteranges; boundary=" + boundary
	r.HeadersOut["Content-Length"] = []string{strconv.FormatInt(total, 10)}
	r.Output.WriteHeader(http.StatusPartialContent)
	if r.Method == http.MethodHead {
		return phases.OK, nil
	}
	for i, rg := range ranges {
		if _, err := io.WriteString(r.Output, heads[i]); err != nil {
			return phases.OK, err
		}
		if err := sendRange(r, b, rg.start, rg.length(), sendfile); err != nil {
			return phases.OK, err
		}
	}
	_, err := io.WriteString(r.Output, tail)
	return phases.OK, err
}

// conditions is Apache 2.4's ap_meets_conditions for a file with strong
// or weak etag and the given Last-Modified and request times (seconds). It
// returns 0 (go on), 304 or 412. Where it differs from net/http:
// If-Unmodified-Since is checked even when If-Match matched; a 304 needs
// every validator given to agree (If-None-Match matching but
// If-Modified-Since older than the file gives 200); an If-Modified-Since
// later than the request time does not count; If-Range with Range never
// gives 304; the 412 of If-Match/If-Unmodified-Since come first.
func conditions(r *phases.Request, etag string, mtime, reqtime int64) int {
	hdr := r.HeadersIn
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	if v, ok := header(hdr, "If-Match"); ok {
		if !strings.HasPrefix(strings.TrimSpace(v), "*") && !findETag(v, etag, true) {
			return http.StatusPreconditionFailed
		}
	}
	if v, ok := header(hdr, "If-Unmodified-Since"); ok {
		if t, err := http.ParseTime(v); err == nil && mtime > t.Unix() {
			return http.StatusPreconditionFailed
		}
	}
	notModified := -1
	if v, ok := header(hdr, "If-None-Match"); ok {
		if strings.HasPrefix(strings.TrimSpace(v), "*") || findETag(v, etag, !get) {
			if !get {
				return http.StatusPreconditionFailed
			}
			if notModified != 0 {
				notModified = 1
			}
		} else {
			notModified = 0
		}
	}
	if v, ok := header(hdr, "If-Modified-Since"); ok {
		ims := int64(0)
		if t, err := http.ParseTime(v); err == nil {
			ims = t.Unix()
		}
		if ims >= mtime && ims <= reqtime {
			if get && notModified != 0 {
				notModified = 1
			}
		} else {
			notModified = 0
		}
	}
	if _, ok := header(hdr, "If-Range"); ok {
		if _, ok := header(hdr, "Range"); ok {
			return 0
		}
	}
	if notModified == 1 {
		return http.StatusNotModified
	}
	return 0
}

// header returns the first value of a request header and whether it was
// sent.
func header(h http.Header, name string) (string, bool) {
	v, ok := h[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return strings.Join(v, ", "), true
}

// findETag reports whether the entity-tag list holds etag: strong
// comparison (neither weak) or weak (opaque parts equal).
func findETag(list, etag string, strong bool) bool {
	if strong && strings.HasPrefix(etag, "W/") {
		return false
	}
	opaque := strings.TrimPrefix(etag, "W/")
	for _, item := range splitList(list) {
		if strings.HasPrefix(item, "W/") {
			if strong {
				continue
			}
			item = item[2:]
		}
		if item == opaque {
			return true
		}
	}
	return false
}

// splitList splits a comma-separated header value, leaving commas inside
// quoted strings alone.
func splitList(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				if item := strings.TrimSpace(s[start:i]); item != "" {
					out = append(out, item)
				}
				start = i + 1
			}
		}
	}
	if item := strings.TrimSpace(s[start:]); item != "" {
		out = append(out, item)
	}
	return out
}

// byteRange is an inclusive range of byte offsets.
type byteRange struct{ start, end int64 }

func (b byteRange) length() int64 { return b.end - b.start + 1 }

func (b byteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(b.start, 10) + "-" + strconv.FormatInt(b.end, 10) + "/" + strconv.FormatInt(size, 10)
}

// byteRanges applies the Range header to a file of size bytes: status 0
// means "send it whole", 206 the ranges returned, 416 none satisfiable.
// If-Range that does not match (an etag compared strictly, or a date
// compared in seconds with the modification time) means the whole file.
func byteRanges(r *phases.Request, etag string, mtime time.Time, size int64) ([]byteRange, int) {
	spec, ok := header(r.HeadersIn, "Range")
	if !ok {
		return nil, 0
	}
	if v, ok := header(r.HeadersIn, "If-Range"); ok {
		if strings.HasPrefix(v, `"`) {
			if v != etag {
				return nil, 0
			}
		} else if t, err := http.ParseTime(v); err != nil || t.Unix() != mtime.Unix() {
			return nil, 0
		}
	}
	return parseRanges(spec, size)
}

// parseRanges is Apache 2.4's ap_set_byterange: "bytes=" (any case) then
// ranges separated by commas (repeated commas count as one; a leading one
// ends the list). Any malformed range, "-0", or a start past the end
// ("5-2") voids the whole header (200). Ranges past the end are clipped;
// ranges starting past the end are skipped, and when nothing else remains
// the answer is 416. Overlapping or adjacent ranges are merged with the
// range before them in the order given; "0-" anywhere means the whole
// file as one range. If the ranges add up to more than the file, or there
// are too many, the whole file is sent.
func parseRanges(spec string, size int64) ([]byteRange, int) {
	if len(spec) < 6 || !strings.EqualFold(spec[:6], "bytes=") {
		return nil, 0
	}
	spec = spec[6:]
	if strings.Count(spec, ",")+1 > maxRanges {
		return nil, 0
	}
	var (
		out                 []byteRange
		ostart, oend        int64
		inMerge             bool
		unsatisfiable       int
		sum                 int64
		overlaps, reversals int
	)
	for spec != "" {
		cur := spec
		if i := strings.IndexByte(spec, ','); i >= 0 {
			cur, spec = spec[:i], spec[i:]
			spec = strings.TrimLeft(spec, ",")
		} else {
			spec = ""
		}
		if cur == "" {
			break
		}
		dash := strings.IndexByte(cur, '-')
		if dash < 0 {
			return nil, 0
		}
		var start, end int64
		if dash == 0 { // "-N": the last N bytes
			n, ok := strictLength(cur[1:])
			if !ok || n < 1 {
				return nil, 0
			}
			start, end = size-n, size-1
			if start < 0 {
				start = 0
			}
		} else {
			n, ok := strictLength(cur[:dash])
			if !ok {
				return nil, 0
			}
			start = n
			if cur[dash+1:] != "" {
				e, ok := strictLength(cur[dash+1:])
				if !ok || start > e {
					return nil, 0
				}
				end = e
			} else {
				end = size - 1
				if start == 0 { // "0-": the whole file, other ranges ignored
					out, sum, inMerge, ostart, oend = nil, 0, true, 0, end
					break
				}
			}
		}
		if end >= size {
			end = size - 1
		}
		if start > end {
			unsatisfiable++
			continue
		}
		if !inMerge {
			ostart, oend, inMerge = start, end, true
			continue
		}
		merged := false
		if start >= ostart && end <= oend {
			merged = true
		}
		if start < ostart && end >= ostart-1 {
			ostart = start
			merged = true
		}
		if end >= oend && start <= oend+1 {
			oend = end
			merged = true
		}
		if merged {
			overlaps++
			continue
		}
		if start < ostart {
			reversals++
		}
		out = append(out, byteRange{ostart, oend})
		sum += oend - ostart + 1
		ostart, oend = start, end
	}
	if inMerge {
		out = append(out, byteRange{ostart, oend})
		sum += oend - ostart + 1
	} else if unsatisfiable > 0 {
		return nil, http.StatusRequestedRangeNotSatisfiable
	}
	if len(out) == 0 || sum > size || len(out) > maxRanges || overlaps > maxOverlaps || reversals > maxReversals {
		return nil, 0
	}
	return out, http.StatusPartialContent
}

// strictLength parses a non-negative decimal number with nothing around
// it (Apache's ap_parse_strict_length).
func strictLength(s string) (int64, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// fileSettings returns EnableMMAP (here: use the contents cache) and
// EnableSendfile for the request, both On unless a section says Off.
func fileSettings(r *phases.Request) (mmap, sendfile bool) {
	mmap, sendfile = true, true
	for ds := range phases.EachDirConf[core.DirSettings](r, core.ModuleName) {
		if ds.EnableMMAP != nil {
			mmap = *ds.EnableMMAP
		}
		if ds.EnableSendfile != nil {
			sendfile = *ds.EnableSendfile
		}
	}
	return mmap, sendfile
}
