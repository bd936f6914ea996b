package mpm

import (
	"testing"
	"time"
)

func TestCPUShareDecide(t *testing.T) {
	s := &cpuShare{max: 4, hold: 10 * time.Second}
	t0 := time.Unix(1000, 0)
	sec := time.Second
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	// Mostly idle: nothing to learn.
	if got := s.decide(2, ms(300), ms(900), sec, t0); got != 2 {
		t.Fatalf("idle: %d", got)
	}
	// Waiting as long as running: one fewer, down to 1.
	if got := s.decide(2, ms(1500), ms(1500), sec, t0); got != 1 {
		t.Fatalf("waiting: %d, want 1", got)
	}
	if got := s.decide(1, ms(900), ms(2000), sec, t0.Add(sec)); got != 1 {
		t.Fatalf("waiting at 1: %d", got)
	}
	// Saturating its one P without waiting, but within the hold: stays.
	if got := s.decide(1, ms(990), ms(10), sec, t0.Add(5*sec)); got != 1 {
		t.Fatalf("raised within the hold: %d", got)
	}
	// After the hold: one more.
	t1 := t0.Add(20 * sec)
	if got := s.decide(1, ms(990), ms(10), sec, t1); got != 2 {
		t.Fatalf("saturated, no wait: %d, want 2", got)
	}
	// The wait comes back at once: back to 1, and the hold doubles.
	if got := s.decide(2, ms(1400), ms(1600), sec, t1.Add(sec)); got != 1 {
		t.Fatalf("wait back: %d, want 1", got)
	}
	if s.hold != 20*time.Second {
		t.Fatalf("hold %v after a failed raise, want 20s", s.hold)
	}
	if got := s.decide(1, ms(990), ms(10), sec, t1.Add(15*sec)); got != 1 {
		t.Fatalf("raised before the doubled hold: %d", got)
	}
	if got := s.decide(1, ms(990), ms(10), sec, t1.Add(22*sec)); got != 2 {
		t.Fatalf("not raised after the doubled hold: %d", got)
	}
	// Never above the machine's CPUs.
	if got := s.decide(4, ms(3990), ms(10), sec, t1.Add(time.Hour)); got != 4 {
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
