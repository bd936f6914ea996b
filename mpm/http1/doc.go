// Package http1 is an HTTP/1.0 and HTTP/1.1 server for plain-TCP
// listeners, a drop-in for the part of net/http's Server the engine uses,
// built for throughput: a response whose head and body fit the
// per-connection write buffer goes out in ONE write(2), there is no
// background read goroutine per request, and the per-connection request,
// header maps, URL, body reader and response writer are reused from one
// request to the next. A keep-alive client repeating its request lines
// costs two allocations per request (the request context), against ~18
// for net/http.
//
// # What a handler may not keep
//
// Because they are reused for the connection's next request, a handler
// must not use after ServeHTTP returns:
//
//   - the *http.Request, its Header map, its URL or its Body (copy what
//     must outlive the request; strings may be kept, they are immutable);
//   - the ResponseWriter or its Header map (net/http forbids this too).
//
// The request context is new for every request and is cancelled when
// ServeHTTP returns, so it may be handed to goroutines as with net/http.
//
// # Where it differs from net/http
//
// As Apache httpd 2.4 (whose status codes the engine's users expect),
// checked against Apache 2.4.67:
//
//   - the status line says HTTP/1.1 whatever the request's version, and a
//     closing response says Connection: close to HTTP/1.0 clients too;
//   - HTTP/2.0 .. HTTP/9.9 request lines are served as 1.1 (net/http:
//     505); "PRI * HTTP/2.0" is 400;
//   - Transfer-Encoding is accepted when chunked is its final coding, else
//     400 (net/http: exactly "chunked", else 501); with Content-Length too,
//     chunked wins and the connection is closed after the response
//     (net/http keeps it); chunked in an HTTP/1.0 request is honoured and
//     the connection closed (net/http ignores the field);
//   - two Content-Length fields are 400 even when equal, an empty Host in
//     HTTP/1.1 is 400, folded (obs-fold) field lines are 400 (net/http
//     accepts all three);
//   - up to 10 blank lines before a request line are skipped;
//   - a request head that stops coming is answered 408 (net/http closes
//     without a word);
//   - OPTIONS * goes to the handler (net/http answers it itself), and
//     Pragma: no-cache does not add Cache-Control: no-cache to the request.
//
// By design or as a limit:
//
//   - no background read: a request context is cancelled when the handler
//     returns, when a write fails, or by Close, not the moment the client
//     hangs up;
//   - ReadTimeout and WriteTimeout bound each read and write (Apache's
//     Timeout), not the whole request; deadlines are renewed lazily, so a
//     timeout may run out up to 1/8 early;
//   - a body written before the handler returns gets a Content-Length if
//     it fits the write buffer (net/http: 2 KB), so fewer responses are
//     chunked; a HEAD response without one gets the written length;
//   - response trailers are not sent (Trailer and "Trailer:" keys are
//     dropped); request trailers are read and dropped (req.Trailer is nil);
//   - no HTTP/2, no h2c; a TLS client that negotiated h2 is dropped;
//     contexts carry http.LocalAddrContextKey but not ServerContextKey;
//   - fields go out Date first, then in sorted key order, as the handler
//     spelt the keys (net/http also leaves them as set).
//
// Like net/http (and unlike Apache), bare LF line ends are accepted.
package http1
