// Package authz is httpdg's authorization module (authz_core_module, after
// Apache's mod_authz_core): the Require directive with its providers (all,
// env, method, ip, host, forward-dns, local, user, valid-user, group), the
// <RequireAll>, <RequireAny> and <RequireNone> containers and AuthMerging.
// The providers of mod_authz_host and mod_authz_user are compiled in with
// it, so authz_host_module and authz_user_module are registered here too.
//
// access_checker and auth_checker evaluate the merged rules with Apache
// 2.4's logic (apply_authz_sections, AuthMerging); AuthGroupFile
// (authz_groupfile_module) backs Require group.
package authz
