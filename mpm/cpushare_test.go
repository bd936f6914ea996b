package mpm

import (
	"testing"
	"time"
)

func TestCPUShareDecide(t *testing.T) {
	s := &cpuShare{max: 4, hold: 10 * time.Second}
	t0 := time.Unix(1000, 0)
	iv := cpuShareInterval
	// part is a share of one look's time, in nanoseconds.
	part := func(f float64) int64 { return int64(f * float64(iv)) }
	// Mostly idle: nothing to learn.
	if got := s.decide(2, part(0.3), part(0.9), iv, t0); got != 2 {
		t.Fatalf("idle: %d", got)
	}
	// Waiting as long as running: one fewer, down to 1.
	if got := s.decide(2, part(1.5), part(1.5), iv, t0); got != 1 {
		t.Fatalf("waiting: %d, want 1", got)
	}
	if got := s.decide(1, part(0.9), part(2), iv, t0.Add(iv)); got != 1 {
		t.Fatalf("waiting at 1: %d", got)
	}
	// calm runs n busy looks without waiting at one processor from
	// from, and returns the most it was told to use.
	calm := func(from time.Time, n int) int {
		most := 1
		for i := 0; i < n; i++ {
			most = max(most, s.decide(1, part(0.99), part(0.01), iv, from.Add(time.Duration(i)*iv)))
		}
		return most
	}
	idle := func(at time.Time) { s.decide(1, part(0.1), 0, iv, at) }
	// Within the hold (10 s from the decrease at t0): stays at 1.
	if got := calm(t0.Add(iv), int(9*time.Second/iv)); got != 1 {
		t.Fatalf("raised within the hold: %d", got)
	}
	// After the hold, raiseAfter calm looks in a row: one more; fewer,
	// or interrupted by an idle look, are not enough.
	t1 := t0.Add(20 * time.Second)
	idle(t1.Add(-iv))
	if got := calm(t1, raiseAfter-1); got != 1 {
		t.Fatalf("raised after %d calm looks: %d", raiseAfter-1, got)
	}
	idle(t1.Add(time.Duration(raiseAfter-1) * iv))
	t1 = t1.Add(time.Duration(raiseAfter) * iv)
	if got := calm(t1, raiseAfter-1); got != 1 {
		t.Fatalf("calm looks counted across an idle one: %d", got)
	}
	t1 = t1.Add(time.Duration(raiseAfter-1) * iv)
	if got := s.decide(1, part(0.99), part(0.01), iv, t1); got != 2 {
		t.Fatalf("saturated, no wait for %d looks: %d, want 2", raiseAfter, got)
	}
	// The wait comes back at once: back to 1, and the hold doubles.
	if got := s.decide(2, part(1.4), part(1.6), iv, t1.Add(iv)); got != 1 {
		t.Fatalf("wait back: %d, want 1", got)
	}
	if s.hold != 20*time.Second {
		t.Fatalf("hold %v after a failed raise, want 20s", s.hold)
	}
	if got := calm(t1.Add(2*iv), int(19*time.Second/iv)); got != 1 {
		t.Fatalf("raised before the doubled hold: %d", got)
	}
	if got := calm(t1.Add(22*time.Second), raiseAfter); got != 2 {
		t.Fatalf("not raised after the doubled hold: %d", got)
	}
	// Never above the machine's CPUs.
	if got := s.decide(4, part(3.99), part(0.01), iv, t1.Add(time.Hour)); got != 4 {
		t.Fatalf("above max: %d", got)
	}
}

func TestCPUShareOffWithGOMAXPROCS(t *testing.T) {
	t.Setenv("GOMAXPROCS", "3")
	if !newCPUShare().disabled {
		t.Fatal("GOMAXPROCS set by the operator, and the child still adjusts it")
	}
}

func TestThreadTimes(t *testing.T) {
	run, _, ok := threadTimes()
	if !ok || run <= 0 {
		t.Fatalf("threadTimes: run %d, ok %v", run, ok)
	}
}
