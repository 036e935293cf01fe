package driver_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync/atomic"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
	"github.com/lintelhq/lintel/store/memory"
)

// countingDriver wraps another driver and counts the write transactions
// that commit. A driver wrapped this way keeps only what it declares: this
// one hides the optional interfaces of the driver inside (store.DB then
// reads counters with a View), which a wrapper that needs them would
// forward.
type countingDriver struct {
	driver.Driver
	commits atomic.Int64
}

func (d *countingDriver) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := d.Driver.Begin(ctx, opts)
	if err != nil || !opts.Writable {
		return tx, err
	}
	return countingTx{Tx: tx, d: d}, nil
}

type countingTx struct {
	driver.Tx
	d *countingDriver
}

func (t countingTx) Commit() error {
	err := t.Tx.Commit()
	if err == nil {
		t.d.commits.Add(1)
	}
	return err
}

// A driver around another one, under store.Open: the store checks every
// call before the driver sees it and rolls back what fails, so the
// wrapper sees only commits that happen.
func Example() {
	d := &countingDriver{Driver: memory.NewDriver()}
	st := store.Open(d, nil)
	defer st.Close()
	ctx := context.Background()
	bucket := []byte("b")
	err := st.Update(ctx, func(tx store.Tx) error { return tx.CreateBucketIfNotExists(bucket) })
	if err != nil {
		log.Fatal(err)
	}
	boom := errors.New("boom")
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put(bucket, []byte("k"), []byte("v")); err != nil {
			return err
		}
		return boom // rolled back: no commit
	})
	if !errors.Is(err, boom) {
		log.Fatal(err)
	}
	err = st.Update(ctx, func(tx store.Tx) error { return tx.Put(bucket, nil, []byte("v")) })
	if !errors.Is(err, store.ErrInvalidName) { // refused by the store, not the driver
		log.Fatal(err)
	}
	fmt.Println("commits:", d.commits.Load())
	// Output: commits: 1
}

// DecodeCounter reads a counter as store.GetUint64 does, for a driver that
// reads counters itself (driver.CounterReader).
func ExampleDecodeCounter() {
	n, err := driver.DecodeCounter([]byte("meta"), []byte("generation"), []byte{0, 0, 0, 0, 0, 0, 1, 0})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
	_, err = driver.DecodeCounter([]byte("meta"), []byte("generation"), []byte("short"))
	fmt.Println(err)
	// Output:
	// 256
	// store: "meta"/"generation" holds 5 bytes, not a counter: store: malformed value
}
