// Package ssl is httpdg's ssl_module (Apache's mod_ssl): SSLEngine, the
// server certificate, key and chain, SSLProtocol, SSLCipherSuite and
// SSLHonorCipherOrder. Files are checked when the config is read: they must
// exist and hold PEM data of the right kind, and a key must match the
// certificate it is paired with.
//
// Only the configuration side exists so far: directives are parsed,
// validated and stored in ServerSettings and DirSettings.
package ssl
