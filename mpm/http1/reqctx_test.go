package http1

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestRequestContextEndsWithTheRequest(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "conn")
	c := newRequestContext(parent)
	if c.Value(ctxKey{}) != "conn" {
		t.Fatal("the connection's values are not seen")
	}
	if c.Err() != nil {
		t.Fatalf("Err %v while the request runs", c.Err())
	}
	done := c.Done()
	if closed(done) {
		t.Fatal("Done closed while the request runs")
	}
	c.cancel(context.Canceled)
	if !closed(done) || !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("after the request: Done closed %v, Err %v", closed(done), c.Err())
	}
	// Asked for only afterwards: already closed.
	late := newRequestContext(parent)
	late.cancel(context.Canceled)
	if !closed(late.Done()) || late.Err() != context.Canceled {
		t.Fatal("Done asked for after the request is not closed")
	}
	// A context derived from it ends with it.
	d := newRequestContext(parent)
	sub, stop := context.WithCancel(d)
	defer stop()
	d.cancel(context.Canceled)
	select {
	case <-sub.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a derived context did not end with the request")
	}
}

func TestRequestContextFollowsItsParent(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	c := newRequestContext(parent)
	done := c.Done()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the parent's end does not end the request's context")
	}
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err %v", c.Err())
	}
	// Parent already over before Done is asked for.
	p2, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel2()
	<-p2.Done()
	c2 := newRequestContext(p2)
	if c2.Err() != context.DeadlineExceeded || !closed(c2.Done()) {
		t.Fatalf("over parent: Err %v, Done closed %v", c2.Err(), closed(c2.Done()))
	}
	if _, ok := c2.Deadline(); !ok {
		t.Fatal("the parent's deadline is not seen")
	}
}
