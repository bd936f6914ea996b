// Package ssl is httpdg's ssl_module (Apache's mod_ssl): SSLEngine, the
// server certificate, key and chain, SSLProtocol, SSLCipherSuite and
// SSLHonorCipherOrder. Files are checked when the config is read: they must
// exist and hold PEM data of the right kind, and a key must match the
// certificate it is paired with. In post_config the module builds the TLS
// configuration of every port that serves TLS (runtime.go).
//
// SSLCipherSuite's OpenSSL cipher string is evaluated (ciphers.go) over the
// TLS 1.0-1.2 suites Go's crypto/tls implements; Go's insecure suites only
// when named explicitly. A server without SSLCipherSuite inherits the main
// server's; with none at all Go's default suites apply. When the servers
// of a port have different sets, SNI (ServerName/ServerAlias) picks the
// set: the port's tls.Config has GetConfigForClient returning the chosen
// server's config, and, served as it is, offers the union of the sets
// with VerifyConnection refusing a suite outside the SNI server's set.
//
// What Go does not let a server do is not pretended: TLS 1.3 suites
// ("SSLCipherSuite TLSv1.3") are Go's own (a warning names the ones a
// list leaves out that stay enabled); SSLHonorCipherOrder is accepted but
// the order among the permitted suites is always Go's (crypto/tls ignores
// PreferServerCipherSuites since Go 1.17); a per-directory SSLCipherSuite
// (renegotiation in Apache) is stored and warned about, not applied.
package ssl
