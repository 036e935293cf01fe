package storetest_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
	"github.com/lintelhq/lintel/store/memory"
	"github.com/lintelhq/lintel/store/storetest"
)

// A driver's test file runs the suite and the benchmarks with a function
// that makes a new driver over new, empty data; store/memory, store/file
// and store/postgres run exactly this. (Run needs the *testing.T of a real
// test, so this example only shows the two functions, and checks that the
// driver it would test makes a working store.)
func ExampleRun() {
	newDriver := func(testing.TB) driver.Driver { return memory.NewDriver() }

	_ = func(t *testing.T) { // func TestConformance(t *testing.T)
		storetest.Run(t, func(t *testing.T) driver.Driver { return newDriver(t) })
	}
	_ = func(b *testing.B) { // func BenchmarkStore(b *testing.B)
		storetest.Bench(b, func(b *testing.B) driver.Driver { return newDriver(b) })
	}

	s := store.Open(newDriver(nil), nil)
	defer s.Close()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.CreateBucketIfNotExists([]byte("conformance"))
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("the driver under test makes a store")
	// Output: the driver under test makes a store
}
