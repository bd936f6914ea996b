package mpm

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuShare sizes a child's Go runtime (GOMAXPROCS) to the CPU it gets.
// The runtime assumes the process owns the machine; a child shares it
// with its siblings and, on a small box, with the clients. When the
// child's threads wait on the kernel's run queues as long as they run,
// more processors only add hand-offs between threads: one fewer. When the
// child keeps its processors busy without waiting for raiseAfter looks,
// one more — unless that was tried and the wait came back (then not again
// for a while, longer each time).
type cpuShare struct {
	max       int
	cpu       int64 // the process's CPU time at the last step (ns)
	run, wait int64 // the threads' totals at the last step (ns; 0: none)
	at        time.Time
	hold      time.Duration // no increase before holdUntil
	holdUntil time.Time
	raisedAt  time.Time // the last increase, to judge it
	calm      int       // busy ticks in a row without waiting
	disabled  bool
}

// cpuShareInterval is how often a child looks (a quarter second: a child
// started into heavy load finds its share within a second).
const cpuShareInterval = 250 * time.Millisecond

// raiseAfter is how many busy looks in a row without waiting (5 seconds)
// make a child try one more processor: a burst of load is not enough.
const raiseAfter = int(5 * time.Second / cpuShareInterval)

// newCPUShare starts from the runtime's own choice, which is also the most
// it will use (Go's default already follows a cgroup CPU limit).
func newCPUShare() *cpuShare {
	return &cpuShare{max: runtime.GOMAXPROCS(0), hold: 10 * time.Second, disabled: os.Getenv("GOMAXPROCS") != ""}
}

// step reads the threads' times and adjusts GOMAXPROCS; now is the tick.
// An idle child (most of them, under prefork) costs one getrusage a look:
// the threads' times are read only while the process is busy.
func (s *cpuShare) step(now time.Time) {
	if s.disabled {
		return
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return
	}
	cpu := ru.Utime.Nano() + ru.Stime.Nano()
	dCPU, dt := cpu-s.cpu, now.Sub(s.at)
	s.cpu = cpu
	if s.at.IsZero() || float64(dCPU) < 0.5*float64(dt) {
		s.at, s.run, s.calm = now, 0, 0 // idle: nothing to learn
		return
	}
	run, wait, ok := threadTimes()
	if !ok {
		return
	}
	if s.run == 0 {
		// Busy from now on: the next look judges.
		s.run, s.wait, s.at = run, wait, now
		return
	}
	dRun, dWait := run-s.run, wait-s.wait
	s.run, s.wait, s.at = run, wait, now
	cur := runtime.GOMAXPROCS(0)
	if next := s.decide(cur, dRun, dWait, dt, now); next != cur {
		runtime.GOMAXPROCS(next)
	}
}

// decide is step's rule, apart for tests.
func (s *cpuShare) decide(cur int, dRun, dWait int64, dt time.Duration, now time.Time) int {
	busy := float64(dRun) / float64(dt)
	if busy < 0.5 {
		s.calm = 0
		return cur // mostly idle: nothing to learn
	}
	waits := float64(dWait) / float64(dRun)
	if waits < 0.05 && busy > float64(cur)-0.2 {
		s.calm++
	} else {
		s.calm = 0
	}
	if waits > 0.5 && cur > 1 {
		if !s.raisedAt.IsZero() && now.Sub(s.raisedAt) < 3*time.Second {
			// The last increase brought the wait back: hold longer.
			s.hold = min(2*s.hold, 10*time.Minute)
		}
		s.raisedAt = time.Time{}
		s.holdUntil = now.Add(s.hold)
		return cur - 1
	}
	if s.calm >= raiseAfter && cur < s.max && now.After(s.holdUntil) {
		s.raisedAt, s.calm = now, 0
		return cur + 1
	}
	return cur
}

// threadTimes sums the process's threads' run and run-queue wait times
// (/proc/self/task/*/schedstat, nanoseconds).
func threadTimes() (run, wait int64, ok bool) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, 0, false
	}
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		r, _ := strconv.ParseInt(f[0], 10, 64)
		w, _ := strconv.ParseInt(f[1], 10, 64)
		run += r
		wait += w
	}
	return run, wait, true
}
