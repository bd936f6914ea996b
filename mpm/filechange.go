package mpm

import (
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Replays without a stat per request. A replay is valid while its file
// keeps the identity the answer was made with (phases.Replay.Unchanged,
// one stat). On a local file system the kernel can say instead when
// anything that identity depends on changes: a child watches, with
// inotify, the file and every directory its name is resolved through
// (following symbolic links), and counts the events it reads in an epoch.
// A replay checked by stat at epoch e stays valid, with no stat, while the
// epoch is still e. Reading the pending events is one non-blocking read
// per replayed request, done before the replay is chosen: a change made
// before the request was sent has queued its event by then, so no client
// can see an answer older than a change it knows of.
//
// What inotify cannot report is covered by time and by refusing to arm:
// a replay checked more than fileCheckInterval ago is stat'ed again (a
// write through a shared mapping, a mount over a directory), and files or
// directories on file systems whose changes may come from elsewhere (NFS,
// FUSE, CIFS...) are never armed, so they keep a stat per request, as in
// Apache.

const (
	// fileCheckInterval is how long an armed replay goes without a stat.
	fileCheckInterval = time.Second
	// maxFileWatches bounds the watches of one inotify instance; past it
	// the instance starts over (and every replay is checked again).
	maxFileWatches = 8192
	// maxSymlinkHops is the kernel's limit when resolving a name (ELOOP).
	maxSymlinkHops = 40
	// armRetryInterval keeps a replay whose arming failed (its
	// directories change all the time) on plain stats for a while, so
	// that a busy directory does not cost a walk per request.
	armRetryInterval = 100 * time.Millisecond
)

const (
	// dirWatchMask: an entry of the directory created, removed, renamed
	// or changed, the directory's own permissions, or the directory
	// itself removed or moved.
	dirWatchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
		unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
	// fileWatchMask: the file's contents, size, times, permissions or
	// links changed, through any of its names.
	fileWatchMask = unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
)

// localFileSystems are the file systems whose every change goes through
// this kernel, so inotify sees it (linux/magic.h).
var localFileSystems = map[int64]bool{
	unix.EXT4_SUPER_MAGIC:      true, // also ext2, ext3
	unix.XFS_SUPER_MAGIC:       true,
	unix.BTRFS_SUPER_MAGIC:     true,
	unix.TMPFS_MAGIC:           true,
	unix.RAMFS_MAGIC:           true,
	unix.F2FS_SUPER_MAGIC:      true,
	unix.OVERLAYFS_SUPER_MAGIC: true, // a container's own files
	0x2fc12fc1:                 true, // zfs
}

// fileChanges is one generation's watch over the files it replays.
type fileChanges struct {
	// mu orders reading the events with the epoch they bump: a reader
	// that found nothing pending sees every bump of the events read
	// before it.
	mu      sync.Mutex
	fd      int // inotify, non-blocking; -1 when closed or unavailable
	epoch   atomic.Uint64
	watches map[int32]bool // watch descriptors given by the kernel
	buf     [4096]byte     // the events read (only their arrival counts)
	closed  bool
}

// newFileChanges returns a watch, or nil when inotify is unavailable
// (every replay then keeps its stat).
func newFileChanges() *fileChanges {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	// The epoch starts at 1: 0 is a replay never armed.
	c := &fileChanges{fd: fd, watches: map[int32]bool{}}
	c.epoch.Store(1)
	return c
}

// close releases the inotify instance; armed replays go back to stats.
func (c *fileChanges) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		unix.Close(c.fd)
		c.fd = -1
		c.epoch.Add(1)
	}
}

// current reads the pending events and returns the epoch after them; 0
// when the watch is closed.
func (c *fileChanges) current() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0
	}
	for {
		// Raw: a read of a non-blocking inotify descriptor never waits.
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, uintptr(c.fd), uintptr(unsafe.Pointer(&c.buf[0])), uintptr(len(c.buf)))
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 || n == 0 {
			break
		}
		// Any event, and a queue overflow, may be a change to a
		// replayed file: every armed replay is checked again.
		c.epoch.Add(1)
	}
	return c.epoch.Load()
}

// fileCheck is a replay's standing with the watch: the epoch it was
// checked at (0: not armed) and when it was last stat'ed.
type fileCheck struct {
	epoch     atomic.Uint64
	checkedAt atomic.Int64 // Unix nanoseconds of the last stat
	armTried  atomic.Int64 // Unix nanoseconds of the last failed arming
}

// valid tells whether the replay armed in fc may be served at now
// without a stat.
func (c *fileChanges) valid(fc *fileCheck, now time.Time) bool {
	e := fc.epoch.Load()
	if e == 0 || now.UnixNano()-fc.checkedAt.Load() > int64(fileCheckInterval) {
		return false
	}
	return c.current() == e
}

// check decides, by stat, whether the replayed file is unchanged and, if
// so, arms fc so that the next requests need no stat while no event
// comes. unchanged is the replay's stat check.
func (c *fileChanges) check(fc *fileCheck, name string, unchanged func() bool, now time.Time) bool {
	if c == nil {
		return unchanged()
	}
	if e := fc.epoch.Load(); e != 0 && now.UnixNano()-fc.checkedAt.Load() > int64(fileCheckInterval) && c.current() == e {
		// Armed, only too long ago, and nothing changed since: the
		// watches are in place, a stat refreshes it. (After a change
		// it is armed again below.)
		if !unchanged() {
			fc.epoch.Store(0)
			return false
		}
		if c.current() == e {
			fc.checkedAt.Store(now.UnixNano())
		}
		return true
	}
	if t := fc.armTried.Load(); t != 0 && now.UnixNano()-t < int64(armRetryInterval) {
		return unchanged()
	}
	// Arm: watch first, then stat, and keep the epoch only if no event
	// came in between — a change during the walk may have left a watch
	// on a directory the name no longer goes through.
	before := c.current()
	if before == 0 || !c.watchPath(name) {
		fc.epoch.Store(0)
		fc.armTried.Store(now.UnixNano())
		return unchanged()
	}
	if !unchanged() {
		fc.epoch.Store(0)
		return false
	}
	if c.current() != before {
		fc.epoch.Store(0)
		fc.armTried.Store(now.UnixNano())
		return true
	}
	fc.checkedAt.Store(now.UnixNano())
	fc.epoch.Store(before)
	return true
}

// watchPath watches every directory name is resolved through and the file
// it names, each before looking into it (so a change after the look is
// reported); false when one is on a file system the watch cannot vouch
// for or a watch cannot be added.
func (c *fileChanges) watchPath(name string) bool {
	if !filepath.IsAbs(name) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	if len(c.watches) >= maxFileWatches {
		c.restartLocked()
		if c.closed {
			return false
		}
	}
	dir := "/"
	rest := strings.Split(strings.Trim(name, "/"), "/")
	hops := 0
	var dev uint64 = ^uint64(0)
	for len(rest) > 0 {
		comp := rest[0]
		rest = rest[1:]
		if comp == "" || comp == "." {
			continue
		}
		if !c.addWatchLocked(dir, dirWatchMask) {
			return false
		}
		if comp == ".." {
			dir = filepath.Dir(dir)
			continue
		}
		next := filepath.Join(dir, comp)
		var st unix.Stat_t
		if err := unix.Lstat(next, &st); err != nil {
			return false
		}
		if st.Dev != dev {
			// A mount point: is the file system local?
			dev = st.Dev
			if !localFileSystem(next) {
				return false
			}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			hops++
			if hops > maxSymlinkHops {
				return false
			}
			target, err := readlink(next)
			if err != nil {
				return false
			}
			if filepath.IsAbs(target) {
				dir = "/"
			}
			rest = append(strings.Split(strings.Trim(target, "/"), "/"), rest...)
			continue
		}
		if len(rest) == 0 {
			if st.Mode&unix.S_IFMT != unix.S_IFREG {
				return false
			}
			return c.addWatchLocked(next, fileWatchMask)
		}
		dir = next
	}
	return false
}

// addWatchLocked watches path; the kernel gives the same descriptor for
// an inode already watched.
func (c *fileChanges) addWatchLocked(path string, mask uint32) bool {
	wd, err := unix.InotifyAddWatch(c.fd, path, mask|unix.IN_DONT_FOLLOW)
	if err != nil {
		return false
	}
	c.watches[int32(wd)] = true
	return true
}

// restartLocked replaces the inotify instance (too many watches): every
// armed replay is checked and armed again.
func (c *fileChanges) restartLocked() {
	unix.Close(c.fd)
	c.watches = map[int32]bool{}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		c.closed, c.fd = true, -1
	} else {
		c.fd = fd
	}
	c.epoch.Add(1)
}

func localFileSystem(path string) bool {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return false
	}
	return localFileSystems[int64(fs.Type)]
}

func readlink(path string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlink(path, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}
