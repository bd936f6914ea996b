package http1

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateValue is a formatted Date header value and the second it is for.
type dateValue struct {
	sec int64
	b   []byte
}

// currentDate caches the Date value of the current second: formatting a
// time costs ~200 ns and an allocation, and every response carries one.
var currentDate atomic.Pointer[dateValue]

// appendDate appends the HTTP date of now (whole seconds) to b.
func appendDate(b []byte, now time.Time) []byte {
	sec := now.Unix()
	d := currentDate.Load()
	if d == nil || d.sec != sec {
		// Two goroutines may format the same second at once; either
		// result is right, so no lock.
		d = &dateValue{sec: sec, b: now.UTC().AppendFormat(make([]byte, 0, len(http.TimeFormat)), http.TimeFormat)}
		currentDate.Store(d)
	}
	return append(b, d.b...)
}
