// Package authz is httpdg's authorization module (authz_core_module, after
// Apache's mod_authz_core): the Require directive with its providers (all,
// env, method, ip, host, forward-dns, local, user, valid-user, group), the
// <RequireAll>, <RequireAny> and <RequireNone> containers and AuthMerging.
// The providers of mod_authz_host and mod_authz_user are compiled in with
// it, so authz_host_module and authz_user_module are registered here too.
//
// Only the configuration side exists so far: directives are parsed,
// validated with Apache's rules and stored in DirSettings.
package authz
