// Package proxy is httpdg's reverse proxy (proxy_module, after Apache's
// mod_proxy): ProxyPass, ProxyPassReverse, ProxyTimeout, ProxyPreserveHost,
// ProxyRequests, <Proxy>/<ProxyMatch> sections, balancers (BalancerMember,
// ProxySet) and mod_proxy_hcheck's health-check parameters. The HTTP
// backend, balancer and health-check code is compiled in with it, so
// proxy_http_module, proxy_balancer_module and proxy_hcheck_module are
// registered here too.
//
// Only the configuration side exists so far: directives are parsed,
// validated with Apache's rules and messages, and stored in ServerSettings
// and DirSettings.
package proxy
