package phasestest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/httpdg/httpdg/config"
	"github.com/httpdg/httpdg/phases"
)

// Child is one generation of a config run in the test process as a child
// runs it: open_logs and post_config, then child_init; Exit (also run when
// the test ends) runs child_exit and clears the generation's pools.
type Child struct {
	Root   string // the ServerRoot
	LC     *phases.Lifecycle
	Pchild *phases.Pool
	once   sync.Once
}

// StartChild runs cfg's generation (loaded under root) and child_init.
func StartChild(t testing.TB, cfg *config.Config, root string) *Child {
	t.Helper()
	lc := phases.NewLifecycle(func() (*config.Config, error) { return cfg, nil })
	lc.Process.InChild = true
	if err := lc.RunGeneration(); err != nil {
		t.Fatal(err)
	}
	c := &Child{Root: root, LC: lc, Pchild: lc.ChildInit()}
	t.Cleanup(c.Exit)
	return c
}

// Exit runs child_exit and destroys the generation's pools, once.
func (c *Child) Exit() {
	c.once.Do(func() {
		c.LC.ChildExit(c.Pchild)
		c.LC.Pconf.Clear()
		c.LC.Plog.Clear()
	})
}

// ErrorLog is the generation's logs/error_log so far.
func (c *Child) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(c.Root, "logs", "error_log"))
	return string(b)
}
