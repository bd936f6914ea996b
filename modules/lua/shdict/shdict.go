// Package shdict is the store behind LuaSharedDict: a key/value dict in
// shared memory that every process of the server (the master, its children
// of every generation, -X's one process) reads and writes, modelled on
// OpenResty's ngx.shared.DICT.
//
// # Memory
//
// A dict is a memfd of the declared size (Create), mapped MAP_SHARED. The
// master creates it before its children start and hands the file down as an
// inherited descriptor; a child maps the same pages (Attach). Nothing is on
// disk: the pages live as long as some process holds the file, so the
// master keeps a dict across graceful restarts and a fresh start begins
// empty, as nginx's shared zones do.
//
// # Locking
//
// Every operation holds an exclusive flock(2) on the segment for its
// duration (and a sync.Mutex among the goroutines of one process, since
// flock serializes open file descriptions, not goroutines). Attach reopens
// the inherited descriptor through /proc/self/fd, so every process locks
// through a description of its own: descriptors inherited from the master
// share its description, and locks on a shared description do not exclude
// each other. The kernel drops a dead process's flock, so a crashed child
// never leaves a dict locked.
//
// # Layout and crash safety
//
// The segment is a header, an index (open addressing, linear probing, one
// 16-byte slot per key: hash and entry offset) and an arena of entries
// appended one after the other. An entry is a 32-byte header (length,
// sizes, kind, live flag, CRC-32C, expiry, LRU tick), the key and the
// value. Replacing a value by a longer one, or inserting, appends a new
// entry; deleting clears the live flag. When the arena is full, the
// live entries are slid to its start (expired ones dropped) and the index is
// rebuilt; when that is not enough, Set evicts the least recently used
// entries first (SafeSet and SafeAdd return ErrNoMemory instead).
//
// The arena alone is authoritative: the index and the counters can be
// rebuilt from it. A writer marks the header dirty (with its pid) before it
// changes anything and clears the mark when done; a process that takes the
// lock and finds the mark set knows the previous holder died mid-write and
// rebuilds the dict from the arena: it stops at the first entry whose
// header does not make sense, drops entries whose CRC does not match (a torn
// write), and where two live entries have the same key keeps the one at the
// higher offset (the newer: entries are only ever appended, and compaction
// keeps their order). What an interrupted write was writing may be lost;
// everything else survives, and the dict is consistent again.
package shdict

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Limits.
const (
	// MinSize is the smallest dict: a header, a small index and room for a
	// few dozen entries.
	MinSize = 8 << 10
	// MaxKeyLen is the longest key, as in OpenResty.
	MaxKeyLen = 65535
	// DefaultMaxKeys is how many keys keys() returns in Lua when not told,
	// as in OpenResty.
	DefaultMaxKeys = 1024
)

// Errors an operation returns; their texts are what the Lua API returns as
// the err value, OpenResty's strings.
var (
	ErrNoMemory  = errors.New("no memory")
	ErrExists    = errors.New("exists")
	ErrNotFound  = errors.New("not found")
	ErrNotNumber = errors.New("not a number")
	ErrEmptyKey  = errors.New("empty key")
	ErrKeyLen    = errors.New("key too long")
	ErrBadTTL    = errors.New("bad ttl")
	ErrClosed    = errors.New("dict closed")
)

// Kind is the type of a stored value.
type Kind uint8

// The kinds of values a dict holds (nil is not stored: setting nil
// deletes).
const (
	KindString Kind = 1
	KindNumber Kind = 2
	KindBool   Kind = 3
)

// Value is a stored value.
type Value struct {
	Kind Kind
	Str  string
	Num  float64
	Bool bool
}

// String, Number and Bool make values.
func String(s string) Value  { return Value{Kind: KindString, Str: s} }
func Number(n float64) Value { return Value{Kind: KindNumber, Num: n} }
func Bool(b bool) Value      { return Value{Kind: KindBool, Bool: b} }

func (v Value) encodedLen() int {
	switch v.Kind {
	case KindString:
		return len(v.Str)
	case KindNumber:
		return 8
	default:
		return 1
	}
}

// Header fields: byte offsets of uint64 little-endian words.
const (
	hMagic    = 0
	hVersion  = 8
	hSize     = 16
	hSlots    = 24
	hArenaOff = 32
	hArenaLen = 40
	hUsed     = 48 // arena bytes in use, from the arena's start
	hDead     = 56 // bytes of dead entries within the used part
	hLive     = 64 // live entries (each has an index slot)
	hTombs    = 72 // index slots of deleted entries
	hTick     = 80 // the LRU clock
	hDirty    = 88 // pid of the writer mid-change; 0 when consistent
	hRepairs  = 96 // times the dict was rebuilt after a writer died
	headerLen = 128

	magic         = 0x3144485347445448 // "HTDGSHD1" in little-endian memory
	layoutVersion = 1
)

// Entry fields: byte offsets from the entry's start.
const (
	eTotal   = 0  // uint32: the entry's length, a multiple of 8
	eValLen  = 4  // uint32
	eKeyLen  = 8  // uint16
	eKind    = 10 // uint8
	eLive    = 11 // uint8: 1 live, 0 dead (not under the CRC)
	eCRC     = 12 // uint32: CRC-32C of bytes 0..11, 16..24 and key+value
	eExpires = 16 // int64 Unix nanoseconds; 0: never
	eTick    = 24 // uint64: the LRU clock at the last use (not under the CRC)
	entryHdr = 32

	slotLen = 16 // hash uint64, entry offset uint64 (0 empty, 1 deleted)
	tomb    = 1
	// bytesPerSlot sizes the index: one slot per this many bytes of dict
	// (a 16-byte slot per 64 bytes: a quarter of the memory), and the
	// index holds live keys up to 3/4 of its slots.
	bytesPerSlot = 64
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Dict is one process's view of a shared dict.
type Dict struct {
	name string

	mu   sync.Mutex
	file *os.File // the segment: handed to children by the creator
	lock *os.File // this process's own description of it, for flock
	mem  []byte
	now  func() time.Time

	slots              uint64
	arenaOff, arenaLen uint64

	// onRepair, if set, is told when the dict was rebuilt after a writer
	// died mid-change (see SetRepairLog).
	onRepair atomic.Pointer[func(msg string)]
}

// SetRepairLog sets what is told, in a sentence, when the dict was rebuilt
// after a writer died mid-change (the error log of the current
// generation: it changes at restarts, while other goroutines use the dict).
func (d *Dict) SetRepairLog(log func(msg string)) { d.onRepair.Store(&log) }

// Create makes a dict of size bytes in a fresh memfd, empty.
func Create(name string, size int64) (*Dict, error) {
	if size < MinSize {
		return nil, fmt.Errorf("shared dict %s: size %d is below the minimum %d", name, size, MinSize)
	}
	fd, err := unix.MemfdCreate("httpdg-shdict-"+name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("shared dict %s: memfd_create: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "httpdg-shdict-"+name)
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, fmt.Errorf("shared dict %s: sizing the segment to %d bytes: %w", name, size, err)
	}
	d, err := mapDict(name, f, f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	d.format(uint64(size))
	return d, nil
}

// Attach maps the dict in f (a segment Create made, inherited from another
// process). The Dict does not own f; Close leaves it open.
func Attach(name string, f *os.File) (*Dict, error) {
	// A description of our own, so that our flock excludes the process we
	// inherited f from (see the package comment).
	own, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("shared dict %s: reopening the segment: %w", name, err)
	}
	st, err := own.Stat()
	if err != nil {
		own.Close()
		return nil, fmt.Errorf("shared dict %s: %w", name, err)
	}
	d, err := mapDict(name, nil, own, st.Size())
	if err != nil {
		own.Close()
		return nil, err
	}
	if err := d.checkHeader(uint64(st.Size())); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func mapDict(name string, file, lock *os.File, size int64) (*Dict, error) {
	if size < headerLen || size > math.MaxInt {
		return nil, fmt.Errorf("shared dict %s: a segment of %d bytes cannot hold a dict", name, size)
	}
	mem, err := unix.Mmap(int(lock.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("shared dict %s: mmap of %d bytes: %w", name, size, err)
	}
	return &Dict{name: name, file: file, lock: lock, mem: mem, now: time.Now}, nil
}

// layout computes the index and arena of a dict of size bytes.
func layout(size uint64) (slots, arenaOff, arenaLen uint64) {
	slots = max(16, size/bytesPerSlot)
	arenaOff = headerLen + slots*slotLen
	return slots, arenaOff, size - arenaOff
}

// format writes the header of a fresh segment. The rest is zero already
// (a new memfd reads as zeros): clearing the index would make the kernel
// back a quarter of the dict with memory at once, gigabytes for a big dict,
// instead of as keys come.
func (d *Dict) format(size uint64) {
	slots, off, alen := layout(size)
	clear(d.mem[:headerLen])
	d.put(hSize, size)
	d.put(hSlots, slots)
	d.put(hArenaOff, off)
	d.put(hArenaLen, alen)
	d.put(hVersion, layoutVersion)
	d.put(hMagic, magic)
	d.slots, d.arenaOff, d.arenaLen = slots, off, alen
}

func (d *Dict) checkHeader(size uint64) error {
	if d.get(hMagic) != magic || d.get(hVersion) != layoutVersion {
		return fmt.Errorf("shared dict %s: the segment holds no dict of this httpdg (magic %#x, layout %d)", d.name, d.get(hMagic), d.get(hVersion))
	}
	slots, off, alen := layout(size)
	if d.get(hSize) != size || d.get(hSlots) != slots || d.get(hArenaOff) != off || d.get(hArenaLen) != alen {
		return fmt.Errorf("shared dict %s: the segment's header does not match its size %d", d.name, size)
	}
	d.slots, d.arenaOff, d.arenaLen = slots, off, alen
	return nil
}

// Name is the dict's name.
func (d *Dict) Name() string { return d.name }

// Size is the segment's size in bytes (the declared size).
func (d *Dict) Size() int64 { return int64(len(d.mem)) }

// File is the segment to hand to other processes (nil on an attached dict).
func (d *Dict) File() *os.File { return d.file }

// SetClock replaces the clock expiry reads (tests).
func (d *Dict) SetClock(now func() time.Time) {
	d.mu.Lock()
	d.now = now
	d.mu.Unlock()
}

// Close unmaps the dict and closes the files it owns; later operations
// return ErrClosed.
func (d *Dict) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mem == nil {
		return nil
	}
	err := unix.Munmap(d.mem)
	d.mem = nil
	if d.lock != d.file {
		d.lock.Close()
	}
	if d.file != nil {
		d.file.Close()
	}
	return err
}

func (d *Dict) get(off uint64) uint64      { return binary.LittleEndian.Uint64(d.mem[off:]) }
func (d *Dict) put(off uint64, v uint64)   { binary.LittleEndian.PutUint64(d.mem[off:], v) }
func (d *Dict) get32(off uint64) uint32    { return binary.LittleEndian.Uint32(d.mem[off:]) }
func (d *Dict) put32(off uint64, v uint32) { binary.LittleEndian.PutUint32(d.mem[off:], v) }

// do runs op under the dict's locks. A writer (write true) marks the dict
// dirty for the time of op; a dirty mark found on entry means the last
// writer died mid-change, and the dict is rebuilt first. A panic in op (a
// damaged segment) leaves the mark set, so the next operation rebuilds.
func (d *Dict) do(write bool, op func() error) (err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mem == nil {
		return ErrClosed
	}
	fd := int(d.lock.Fd())
	for {
		err := unix.Flock(fd, unix.LOCK_EX)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return fmt.Errorf("shared dict %s: flock: %w", d.name, err)
		}
	}
	defer unix.Flock(fd, unix.LOCK_UN)
	defer func() {
		if p := recover(); p != nil {
			d.put(hDirty, uint64(os.Getpid())) // a reader's too: rebuild next time
			err = fmt.Errorf("shared dict %s is damaged (%v); it will be rebuilt", d.name, p)
		}
	}()
	if pid := d.get(hDirty); pid != 0 {
		d.repair(pid)
	}
	if !write {
		return op()
	}
	d.put(hDirty, uint64(os.Getpid()))
	err = op()
	d.put(hDirty, 0)
	return err
}

// entryTotal is the length of the entry at eo, for the walks over the
// arena. A length no entry can have (shorter than its header, not a
// multiple of 8) can only be damage: it panics, which do turns into
// "damaged, rebuilt", where walking on would loop for ever under the lock.
func (d *Dict) entryTotal(eo uint64) uint64 {
	total := uint64(d.get32(eo + eTotal))
	if total < entryHdr || total%8 != 0 {
		panic(fmt.Sprintf("entry at %d has length %d", eo-d.arenaOff, total))
	}
	return total
}

// hash is FNV-1a: the same in every process (maphash is seeded per process).
func hash(key string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h
}

func checkKey(key string) error {
	if key == "" {
		return ErrEmptyKey
	}
	if len(key) > MaxKeyLen {
		return ErrKeyLen
	}
	return nil
}

func entryLen(key string, v Value) uint64 {
	return (entryHdr + uint64(len(key)) + uint64(v.encodedLen()) + 7) &^ 7
}

// slot i's words.
func (d *Dict) slotOff(i uint64) uint64 { return headerLen + i*slotLen }

// find looks key up. It returns the slot holding it and the entry's offset
// (found), or, when absent, the first reusable slot on the probe path.
func (d *Dict) find(key string, h uint64) (slot, off uint64, found bool) {
	i, _ := bits.Mul64(h, d.slots)
	free := uint64(math.MaxUint64)
	for n := uint64(0); n < d.slots; n++ {
		so := d.slotOff(i)
		eo := d.get(so + 8)
		switch {
		case eo == 0:
			if free == math.MaxUint64 {
				free = i
			}
			return free, 0, false
		case eo == tomb:
			if free == math.MaxUint64 {
				free = i
			}
		case d.get(so) == h && d.keyAt(eo) == key:
			return i, eo, true
		}
		if i++; i == d.slots {
			i = 0
		}
	}
	return free, 0, false
}

func (d *Dict) keyAt(eo uint64) string {
	kl := uint64(binary.LittleEndian.Uint16(d.mem[eo+eKeyLen:]))
	return string(d.mem[eo+entryHdr : eo+entryHdr+kl])
}

func (d *Dict) keyBytes(eo uint64) []byte {
	kl := uint64(binary.LittleEndian.Uint16(d.mem[eo+eKeyLen:]))
	return d.mem[eo+entryHdr : eo+entryHdr+kl]
}

func (d *Dict) expired(eo uint64, now int64) bool {
	exp := int64(d.get(eo + eExpires))
	return exp != 0 && now >= exp
}

func (d *Dict) valueAt(eo uint64) Value {
	kl := uint64(binary.LittleEndian.Uint16(d.mem[eo+eKeyLen:]))
	vl := uint64(d.get32(eo + eValLen))
	b := d.mem[eo+entryHdr+kl : eo+entryHdr+kl+vl]
	switch Kind(d.mem[eo+eKind]) {
	case KindNumber:
		return Number(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case KindBool:
		return Bool(b[0] != 0)
	default:
		return String(string(b))
	}
}

// crcOf is the entry's checksum as written now.
func (d *Dict) crcOf(eo uint64) uint32 {
	kl := uint64(binary.LittleEndian.Uint16(d.mem[eo+eKeyLen:]))
	vl := uint64(d.get32(eo + eValLen))
	c := crc32.Update(0, castagnoli, d.mem[eo:eo+eLive])
	c = crc32.Update(c, castagnoli, d.mem[eo+eExpires:eo+eTick])
	return crc32.Update(c, castagnoli, d.mem[eo+entryHdr:eo+entryHdr+kl+vl])
}

// writeValue stores v (and its expiry) in the entry at eo, whose key is
// already there and whose length has room for it.
func (d *Dict) writeValue(eo uint64, v Value, expires int64) {
	kl := uint64(binary.LittleEndian.Uint16(d.mem[eo+eKeyLen:]))
	b := d.mem[eo+entryHdr+kl:]
	switch v.Kind {
	case KindString:
		copy(b, v.Str)
	case KindNumber:
		binary.LittleEndian.PutUint64(b, math.Float64bits(v.Num))
	case KindBool:
		b[0] = 0
		if v.Bool {
			b[0] = 1
		}
	}
	d.put32(eo+eValLen, uint32(v.encodedLen()))
	d.mem[eo+eKind] = byte(v.Kind)
	d.put(eo+eExpires, uint64(expires))
	d.put32(eo+eCRC, d.crcOf(eo))
}

func (d *Dict) touch(eo uint64) {
	t := d.get(hTick) + 1
	d.put(hTick, t)
	d.put(eo+eTick, t)
}

// kill deletes the live entry at eo found in slot.
func (d *Dict) kill(slot, eo uint64) {
	d.mem[eo+eLive] = 0
	d.put(d.slotOff(slot)+8, tomb)
	d.put(hLive, d.get(hLive)-1)
	d.put(hTombs, d.get(hTombs)+1)
	d.put(hDead, d.get(hDead)+uint64(d.get32(eo+eTotal)))
}

func (d *Dict) expiry(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return d.now().Add(ttl).UnixNano()
}

// Get returns key's value; ok is false when the key is absent or expired.
func (d *Dict) Get(key string) (v Value, ok bool, err error) {
	if err := checkKey(key); err != nil {
		return Value{}, false, err
	}
	err = d.do(false, func() error {
		_, eo, found := d.find(key, hash(key))
		if !found || d.expired(eo, d.now().UnixNano()) {
			return nil
		}
		v, ok = d.valueAt(eo), true
		d.touch(eo)
		return nil
	})
	return v, ok, err
}

// mode says what a store does about an existing key and a full dict.
type mode struct {
	ifAbsent  bool // add: fail with ErrExists when the key is there
	ifPresent bool // replace: fail with ErrNotFound when it is not
	evict     bool // make room by evicting LRU entries (else ErrNoMemory)
}

// Set stores v under key for ttl (0: no expiry), evicting the least
// recently used entries when the dict is full; forcible reports an
// eviction. A value that cannot fit even in an empty dict is ErrNoMemory.
func (d *Dict) Set(key string, v Value, ttl time.Duration) (forcible bool, err error) {
	return d.store(key, v, ttl, mode{evict: true})
}

// SafeSet is Set without evictions: ErrNoMemory when the dict is full.
func (d *Dict) SafeSet(key string, v Value, ttl time.Duration) error {
	_, err := d.store(key, v, ttl, mode{})
	return err
}

// Add is Set for a key that is absent (or expired): ErrExists otherwise.
func (d *Dict) Add(key string, v Value, ttl time.Duration) (forcible bool, err error) {
	return d.store(key, v, ttl, mode{ifAbsent: true, evict: true})
}

// SafeAdd is Add without evictions.
func (d *Dict) SafeAdd(key string, v Value, ttl time.Duration) error {
	_, err := d.store(key, v, ttl, mode{ifAbsent: true})
	return err
}

// Replace is Set for a key that is present: ErrNotFound otherwise.
func (d *Dict) Replace(key string, v Value, ttl time.Duration) (forcible bool, err error) {
	return d.store(key, v, ttl, mode{ifPresent: true, evict: true})
}

func (d *Dict) store(key string, v Value, ttl time.Duration, m mode) (forcible bool, err error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	if ttl < 0 {
		return false, ErrBadTTL
	}
	err = d.do(true, func() error {
		expires := d.expiry(ttl)
		h := hash(key)
		slot, eo, found := d.find(key, h)
		if found && d.expired(eo, d.now().UnixNano()) {
			d.kill(slot, eo)
			found = false
		}
		switch {
		case found && m.ifAbsent:
			return ErrExists
		case !found && m.ifPresent:
			return ErrNotFound
		}
		if found {
			if entryLen(key, v) <= uint64(d.get32(eo+eTotal)) {
				d.writeValue(eo, v, expires)
				d.touch(eo)
				return nil
			}
			// As OpenResty does, the old value goes before room is made
			// for the new one: a SafeSet that finds no room leaves the key
			// absent.
			d.kill(slot, eo)
		}
		var err error
		forcible, err = d.insert(key, h, v, expires, m.evict)
		return err
	})
	return forcible, err
}

// insert appends a new entry for key (absent) and indexes it.
func (d *Dict) insert(key string, h uint64, v Value, expires int64, evict bool) (forcible bool, err error) {
	n := entryLen(key, v)
	if forcible, err = d.makeRoom(n, evict); err != nil {
		return forcible, err
	}
	used := d.get(hUsed)
	eo := d.arenaOff + used
	clear(d.mem[eo : eo+entryHdr])
	d.put32(eo+eTotal, uint32(n))
	binary.LittleEndian.PutUint16(d.mem[eo+eKeyLen:], uint16(len(key)))
	copy(d.mem[eo+entryHdr:], key)
	d.writeValue(eo, v, expires)
	d.mem[eo+eLive] = 1
	d.touch(eo)
	d.put(hUsed, used+n)
	slot, _, _ := d.find(key, h)
	so := d.slotOff(slot)
	if d.get(so+8) == tomb {
		d.put(hTombs, d.get(hTombs)-1)
	}
	d.put(so, h)
	d.put(so+8, eo)
	d.put(hLive, d.get(hLive)+1)
	return forcible, nil
}

// maxLive is how many keys the index holds.
func (d *Dict) maxLive() uint64 { return d.slots * 3 / 4 }

// makeRoom makes the arena end have n free bytes and the index a free
// slot: by compacting (which drops expired entries), then, if evict, by
// evicting the least recently used entries.
func (d *Dict) makeRoom(n uint64, evict bool) (forcible bool, err error) {
	if n > d.arenaLen || n > math.MaxUint32 { // an entry's length is 32 bits
		return false, ErrNoMemory
	}
	fits := func() bool {
		return d.arenaLen-d.get(hUsed) >= n && d.get(hLive)+1 <= d.maxLive() &&
			d.get(hLive)+d.get(hTombs)+1 < d.slots
	}
	if fits() {
		return false, nil
	}
	d.compact()
	if fits() {
		return false, nil
	}
	if !evict {
		return false, ErrNoMemory
	}
	d.evictLRU(n)
	d.compact()
	if !fits() {
		return true, ErrNoMemory // not reached: evictLRU freed enough
	}
	return true, nil
}

// compact slides the live, unexpired entries to the arena's start, in
// order, and rebuilds the index.
func (d *Dict) compact() {
	now := d.now().UnixNano()
	used := d.get(hUsed)
	var w uint64
	for r := uint64(0); r < used; {
		eo := d.arenaOff + r
		total := d.entryTotal(eo)
		if d.mem[eo+eLive] == 1 && !d.expired(eo, now) {
			if w != r {
				copy(d.mem[d.arenaOff+w:], d.mem[eo:eo+total])
			}
			w += total
		}
		r += total
	}
	d.put(hUsed, w)
	d.reindex()
}

// evictLRU kills the least recently used entries until n bytes and a slot
// would be free after compaction, with a margin of 1/32 of the arena and
// of the index (so that a full dict is not sorted again on every store).
func (d *Dict) evictLRU(n uint64) {
	type ent struct{ tick, slot, eo, total uint64 }
	var all []ent
	used := d.get(hUsed)
	for r := uint64(0); r < used; {
		eo := d.arenaOff + r
		total := d.entryTotal(eo)
		if d.mem[eo+eLive] == 1 {
			all = append(all, ent{tick: d.get(eo + eTick), eo: eo, total: total})
		}
		r += total
	}
	slices.SortFunc(all, func(a, b ent) int {
		switch {
		case a.tick < b.tick:
			return -1
		case a.tick > b.tick:
			return 1
		}
		return 0
	})
	margin, slotMargin := d.arenaLen/32, d.maxLive()/32
	liveBytes := used - d.get(hDead)
	live := d.get(hLive)
	for _, e := range all {
		if liveBytes+n+margin <= d.arenaLen && live+1+slotMargin <= d.maxLive() {
			break
		}
		d.mem[e.eo+eLive] = 0
		liveBytes -= e.total
		live--
	}
	// compact (next) rebuilds the index and the counters.
}

// reindex rebuilds the index and the counters from the arena's entries.
// Of two live entries with the same key (possible only after a writer
// died), the later one, the newer, is kept.
func (d *Dict) reindex() {
	clear(d.mem[headerLen:d.arenaOff])
	used := d.get(hUsed)
	var live, dead uint64
	for r := uint64(0); r < used; {
		eo := d.arenaOff + r
		total := d.entryTotal(eo)
		if d.mem[eo+eLive] == 1 {
			key := string(d.keyBytes(eo))
			h := hash(key)
			slot, old, found := d.find(key, h)
			if found {
				d.mem[old+eLive] = 0
				dead += uint64(d.get32(old + eTotal))
				live--
			}
			so := d.slotOff(slot)
			d.put(so, h)
			d.put(so+8, eo)
			live++
		} else {
			dead += total
		}
		r += total
	}
	d.put(hDead, dead)
	d.put(hLive, live)
	d.put(hTombs, 0)
}

// sound reports whether a whole entry, consistent with its checksum, starts
// at eo with at most room bytes after it.
func (d *Dict) sound(eo, room uint64) bool {
	if room < entryHdr {
		return false
	}
	total := uint64(d.get32(eo + eTotal)) // checked below, not trusted
	kl := uint64(binary.LittleEndian.Uint16(d.mem[eo+eKeyLen:]))
	vl := uint64(d.get32(eo + eValLen))
	kind := Kind(d.mem[eo+eKind])
	return total >= entryHdr && total%8 == 0 && total <= room && kl > 0 && entryHdr+kl+vl <= total &&
		kind >= KindString && kind <= KindBool && (kind != KindNumber || vl == 8) && (kind != KindBool || vl == 1) &&
		d.crcOf(eo) == d.get32(eo+eCRC)
}

// repair rebuilds a dict whose last writer (pid) died mid-change: it keeps
// the sound live entries, skipping 8 bytes at a time over what is not an
// entry (the torn part of an interrupted compaction, say), slides them to
// the arena's start and reindexes.
func (d *Dict) repair(pid uint64) {
	d.put(hDirty, uint64(os.Getpid()))
	used := min(d.get(hUsed), d.arenaLen)
	var keep []uint64
	var skipped uint64
	for r := uint64(0); r < used; {
		eo := d.arenaOff + r
		if !d.sound(eo, used-r) {
			r += 8
			skipped += 8
			continue
		}
		if d.mem[eo+eLive] == 1 {
			keep = append(keep, eo)
		}
		r += uint64(d.get32(eo + eTotal))
	}
	var w uint64
	for _, eo := range keep {
		total := d.entryTotal(eo)
		copy(d.mem[d.arenaOff+w:], d.mem[eo:eo+total])
		w += total
	}
	d.put(hUsed, w)
	d.reindex()
	d.put(hRepairs, d.get(hRepairs)+1)
	d.put(hDirty, 0)
	if log := d.onRepair.Load(); log != nil {
		(*log)(fmt.Sprintf("shared dict %s: process %d died while changing it; rebuilt from its entries (%d keys kept, %d bytes unreadable skipped)", d.name, pid, d.get(hLive), skipped))
	}
}

// Incr adds n to key's number and returns the sum. An absent (or expired)
// key is ErrNotFound, unless init is given: then the key is created with
// init+n, expiring after initTTL (0: never), evicting LRU entries if need
// be (forcible). A value that is not a number is ErrNotNumber.
func (d *Dict) Incr(key string, n float64, init *float64, initTTL time.Duration) (sum float64, forcible bool, err error) {
	if err := checkKey(key); err != nil {
		return 0, false, err
	}
	if initTTL < 0 {
		return 0, false, ErrBadTTL
	}
	err = d.do(true, func() error {
		h := hash(key)
		slot, eo, found := d.find(key, h)
		if found && d.expired(eo, d.now().UnixNano()) {
			d.kill(slot, eo)
			found = false
		}
		if found {
			v := d.valueAt(eo)
			if v.Kind != KindNumber {
				return ErrNotNumber
			}
			sum = v.Num + n
			d.writeValue(eo, Number(sum), int64(d.get(eo+eExpires)))
			d.touch(eo)
			return nil
		}
		if init == nil {
			return ErrNotFound
		}
		sum = *init + n
		var err error
		forcible, err = d.insert(key, h, Number(sum), d.expiry(initTTL), true)
		return err
	})
	return sum, forcible, err
}

// Delete removes key (absent keys are fine).
func (d *Dict) Delete(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return d.do(true, func() error {
		if slot, eo, found := d.find(key, hash(key)); found {
			d.kill(slot, eo)
		}
		return nil
	})
}

// TTL returns the time key has left (0: it never expires).
func (d *Dict) TTL(key string) (left time.Duration, err error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	err = d.do(false, func() error {
		_, eo, found := d.find(key, hash(key))
		now := d.now().UnixNano()
		if !found || d.expired(eo, now) {
			return ErrNotFound
		}
		if exp := int64(d.get(eo + eExpires)); exp != 0 {
			left = time.Duration(exp - now)
		}
		return nil
	})
	return left, err
}

// Expire sets key's time to live (0: never expires).
func (d *Dict) Expire(key string, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if ttl < 0 {
		return ErrBadTTL
	}
	return d.do(true, func() error {
		_, eo, found := d.find(key, hash(key))
		if !found || d.expired(eo, d.now().UnixNano()) {
			return ErrNotFound
		}
		d.put(eo+eExpires, uint64(d.expiry(ttl)))
		d.put32(eo+eCRC, d.crcOf(eo))
		return nil
	})
}

// Keys returns up to max keys that are neither deleted nor expired, oldest
// first (max 0: all of them).
func (d *Dict) Keys(max int) (keys []string, err error) {
	err = d.do(false, func() error {
		now := d.now().UnixNano()
		used := d.get(hUsed)
		for r := uint64(0); r < used; {
			eo := d.arenaOff + r
			if d.mem[eo+eLive] == 1 && !d.expired(eo, now) {
				keys = append(keys, d.keyAt(eo))
				if max > 0 && len(keys) == max {
					break
				}
			}
			r += d.entryTotal(eo)
		}
		return nil
	})
	return keys, err
}

// FlushAll empties the dict (OpenResty only marks the entries expired;
// here their memory is free at once).
func (d *Dict) FlushAll() error {
	return d.do(true, func() error {
		d.put(hUsed, 0)
		d.reindex()
		return nil
	})
}

// FlushExpired frees the expired entries, at most max of them (0: all),
// and returns how many it freed.
func (d *Dict) FlushExpired(max int) (n int, err error) {
	err = d.do(true, func() error {
		now := d.now().UnixNano()
		used := d.get(hUsed)
		for r := uint64(0); r < used && (max <= 0 || n < max); {
			eo := d.arenaOff + r
			if d.mem[eo+eLive] == 1 && d.expired(eo, now) {
				if slot, _, found := d.find(d.keyAt(eo), hash(d.keyAt(eo))); found {
					d.kill(slot, eo)
					n++
				}
			}
			r += d.entryTotal(eo)
		}
		return nil
	})
	return n, err
}

// Capacity is the room for entries, in bytes: the size less the header
// and the index.
func (d *Dict) Capacity() int64 { return int64(d.arenaLen) }

// FreeSpace is the room left for entries, in bytes, counting what deleted
// (not yet expired) entries hold as free.
func (d *Dict) FreeSpace() (free int64, err error) {
	err = d.do(false, func() error {
		free = int64(d.arenaLen - (d.get(hUsed) - d.get(hDead)))
		return nil
	})
	return free, err
}

// Stats are counters for tests and status pages.
type Stats struct {
	Live, Used, Dead, Repairs uint64
}

// Stats returns the dict's counters.
func (d *Dict) Stats() (s Stats, err error) {
	err = d.do(false, func() error {
		s = Stats{Live: d.get(hLive), Used: d.get(hUsed), Dead: d.get(hDead), Repairs: d.get(hRepairs)}
		return nil
	})
	return s, err
}
