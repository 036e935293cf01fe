package memory_test

import (
	"testing"

	"github.com/lintelhq/lintel/store/driver"
	"github.com/lintelhq/lintel/store/memory"
	"github.com/lintelhq/lintel/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) driver.Driver { return memory.NewDriver() })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) driver.Driver { return memory.NewDriver() })
}
