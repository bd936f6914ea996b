// Package http1 is an HTTP/1.0 and HTTP/1.1 server for plain-TCP
// listeners, a drop-in for the part of net/http's Server the engine uses,
// built for throughput: a response whose head and body fit the
// per-connection write buffer goes out in ONE write(2), there is no
// background read goroutine per request, and the per-connection request,
// header maps, URL, body reader and response writer are reused from one
// request to the next, so a steady keep-alive connection serves requests
// without per-request allocations beyond the request's context.
//
// Handlers are ordinary http.Handlers. What they may not do, because the
// objects are reused for the connection's next request:
//
//   - retain the *http.Request, its Header map, its URL or its Body after
//     ServeHTTP returns (copy what must outlive the request; the strings
//     themselves are immutable and may be kept);
//   - use the ResponseWriter or its Header map after ServeHTTP returns
//     (net/http forbids this too).
//
// The request context is new for every request and is cancelled when
// ServeHTTP returns, so it may be handed to goroutines as with net/http.
//
// Where this server deliberately answers as Apache httpd 2.4 does rather
// than as net/http (the engine's users expect Apache's status codes), the
// difference is noted on Server and in the tests (see
// TestDifferentialNetHTTP for the list).
package http1
