package authz

import (
	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// GroupModuleName is the identifier of mod_authz_groupfile's module, whose
// AuthGroupFile backs "Require group".
const GroupModuleName = "authz_groupfile_module"

// GroupSettings are the authz_groupfile settings of a per-directory
// section.
type GroupSettings struct {
	GroupFile string // AuthGroupFile, absolute
}

func init() {
	phases.RegisterModule(&phases.Module{Name: GroupModuleName, Source: "mod_authz_groupfile.c", Directives: []*config.Directive{
		{Name: "AuthGroupFile", Form: config.Take1, Contexts: config.DirHtaccess, Built: true,
			Help: "the file listing groups and their members (\"group: user user ...\"), relative to ServerRoot",
			Handler: func(c *config.Cmd) error {
				config.DirConf[GroupSettings](c, GroupModuleName).GroupFile = c.Path(c.Args[0])
				return nil
			}},
	}})
}
