package directory_test

import (
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

func memoryStore() store.Store { return memory.New() }
