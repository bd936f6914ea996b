package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/httpdg/httpdg/phases"
)

// defaultHCInterval is mod_proxy_hcheck's hcinterval default.
const defaultHCInterval = 60 * time.Second

// healthChecks are mod_proxy_hcheck's checks running in one child: one
// goroutine per checked balancer member, each checking every hcinterval.
// Apache runs them in one process and shares the outcome through shared
// memory; httpdg's children each check for themselves, so every child
// knows the state of the members it sends requests to.
type healthChecks struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startHealthChecks starts the checks of members; log gets the
// ENABLING/DISABLING lines.
func startHealthChecks(members []*backend, log *phases.ErrorLog) *healthChecks {
	ctx, cancel := context.WithCancel(context.Background())
	hc := &healthChecks{cancel: cancel}
	for _, m := range members {
		hc.wg.Add(1)
		go func(m *backend) {
			defer hc.wg.Done()
			m.checkLoop(ctx, log)
		}(m)
	}
	return hc
}

// stop ends the checks and waits until every goroutine has returned.
func (hc *healthChecks) stop() {
	hc.cancel()
	hc.wg.Wait()
}

// checkLoop checks m every interval (the first check after one interval,
// as Apache) until ctx ends.
func (b *backend) checkLoop(ctx context.Context, log *phases.ErrorLog) {
	interval := b.hc.Interval
	if interval <= 0 {
		interval = defaultHCInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	client := b.checkClient()
	defer client.CloseIdleConnections()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := b.check(ctx, client)
		if ctx.Err() != nil {
			return
		}
		b.recordCheck(err, log)
	}
}

// checkClient is the connection pool of the checks: apart from the
// worker's, and without keep-alive, so each check opens a connection as a
// request would have to.
func (b *backend) checkClient() *http.Transport {
	dialer := &net.Dialer{Timeout: b.connTimeout}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if b.socket != "" {
				network, addr = "unix", b.socket
			}
			return dialer.DialContext(ctx, network, addr)
		},
		DisableKeepAlives:     true,
		DisableCompression:    true,
		ResponseHeaderTimeout: b.timeout,
	}
}

// check runs one health check: TCP connects; GET, HEAD and OPTIONS (and
// their "11" forms) send the request and pass on a 2xx or 3xx answer.
func (b *backend) check(ctx context.Context, client *http.Transport) error {
	timeout := b.timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if b.hc.Method == "TCP" {
		network, addr := "tcp", b.hostport
		if b.socket != "" {
			network, addr = "unix", b.socket
		}
		c, err := (&net.Dialer{Timeout: b.connTimeout}).DialContext(ctx, network, addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	method := strings.TrimSuffix(b.hc.Method, "11")
	u := b.checkURL()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return fmt.Errorf("health check URL %s: %w", u, err)
	}
	if method == http.MethodOptions {
		req.URL.Opaque = "*"
	}
	req.Header["User-Agent"] = nil
	resp, err := client.RoundTrip(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("response status %d", resp.StatusCode)
	}
	return nil
}

// checkURL is the URL a check requests: the worker's URL with hcuri
// after its path.
func (b *backend) checkURL() string {
	u := b.name
	uri := b.hc.URI
	if uri == "" {
		if authority(u) == u {
			u += "/"
		}
		return u
	}
	return strings.TrimSuffix(u, "/") + "/" + strings.TrimPrefix(uri, "/")
}

// recordCheck is hc_check's bookkeeping: a member that is down (failed by
// the checks, or in error) comes back after hcpasses checks in a row pass;
// one that is up goes down after hcfails checks in a row fail.
func (b *backend) recordCheck(err error, log *phases.ErrorLog) {
	passes, fails := max(b.hc.Passes, 1), max(b.hc.Fails, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hcFailed || b.inError {
		if err != nil {
			b.pcount = 0
			return
		}
		b.pcount++
		if b.pcount >= passes {
			b.hcFailed, b.inError, b.pcount = false, false, 0
			if log != nil {
				log.Info("proxy_hcheck", "Health check ENABLING %s", b.name)
			}
		}
		return
	}
	if err == nil {
		b.fcount = 0
		return
	}
	b.fcount++
	if b.fcount >= fails {
		b.hcFailed, b.fcount = true, 0
		if log != nil {
			log.Info("proxy_hcheck", "Health check DISABLING %s: %v", b.name, err)
		}
	}
}
