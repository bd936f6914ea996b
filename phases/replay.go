package phases

import (
	"maps"
	"net/http"
	"os"
	"syscall"

	"github.com/httpdg/httpdg/config"
)

// Replaying answers: the phases of a request for a small unchanged file
// always come to the same result for the same request line, Host and
// listening address, as long as every handler that ran is Replayable and
// the file is the same. The engine keeps that result (a Replay) after the
// first such request and answers the next ones from it: one stat to see
// the file is unchanged, the head and body written as the handler wrote
// them, and log_transaction run as usual. Nothing a client or a log can
// see differs from running the phases again, apart from the time it takes.

// FileIdentity is what a file must still match for a replay of its answer:
// the stat fields any change of the file or of its name's target changes.
type FileIdentity struct {
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // nanoseconds
}

// IdentityOf returns fi's identity, false when fi carries no stat data.
func IdentityOf(fi os.FileInfo) (FileIdentity, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileIdentity{}, false
	}
	return identityOf(st), true
}

func identityOf(st *syscall.Stat_t) FileIdentity {
	return FileIdentity{Dev: uint64(st.Dev), Ino: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano()}
}

// replayOffer is what the handler offered: the whole body it wrote.
type replayOffer struct {
	body []byte
}

// NotReplayable tells the engine that r's outcome depends on more than its
// replay key (see Entry.Replayable): r will not be replayed.
func (r *Request) NotReplayable() { r.noReplay = true }

// OfferReplay is called by a handler that answered r with status 200 and
// exactly body (nil for HEAD), its headers set from the stat of r.Filename
// (Request.Stat) and nothing else: the engine may replay the answer while
// the file keeps its identity. The body must never change afterwards.
func (r *Request) OfferReplay(body []byte) {
	r.rareOf().replay = &replayOffer{body: body}
}

// Replay is a request's outcome kept for replaying: r's state after its
// handler, the body written and the identity of the file it came from. Its
// maps are private copies that nothing writes.
type Replay struct {
	// File is r.Filename's identity when the answer was made.
	File FileIdentity
	// Body is what the handler wrote (nil for HEAD).
	Body []byte

	filename, pathInfo, handler, contentType string
	uri, hostname                            string
	vhost                                    *config.Server
	sections                                 []*config.Section
	headersOut, errHeadersOut                http.Header
	notes, env                               map[string]string
}

// Replayable returns r's outcome for replaying, when r may be replayed: a
// handler offered it, every handler that ran is Replayable and none said
// otherwise, r was not redirected internally and its answer was a 200 for
// a file whose stat is known.
func (r *Request) Replayable() (*Replay, bool) {
	if r.rare == nil || r.rare.replay == nil || r.noReplay || r.Prev != nil || r.Status != http.StatusOK {
		return nil, false
	}
	if r.Hooks != nil && len(r.Hooks.ModifyResponseHeaders.entries) > 0 {
		// They run again when the replay's head goes out, on maps the
		// replay shares.
		return nil, false
	}
	if !r.statDone || r.statName != r.Filename || r.statErr != nil || r.statInfo == nil {
		return nil, false
	}
	id, ok := IdentityOf(r.statInfo)
	if !ok {
		return nil, false
	}
	return &Replay{
		File: id, Body: r.rare.replay.body,
		filename: r.Filename, pathInfo: r.PathInfo, handler: r.Handler, contentType: r.ContentType,
		uri: r.URI, hostname: r.Hostname, vhost: r.Vhost, sections: r.Sections,
		// Clone gives each value slice its own capacity: appending to a
		// header sent from it cannot write into the kept one.
		headersOut: r.HeadersOut.Clone(), errHeadersOut: r.ErrHeadersOut.Clone(),
		notes: maps.Clone(r.Notes), env: maps.Clone(r.SubprocessEnv),
	}, true
}

// Filename is the file the answer was made from.
func (p *Replay) Filename() string { return p.filename }

// Unchanged stats the file and reports whether it still has the identity
// the answer was made with.
func (p *Replay) Unchanged() bool {
	var st syscall.Stat_t
	if err := syscall.Stat(p.filename, &st); err != nil {
		return false
	}
	return identityOf(&st) == p.File
}

// replayWriter is an Output that can send a replay faster than
// WriteHeader and Write (the engine's, from a head rendered once); false
// means it sent nothing and they are to be used.
type replayWriter interface {
	WriteReplay(p *Replay) bool
}

// ServeReplay answers r from p in place of the phases from
// post_read_request to the handler: r takes the state they left the
// recorded request in, the head and body go out through r.Output as the
// handler sent them, then log_transaction runs and the request pool is
// destroyed, as ProcessRequest does.
func ServeReplay(h *RequestHooks, r *Request, p *Replay) {
	r.Filename, r.PathInfo, r.Handler, r.ContentType = p.filename, p.pathInfo, p.handler, p.contentType
	r.URI, r.Hostname, r.Vhost, r.Sections = p.uri, p.hostname, p.vhost, p.sections
	r.HeadersOut, r.ErrHeadersOut = p.headersOut, p.errHeadersOut
	r.Notes, r.SubprocessEnv = p.notes, p.env
	r.Status = http.StatusOK
	if w, ok := r.Output.(replayWriter); !ok || !w.WriteReplay(p) {
		r.Output.WriteHeader(http.StatusOK)
		if len(p.Body) > 0 {
			_, _ = r.Output.Write(p.Body)
		}
	}
	endRequest(h, r)
}
