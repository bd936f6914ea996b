// Package authbasic is httpdg's HTTP Basic authentication: Apache's
// mod_auth_basic (auth_basic_module: AuthBasicProvider) together with the
// parts of mod_authn_core (authn_core_module: AuthType, AuthName) and
// mod_authn_file (authn_file_module: AuthUserFile, htpasswd files) it
// needs. Each directive is declared by the module Apache declares it in, so
// -L and <IfModule> read as they do with Apache.
//
// check_user_id checks Basic credentials against the AuthUserFile (read on
// every request, as mod_authn_file does): bcrypt (golang.org/x/crypto),
// $apr1$ and $1$ MD5 and {SHA}; other crypt(3) formats answer 500 with a
// log line saying so.
package authbasic
