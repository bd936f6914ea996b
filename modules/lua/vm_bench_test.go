package lua

import (
	"testing"

	"github.com/httpdg/httpdg/config"
)

func BenchmarkNewVM(b *testing.B) {
	rt := newRuntime(&config.Config{ServerRoot: "/tmp"})
	for i := 0; i < b.N; i++ {
		v := rt.newVM("/tmp/x.lua", true, false, nil)
		v.L.Close()
	}
}
