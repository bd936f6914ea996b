package lua

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCallDeadline(t *testing.T) {
	d := newCallDeadline()

	// A call that ends in time: Done stays open, no error, and the timer
	// does not fire later.
	d.arm(50*time.Millisecond, nil)
	d.disarm()
	select {
	case <-d.Done():
		t.Fatal("Done closed for a call that ended in time")
	case <-time.After(100 * time.Millisecond):
	}
	if d.Err() != nil {
		t.Fatalf("Err %v", d.Err())
	}

	// A call past its time: Done closes with DeadlineExceeded.
	d.arm(10*time.Millisecond, nil)
	select {
	case <-d.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the deadline")
	}
	if !errors.Is(d.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err %v", d.Err())
	}
	d.disarm()

	// The next call starts clean.
	d.arm(time.Hour, nil)
	select {
	case <-d.Done():
		t.Fatal("Done of the previous call carried over")
	default:
	}
	if d.Err() != nil {
		t.Fatalf("Err carried over: %v", d.Err())
	}
	// A stale firing (meant for an earlier call) is ignored.
	d.expire()
	if d.Err() != nil {
		t.Fatal("a stale expiry stopped the current call")
	}
	d.disarm()
}
