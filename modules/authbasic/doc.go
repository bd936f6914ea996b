// Package authbasic is httpdg's HTTP Basic authentication: Apache's
// mod_auth_basic (auth_basic_module: AuthBasicProvider) together with the
// parts of mod_authn_core (authn_core_module: AuthType, AuthName) and
// mod_authn_file (authn_file_module: AuthUserFile, htpasswd files) it
// needs. Each directive is declared by the module Apache declares it in, so
// -L and <IfModule> read as they do with Apache.
//
// Only the configuration side exists so far: directives are parsed,
// validated and stored in DirSettings.
package authbasic
