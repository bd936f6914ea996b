// Package reqtimeout is httpdg's reqtimeout_module (Apache's
// mod_reqtimeout): RequestReadTimeout, the time limits and minimum data
// rates for the TLS handshake, the request header and the request body.
//
// Only the configuration side exists so far: the directive is parsed,
// validated with Apache's rules and stored in ServerSettings.
package reqtimeout
