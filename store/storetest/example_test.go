package storetest_test

import (
	"testing"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
	"github.com/lintelhq/lintel/store/storetest"
)

// A backend's test file runs the suite and the benchmarks with a function
// that makes a new, empty store. (Run needs the *testing.T of a real test,
// so this example is compiled but not run; store/memory, store/file and
// store/postgres run exactly this.)
func ExampleRun() {
	newStore := func(tb testing.TB) store.Store { return memory.New() }

	_ = func(t *testing.T) { // func TestConformance(t *testing.T)
		storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
	}
	_ = func(b *testing.B) { // func BenchmarkStore(b *testing.B)
		storetest.Bench(b, func(b *testing.B) store.Store { return newStore(b) })
	}
}
