// Package proxy is httpdg's reverse proxy (proxy_module, after Apache's
// mod_proxy): ProxyPass, ProxyPassReverse, ProxyTimeout, ProxyPreserveHost,
// ProxyRequests, <Proxy>/<ProxyMatch> sections, balancers (BalancerMember,
// ProxySet) and mod_proxy_hcheck's health-check parameters. The HTTP
// backend, balancer and health-check code is compiled in with it, so
// proxy_http_module, proxy_balancer_module and proxy_hcheck_module are
// registered here too.
//
// Directives are parsed and validated with Apache's rules and messages
// into ServerSettings and DirSettings (proxy.go, params.go). At run time
// (runtime.go) each config generation builds its workers (a connection
// pool and a state each) and balancers; translate_name maps a request to
// its backend (mapping.go), the handler forwards it (forward.go) through a
// balancer when it names one (balancer.go), and each child runs the health
// checks of the balancer members (hcheck.go) from child_init to
// child_exit. SPEC §8's backend_client_assigned, backend_response_received
// and end_proxy_request hooks run around each exchange. docs/proxy.md is
// the user's guide.
package proxy
