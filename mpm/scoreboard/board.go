// Package scoreboard is the server's scoreboard (Apache's scoreboard.c):
// one record per child process and one per worker, in shared memory.
//
// The master creates the board (Create) in a memfd mapped MAP_SHARED and
// hands the file to every child, which maps the same memory (Attach).
// Children write the records of their own workers; the master and the
// server-status handler of any process read every record.
//
// Concurrency rules, which every method below follows:
//   - Numeric fields are read and written with sync/atomic on the mapped
//     memory, so a reader never sees a torn number.
//   - Each worker record has one writer at a time (the goroutine serving
//     on it, or the master while no child owns the slot). Updates that
//     touch several fields (a request's start or end, a reset) run inside
//     the record's sequence counter (a seqlock): the writer makes it odd,
//     writes, makes it even; a reader copies the record and retries when
//     the counter was odd or moved. Readers therefore see the strings
//     (client, vhost, request line) and counters of one update, never a
//     mix of two.
//   - SetState is two atomic stores (the state and the LastUsed stamp)
//     outside the seqlock, and every request-path method reads the clock
//     once (see clock): tens of nanoseconds, no allocation.
//   - The Board's methods may be called on a nil *Board (no scoreboard):
//     setters do nothing, getters return zero values, Worker returns nil,
//     and a nil *Worker's methods do nothing.
//
// The layout is native-endian and the same binary writes and reads it; a
// magic number and a layout version guard Attach against anything else.
package scoreboard

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// State is a worker's scoreboard state, the character mod_status prints.
type State byte

// The worker states, with Apache's characters.
const (
	Open      State = '.' // no process in the slot
	Starting  State = 'S'
	Idle      State = '_' // waiting for a connection
	Reading   State = 'R'
	Writing   State = 'W'
	Keepalive State = 'K'
	Logging   State = 'L'
	DNS       State = 'D'
	Closing   State = 'C'
	Graceful  State = 'G' // gracefully finishing
	IdleKill  State = 'I'
)

// String is the state's character.
func (s State) String() string { return string(rune(s)) }

// Sizes of the fixed string fields. RequestLen is Apache's: the status
// page shows 63 characters of a request line (the first, or the last with
// SeeRequestTail On).
const (
	ClientLen  = 64
	VhostLen   = 64
	RequestLen = 63
	mpmLen     = 16
)

const (
	magic         = 0x3142534744505448 // "HTPDGSB1" in little-endian memory
	layoutVersion = 1
	// maxWorkers bounds ServerLimit × ThreadLimit (320 bytes each, at most
	// 320 MiB of mostly untouched memory): far above any sane
	// configuration, and it keeps size computations far from overflow.
	maxWorkers = 1 << 20
	// readPatience bounds a reader's wait for a consistent copy (see
	// readConsistent).
	readPatience = time.Second
)

// header is the board's first 256 bytes: the layout and the global record.
type header struct {
	magic       uint64
	version     uint32
	serverLimit uint32
	threadLimit uint32
	_           uint32
	size        uint64

	seq             uint64 // guards mpm
	startTime       int64  // Unix nanoseconds
	restartTime     int64  // Unix nanoseconds
	generation      int64
	extended        uint32
	requestTail     uint32
	maxServers      uint32
	threadsPerChild uint32
	masterPid       int64
	mpm             [mpmLen / 8]uint64
	_               [152]byte
}

// processSlot is one child process's record (one cache line).
type processSlot struct {
	pid            int64
	generation     int64
	quiescing      int64
	connsTotal     int64
	connsKeepAlive int64
	connsWriting   int64
	connsClosing   int64
	// accepting: the process takes new connections now (event: it has
	// an idle worker and connection budget, and is not finishing).
	accepting int64
}

// workerSlot is one worker's record, padded to a multiple of the cache
// line so two workers' writers never share one.
type workerSlot struct {
	seq           uint64
	state         uint32
	_             uint32
	generation    int64
	accesses      uint64 // this slot, across processes
	bytes         uint64
	childAccesses uint64 // this process (Apache's my_access_count)
	childBytes    uint64
	connAccesses  uint64 // this connection (Apache's conn_count)
	connBytes     uint64
	duration      int64 // nanoseconds, all requests of the slot
	lastDuration  int64 // nanoseconds, the last finished request
	lastUsed      int64 // Unix nanoseconds
	requestStart  int64 // Unix nanoseconds
	client        [ClientLen / 8]uint64
	vhost         [VhostLen / 8]uint64
	request       [(RequestLen + 1) / 8]uint64
	_             [24]byte
}

const (
	headerSize  = int(unsafe.Sizeof(header{}))
	processSize = int(unsafe.Sizeof(processSlot{}))
	workerSize  = int(unsafe.Sizeof(workerSlot{}))
)

// The layout is part of the contract between the master and its
// children: fail the build if a field change moves it.
var _ = [1]struct{}{}[headerSize-256]
var _ = [1]struct{}{}[processSize-64]
var _ = [1]struct{}{}[workerSize-320]

// boardSize is the mapping size for the given limits.
func boardSize(serverLimit, threadLimit int) int {
	return headerSize + serverLimit*processSize + serverLimit*threadLimit*workerSize
}

// Board is a scoreboard mapped into this process. Its methods are safe for
// concurrent use; a Board and its Workers must not be used after Close.
type Board struct {
	file        *os.File
	data        []byte
	hdr         *header
	procs       []*processSlot
	workers     []Worker // serverLimit × threadLimit, row-major
	serverLimit int
	threadLimit int
	clock       clock
	patience    time.Duration // how long readers wait for a writer (readConsistent)
	closed      atomic.Bool
}

// Create makes a new board for serverLimit processes of threadLimit
// workers each, in a fresh memfd: every worker slot Open, StartTime and
// RestartTime now, ExtendedStatus on (Apache 2.4's default when
// mod_status is loaded, as it always is in httpdg).
func Create(serverLimit, threadLimit int) (*Board, error) {
	if serverLimit < 1 || threadLimit < 1 {
		return nil, fmt.Errorf("scoreboard: limits must be at least 1, got ServerLimit %d, ThreadLimit %d", serverLimit, threadLimit)
	}
	if serverLimit > maxWorkers || threadLimit > maxWorkers || serverLimit*threadLimit > maxWorkers {
		return nil, fmt.Errorf("scoreboard: ServerLimit %d × ThreadLimit %d exceeds %d workers", serverLimit, threadLimit, maxWorkers)
	}
	size := boardSize(serverLimit, threadLimit)
	fd, err := unix.MemfdCreate("httpdg-scoreboard", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("scoreboard: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "httpdg-scoreboard")
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("scoreboard: ftruncate to %d bytes: %w", size, err)
	}
	// A child that shrank the file would make every other process fault
	// (SIGBUS) on its next access: seal the size.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("scoreboard: sealing the memfd: %w", err)
	}
	data, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("scoreboard: mmap %d bytes: %w", size, err)
	}
	b := newBoard(f, data, serverLimit, threadLimit)
	h := b.hdr
	h.version = layoutVersion
	h.serverLimit = uint32(serverLimit)
	h.threadLimit = uint32(threadLimit)
	h.size = uint64(size)
	now := time.Now().UnixNano()
	h.startTime, h.restartTime = now, now
	h.extended = 1
	h.masterPid = int64(os.Getpid())
	for i := range b.workers {
		b.workers[i].slot.state = uint32(Open)
	}
	// The magic goes last: a board is valid only once initialized.
	atomic.StoreUint64(&h.magic, magic)
	return b, nil
}

// Attach maps the board in f, a file from Create (in a child, the fd it
// inherited). The Board owns f from now on: Close closes it. On an error f
// stays the caller's.
func Attach(f *os.File) (*Board, error) {
	if f == nil {
		return nil, errors.New("scoreboard: attach: no file")
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("scoreboard: attach: %w", err)
	}
	size := fi.Size()
	if size < int64(headerSize) {
		return nil, fmt.Errorf("scoreboard: attach: %s is %d bytes, too small for a scoreboard", f.Name(), size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("scoreboard: attach: mmap %d bytes: %w", size, err)
	}
	h := (*header)(unsafe.Pointer(&data[0]))
	fail := func(format string, args ...any) (*Board, error) {
		_ = unix.Munmap(data)
		return nil, fmt.Errorf("scoreboard: attach: "+format, args...)
	}
	if atomic.LoadUint64(&h.magic) != magic {
		return fail("%s is not a scoreboard", f.Name())
	}
	if h.version != layoutVersion {
		return fail("layout version %d, this binary reads %d", h.version, layoutVersion)
	}
	serverLimit, threadLimit := int(h.serverLimit), int(h.threadLimit)
	if serverLimit < 1 || threadLimit < 1 || serverLimit > maxWorkers || threadLimit > maxWorkers || serverLimit*threadLimit > maxWorkers ||
		int64(boardSize(serverLimit, threadLimit)) > size || h.size != uint64(boardSize(serverLimit, threadLimit)) {
		return fail("inconsistent header (ServerLimit %d, ThreadLimit %d, %d bytes)", serverLimit, threadLimit, size)
	}
	return newBoard(f, data, serverLimit, threadLimit), nil
}

// newBoard builds the Go-side view of a mapping: pointers to every record
// and the Worker handles, so that Worker never allocates.
func newBoard(f *os.File, data []byte, serverLimit, threadLimit int) *Board {
	base := unsafe.Pointer(&data[0])
	b := &Board{file: f, data: data, hdr: (*header)(base), serverLimit: serverLimit, threadLimit: threadLimit, patience: readPatience}
	b.clock.rebase()
	b.procs = make([]*processSlot, serverLimit)
	for i := range b.procs {
		b.procs[i] = (*processSlot)(unsafe.Add(base, headerSize+i*processSize))
	}
	workers := unsafe.Add(base, headerSize+serverLimit*processSize)
	b.workers = make([]Worker, serverLimit*threadLimit)
	for i := range b.workers {
		b.workers[i] = Worker{slot: (*workerSlot)(unsafe.Add(workers, i*workerSize)), board: b}
	}
	return b
}

// File is the memfd holding the board, to hand to children (their
// ExtraFiles); it stays owned by the Board.
func (b *Board) File() *os.File {
	if b == nil {
		return nil
	}
	return b.file
}

// Close unmaps the board and closes its file. Workers of b must not be
// used afterwards (their memory is gone). Closing twice is harmless.
func (b *Board) Close() error {
	if b == nil || !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := unix.Munmap(b.data)
	if cerr := b.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("scoreboard: close: %w", err)
	}
	return nil
}

// Limits are the board's dimensions: process slots and workers per
// process (ServerLimit and ThreadLimit when it was created).
func (b *Board) Limits() (serverLimit, threadLimit int) {
	if b == nil {
		return 0, 0
	}
	return b.serverLimit, b.threadLimit
}

// Global is the board's global record, written by the master.
type Global struct {
	StartTime   time.Time // when the board was created (the server started)
	RestartTime time.Time // the last (re)start of the master's generation
	// Generation is httpdg's generation number of the master (1 for the
	// first serving generation, +1 for each restart). Apache's "MPM
	// generation" counts from 0: it is Generation-1.
	Generation int
	MPM        string // prefork, worker or event
	Extended   bool   // ExtendedStatus: StartRequest records client, vhost, request
	// RequestTail is SeeRequestTail: keep the last RequestLen characters
	// of a long request line instead of the first.
	RequestTail bool
	// MaxServers and ThreadsPerChild are the processes and workers per
	// process the configuration uses (Apache's AP_MPMQ_MAX_DAEMONS and
	// AP_MPMQ_MAX_THREADS); slots beyond them that are Open are left out
	// of mod_status's scoreboard line. 0 when the master has not set them:
	// every slot counts.
	MaxServers      int
	ThreadsPerChild int
	MasterPid       int // the process that created the board
}

// SetRestart records a new generation of the master and when it started.
func (b *Board) SetRestart(generation int, restart time.Time) {
	if b == nil {
		return
	}
	atomic.StoreInt64(&b.hdr.generation, int64(generation))
	atomic.StoreInt64(&b.hdr.restartTime, restart.UnixNano())
}

// SetMPM records the MPM's name (prefork, worker, event).
func (b *Board) SetMPM(name string) {
	if b == nil {
		return
	}
	h := b.hdr
	v := beginWrite(&h.seq)
	putString(h.mpm[:], name, mpmLen)
	atomic.StoreUint64(&h.seq, v+1)
}

// SetExtended is ExtendedStatus: when off, StartRequest records no client,
// vhost or request line (the counters are kept either way).
func (b *Board) SetExtended(on bool) {
	if b != nil {
		atomic.StoreUint32(&b.hdr.extended, boolWord(on))
	}
}

// SetRequestTail is SeeRequestTail: on, StartRequest keeps the end of a
// request line longer than RequestLen instead of its beginning.
func (b *Board) SetRequestTail(on bool) {
	if b != nil {
		atomic.StoreUint32(&b.hdr.requestTail, boolWord(on))
	}
}

// SetActive records how many processes and workers per process the
// configuration uses (MaxRequestWorkers / ThreadsPerChild, and
// ThreadsPerChild; 1 for prefork), below ServerLimit and ThreadLimit.
func (b *Board) SetActive(maxServers, threadsPerChild int) {
	if b == nil {
		return
	}
	atomic.StoreUint32(&b.hdr.maxServers, uint32(clamp(maxServers, 0, b.serverLimit)))
	atomic.StoreUint32(&b.hdr.threadsPerChild, uint32(clamp(threadsPerChild, 0, b.threadLimit)))
}

// Global returns the global record.
func (b *Board) Global() Global {
	if b == nil {
		return Global{}
	}
	h := b.hdr
	g := Global{
		StartTime:       time.Unix(0, atomic.LoadInt64(&h.startTime)),
		RestartTime:     time.Unix(0, atomic.LoadInt64(&h.restartTime)),
		Generation:      int(atomic.LoadInt64(&h.generation)),
		Extended:        atomic.LoadUint32(&h.extended) != 0,
		RequestTail:     atomic.LoadUint32(&h.requestTail) != 0,
		MaxServers:      int(atomic.LoadUint32(&h.maxServers)),
		ThreadsPerChild: int(atomic.LoadUint32(&h.threadsPerChild)),
		MasterPid:       int(atomic.LoadInt64(&h.masterPid)),
	}
	var mpm [mpmLen / 8]uint64
	readConsistent(&h.seq, b.patience, func() { loadWords(mpm[:], h.mpm[:]) })
	g.MPM = wordsString(mpm[:])
	return g
}

// ProcessInfo is a copy of one process slot.
type ProcessInfo struct {
	Pid        int // 0: no process in the slot
	Generation int // httpdg's generation of the process
	Quiescing  bool
	// The process's connections (event: all it holds, including idle
	// keep-alive ones) and how many are in keep-alive, in write
	// completion, and closing (Apache's ConnsTotal, ConnsAsync*).
	ConnsTotal, ConnsKeepAlive, ConnsWriting, ConnsClosing int
}

// proc returns process slot slot, nil when out of range.
func (b *Board) proc(slot int) *processSlot {
	if b == nil || slot < 0 || slot >= b.serverLimit {
		return nil
	}
	return b.procs[slot]
}

// SetProcess puts process pid of generation generation in slot slot. Its
// worker slots that are still Open become Starting, up to ThreadsPerChild
// when SetActive gave it (the others stay Open, as in Apache, where only
// the threads a child starts leave that state); a child that already
// marked its workers (it may run before the master records its pid) keeps
// its states. An out-of-range slot is ignored.
func (b *Board) SetProcess(slot, pid, generation int) {
	p := b.proc(slot)
	if p == nil {
		return
	}
	atomic.StoreInt64(&p.generation, int64(generation))
	atomic.StoreInt64(&p.quiescing, 0)
	for _, c := range []*int64{&p.connsTotal, &p.connsKeepAlive, &p.connsWriting, &p.connsClosing} {
		atomic.StoreInt64(c, 0)
	}
	threads := int(atomic.LoadUint32(&b.hdr.threadsPerChild))
	if threads == 0 {
		threads = b.threadLimit
	}
	for t := 0; t < b.threadLimit; t++ {
		s := b.Worker(slot, t).slot
		atomic.StoreInt64(&s.generation, int64(generation))
		if t < threads {
			atomic.CompareAndSwapUint32(&s.state, uint32(Open), uint32(Starting))
		}
	}
	// The pid goes last: readers take a slot with a pid as a live process.
	atomic.StoreInt64(&p.pid, int64(pid))
}

// SetQuiescing marks the process in slot as finishing (a graceful restart
// or stop): mod_status no longer counts its workers as busy or idle.
func (b *Board) SetQuiescing(slot int) {
	if p := b.proc(slot); p != nil {
		atomic.StoreInt64(&p.quiescing, 1)
		atomic.StoreInt64(&p.accepting, 0)
	}
}

// SetAccepting records whether the process in slot takes new connections
// now (the process itself says so).
func (b *Board) SetAccepting(slot int, on bool) {
	if p := b.proc(slot); p != nil {
		v := int64(0)
		if on {
			v = 1
		}
		atomic.StoreInt64(&p.accepting, v)
	}
}

// AcceptingBefore counts the live processes of generation generation in
// the slots below slot that take new connections now.
func (b *Board) AcceptingBefore(slot, generation int) int {
	n := 0
	for i := 0; i < slot && i < b.serverLimit; i++ {
		p := b.procs[i]
		if atomic.LoadInt64(&p.accepting) != 0 && atomic.LoadInt64(&p.pid) != 0 &&
			atomic.LoadInt64(&p.generation) == int64(generation) && atomic.LoadInt64(&p.quiescing) == 0 {
			n++
		}
	}
	return n
}

// ClearProcess empties slot once its process is gone: pid 0, every worker
// slot Open with its per-process and per-connection counters reset. The
// per-slot totals (accesses, bytes, duration) and the last request stay,
// as in Apache: the server's totals never go backwards when a child
// exits, and the status page still shows what the slot did last.
func (b *Board) ClearProcess(slot int) {
	p := b.proc(slot)
	if p == nil {
		return
	}
	atomic.StoreInt64(&p.pid, 0)
	atomic.StoreInt64(&p.quiescing, 0)
	atomic.StoreInt64(&p.accepting, 0)
	for _, c := range []*int64{&p.connsTotal, &p.connsKeepAlive, &p.connsWriting, &p.connsClosing} {
		atomic.StoreInt64(c, 0)
	}
	for t := 0; t < b.threadLimit; t++ {
		s := b.Worker(slot, t).slot
		// The owner is dead: beginWrite also repairs a counter it left odd.
		v := beginWrite(&s.seq)
		atomic.StoreUint32(&s.state, uint32(Open))
		s.childAccesses, s.childBytes = 0, 0
		s.connAccesses, s.connBytes = 0, 0
		atomic.StoreUint64(&s.seq, v+1)
	}
}

// SetConns records the connection counts of the process in slot (the
// child calls it as they change).
func (b *Board) SetConns(slot int, total, keepalive, writing, closing int) {
	p := b.proc(slot)
	if p == nil {
		return
	}
	atomic.StoreInt64(&p.connsTotal, int64(total))
	atomic.StoreInt64(&p.connsKeepAlive, int64(keepalive))
	atomic.StoreInt64(&p.connsWriting, int64(writing))
	atomic.StoreInt64(&p.connsClosing, int64(closing))
}

// Process returns a copy of process slot slot (zero when out of range).
func (b *Board) Process(slot int) ProcessInfo {
	p := b.proc(slot)
	if p == nil {
		return ProcessInfo{}
	}
	return ProcessInfo{
		Pid:            int(atomic.LoadInt64(&p.pid)),
		Generation:     int(atomic.LoadInt64(&p.generation)),
		Quiescing:      atomic.LoadInt64(&p.quiescing) != 0,
		ConnsTotal:     int(atomic.LoadInt64(&p.connsTotal)),
		ConnsKeepAlive: int(atomic.LoadInt64(&p.connsKeepAlive)),
		ConnsWriting:   int(atomic.LoadInt64(&p.connsWriting)),
		ConnsClosing:   int(atomic.LoadInt64(&p.connsClosing)),
	}
}

// Snapshot is a copy of the whole board.
type Snapshot struct {
	Global    Global
	Processes []ProcessInfo  // [serverLimit]
	Workers   [][]WorkerInfo // [serverLimit][threadLimit]
}

// Snapshot copies every record. Each worker's copy is consistent; the
// board as a whole is not frozen while it is copied (neither is Apache's).
func (b *Board) Snapshot() Snapshot {
	if b == nil {
		return Snapshot{}
	}
	s := Snapshot{Global: b.Global(), Processes: make([]ProcessInfo, b.serverLimit), Workers: make([][]WorkerInfo, b.serverLimit)}
	all := make([]WorkerInfo, b.serverLimit*b.threadLimit)
	for i := range s.Processes {
		s.Processes[i] = b.Process(i)
		s.Workers[i] = all[i*b.threadLimit : (i+1)*b.threadLimit : (i+1)*b.threadLimit]
		for t := range s.Workers[i] {
			s.Workers[i][t] = b.Worker(i, t).Info()
		}
	}
	return s
}

// Worker is the handle of one worker slot. Its methods may be called on a
// nil Worker (no scoreboard) and then do nothing.
type Worker struct {
	slot  *workerSlot
	board *Board
}

// Worker returns the handle of worker thread of process slot slot, nil
// when out of range. Handles are made once per Board: no allocation.
func (b *Board) Worker(slot, thread int) *Worker {
	if b == nil || slot < 0 || slot >= b.serverLimit || thread < 0 || thread >= b.threadLimit {
		return nil
	}
	return &b.workers[slot*b.threadLimit+thread]
}

// SetState sets the worker's state and stamps LastUsed.
func (w *Worker) SetState(s State) {
	if w == nil {
		return
	}
	atomic.StoreUint32(&w.slot.state, uint32(s))
	atomic.StoreInt64(&w.slot.lastUsed, w.board.clock.now())
}

// State is the worker's state (Open for a nil Worker).
func (w *Worker) State() State {
	if w == nil {
		return Open
	}
	return State(atomic.LoadUint32(&w.slot.state))
}

// StartRequest stamps the start of a request and, when ExtendedStatus is
// on, records who asked for what: client address, virtual host, request
// line (cut to the fixed sizes; the request line to its first or, with
// SeeRequestTail, last RequestLen bytes).
func (w *Worker) StartRequest(client, vhost, requestLine string) {
	if w == nil {
		return
	}
	now := w.board.clock.now()
	s := w.slot
	extended := atomic.LoadUint32(&w.board.hdr.extended) != 0
	if extended && len(requestLine) > RequestLen && atomic.LoadUint32(&w.board.hdr.requestTail) != 0 {
		requestLine = requestLine[len(requestLine)-RequestLen:]
	}
	v := atomic.AddUint64(&s.seq, 1)
	s.requestStart = now
	s.lastUsed = now
	switch {
	case extended:
		putString(s.client[:], client, ClientLen)
		putString(s.vhost[:], vhost, VhostLen)
		putString(s.request[:], requestLine, RequestLen)
	case s.client[0]|s.vhost[0]|s.request[0] != 0:
		// Left from when ExtendedStatus was on: not this request's.
		s.client, s.vhost, s.request = [ClientLen / 8]uint64{}, [VhostLen / 8]uint64{}, [(RequestLen + 1) / 8]uint64{}
	}
	atomic.StoreUint64(&s.seq, v+1)
}

// EndRequest counts a finished request of bytes body bytes: one access
// and the bytes for the slot, the process and the connection, and the
// time since StartRequest.
func (w *Worker) EndRequest(bytes int64) {
	if w == nil {
		return
	}
	now := w.board.clock.now()
	s := w.slot
	d := max(now-s.requestStart, 0) // a wall clock step back is not a negative duration
	n := uint64(max(bytes, 0))
	v := atomic.AddUint64(&s.seq, 1)
	s.accesses++
	s.childAccesses++
	s.connAccesses++
	s.bytes += n
	s.childBytes += n
	s.connBytes += n
	s.duration += d
	s.lastDuration = d
	s.lastUsed = now
	atomic.StoreUint64(&s.seq, v+1)
}

// NewConnection starts a connection on the worker: the per-connection
// counters (Apache's conn_count and conn_bytes) go back to zero.
func (w *Worker) NewConnection() {
	if w == nil {
		return
	}
	s := w.slot
	v := atomic.AddUint64(&s.seq, 1)
	s.connAccesses, s.connBytes = 0, 0
	atomic.StoreUint64(&s.seq, v+1)
}

// WorkerInfo is a consistent copy of one worker slot.
type WorkerInfo struct {
	State      State
	Generation int // httpdg's generation of the process that owns the slot
	// Accesses and Bytes are the slot's totals across its processes;
	// ChildAccesses and ChildBytes the current process's; ConnAccesses and
	// ConnBytes the current connection's. Bytes are body bytes.
	Accesses, Bytes, ConnAccesses, ConnBytes uint64
	ChildAccesses, ChildBytes                uint64
	Duration                                 time.Duration // all requests of the slot
	LastDuration                             time.Duration // the last finished request
	LastUsed                                 time.Time
	RequestStart                             time.Time // zero before the first request
	Client, Vhost, Request                   string    // empty unless ExtendedStatus
}

// Info returns a consistent copy of the worker slot.
func (w *Worker) Info() WorkerInfo {
	if w == nil {
		return WorkerInfo{State: Open}
	}
	s := w.slot
	var (
		info                   WorkerInfo
		lastUsed, start        int64
		client, vhost, request [ClientLen / 8]uint64
	)
	readConsistent(&s.seq, w.board.patience, func() {
		info = WorkerInfo{
			State:         State(atomic.LoadUint32(&s.state)),
			Generation:    int(atomic.LoadInt64(&s.generation)),
			Accesses:      atomic.LoadUint64(&s.accesses),
			Bytes:         atomic.LoadUint64(&s.bytes),
			ConnAccesses:  atomic.LoadUint64(&s.connAccesses),
			ConnBytes:     atomic.LoadUint64(&s.connBytes),
			ChildAccesses: atomic.LoadUint64(&s.childAccesses),
			ChildBytes:    atomic.LoadUint64(&s.childBytes),
			Duration:      time.Duration(atomic.LoadInt64(&s.duration)),
			LastDuration:  time.Duration(atomic.LoadInt64(&s.lastDuration)),
		}
		lastUsed = atomic.LoadInt64(&s.lastUsed)
		start = atomic.LoadInt64(&s.requestStart)
		loadWords(client[:], s.client[:])
		loadWords(vhost[:], s.vhost[:])
		loadWords(request[:], s.request[:])
	})
	if lastUsed != 0 {
		info.LastUsed = time.Unix(0, lastUsed)
	}
	if start != 0 {
		info.RequestStart = time.Unix(0, start)
	}
	info.Client = wordsString(client[:])
	info.Vhost = wordsString(vhost[:])
	info.Request = wordsString(request[:])
	return info
}

// beginWrite opens a seqlock write section and returns the (odd) counter
// value; the writer ends it by storing value+1. A counter found odd
// belonged to a writer that died mid-update (only the master calls this
// for a dead child's slots, and for its own global record): it is moved
// on to odd again so readers still see a change.
func beginWrite(seq *uint64) uint64 {
	v := atomic.AddUint64(seq, 1)
	if v&1 == 0 {
		v = atomic.AddUint64(seq, 1)
	}
	return v
}

// readConsistent runs read until it ran while no writer was active: the
// counter even and unchanged across the read. A writer holds the counter
// odd for well under a microsecond unless it is descheduled; one that
// holds it for patience died mid-update (the master repairs the slot when
// it reaps the child), and the reader then keeps what it read rather than
// hang.
func readConsistent(seq *uint64, patience time.Duration, read func()) {
	var deadline time.Time
	for i := 0; ; i++ {
		before := atomic.LoadUint64(seq)
		if before&1 == 0 {
			read()
			if atomic.LoadUint64(seq) == before {
				return
			}
		}
		if i%64 == 63 {
			if deadline.IsZero() {
				deadline = time.Now().Add(patience)
			} else if time.Now().After(deadline) {
				read()
				return
			}
			runtime.Gosched()
		}
	}
}

// putString copies s, cut to limit bytes, into the words of dst, zero
// padded. The writer holds the seqlock, so plain stores suffice: readers
// discard what they read while the counter moves.
func putString(dst []uint64, s string, limit int) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 8*len(dst))
	if len(s) > limit {
		s = s[:limit]
	}
	n := copy(b, s)
	clear(b[n:])
}

// loadWords copies src to dst word by word with atomic loads, so a reader
// racing a writer reads each word whole and in order (see readConsistent).
func loadWords(dst, src []uint64) {
	for i := range src {
		dst[i] = atomic.LoadUint64(&src[i])
	}
}

// wordsString is the NUL-terminated string held in words.
func wordsString(words []uint64) string {
	b := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// clock gives the Unix time in nanoseconds for the hot paths at half the
// cost of time.Now (one monotonic clock read instead of a wall and a
// monotonic one): the wall time of a recent base plus the monotonic time
// since. The base is renewed every clockRebase, so a step of the system
// clock shows within that time, and durations between two readings never
// go backwards between renewals.
type clock struct {
	base atomic.Pointer[clockBase]
}

type clockBase struct {
	wall int64     // Unix nanoseconds at mono
	mono time.Time // carries the monotonic reading
}

const clockRebase = time.Second

func (c *clock) rebase() *clockBase {
	now := time.Now()
	b := &clockBase{wall: now.UnixNano(), mono: now}
	c.base.Store(b)
	return b
}

func (c *clock) now() int64 {
	b := c.base.Load()
	d := time.Since(b.mono)
	if d >= clockRebase || d < 0 {
		return c.rebase().wall
	}
	return b.wall + int64(d)
}

func boolWord(on bool) uint32 {
	if on {
		return 1
	}
	return 0
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }
