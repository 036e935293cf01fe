// Package storetest is the conformance suite of package store: one set of
// tests and benchmarks that every driver runs under the portable store.DB,
// in the manner of go-cloud's drivertest. A driver passes when [Run]
// passes; nothing else in Lintel may assume more of a store than this
// suite checks.
//
// [Run] checks, as subtests: buckets (created once, kept, not made by a
// View or a rolled-back Update), CRUD, every sentinel error of package
// store (ErrNotFound, ErrBucketNotFound, ErrReadOnly inside View,
// ErrInvalidName, ErrTxDone for every method of a Tx used after its
// function returned, ErrClosed after Close), ordered iteration over
// arbitrary bytes, prefix scans and ScanRange with ErrStopScan and
// callback errors, that Put copies its arguments, read-your-writes,
// rollback when fn returns an error or panics (the panic re-raised, in an
// Update and in a View), isolation (concurrent readers checking an
// invariant across keys written by concurrent writers, with pauses inside
// both, see only whole committed states and no update is lost; run it with
// -race), context cancellation (before the start, while another Update
// runs, during fn), that Close waits for transactions in progress, that a
// transaction begun inside another after Close began returns ErrClosed at
// once instead of deadlocking, that an Update whose commit fails with an
// error the driver calls retryable runs again (a fake driver around the
// one under test makes the conflicts) a bounded number of times, an 8 MiB
// value, 50,000 keys, writes to one bucket from a scan of another,
// counters and ReadCounter, DecrementIf (see [DecrementIf]), the JSON
// helpers, and 150 seeded random transactions (puts, deletes, reads, scans
// and bucket creations over keys made of a few edge bytes, one in five
// rolled back) compared step by step with a plain map. Its own tests run it
// against drivers broken on purpose (no atomicity, no snapshot for
// readers, no copy in Put) to show that the checks of atomicity,
// isolation, retries and copying can fail.
//
// [Bench] measures an empty View, a point read, a prefix scan of 100 keys
// among 10,000, and commits of 1, of 10,000 ascending and of 10,000 random
// puts, through store.DB.
//
// A driver's test file needs two functions, each given a function that
// returns a new driver over new, empty data. For example, a PostgreSQL
// driver whose tests find their server in an environment variable:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) driver.Driver {
//			url := os.Getenv("LINTEL_POSTGRES_URL")
//			if url == "" {
//				t.Skip("no PostgreSQL server")
//			}
//			d, err := postgres.OpenDriver(context.Background(), url, nil) // a new, empty schema
//			require.NoError(t, err)
//			return d
//		})
//	}
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.Bench(b, func(b *testing.B) driver.Driver { ... })
//	}
//
// newDriver is called once per subtest. The suite makes a store.DB of the
// driver and closes it (which closes the driver) when the subtest ends,
// before the cleanups newDriver registered with t.Cleanup run, so a
// backend may drop its schema there, with a connection of its own; some
// subtests close the store themselves earlier. A backend that cannot
// start, such as a database server that is not there, skips inside
// newDriver.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
)

var (
	bucketA = []byte("a")
	bucketB = []byte("b")
)

// Run runs the whole conformance suite against the drivers newDriver
// makes.
func Run(t *testing.T, newDriver func(t *testing.T) driver.Driver) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *store.DB)
	}{
		{"Buckets", testBuckets},
		{"CRUD", testCRUD},
		{"Errors", testErrors},
		{"ReadOnlyView", testReadOnlyView},
		{"TxAfterEnd", testTxAfterEnd},
		{"PutCopiesArguments", testPutCopies},
		{"OrderedScan", testOrderedScan},
		{"PrefixScan", testPrefixScan},
		{"ScanRange", testScanRange},
		{"ScanStopAndError", testScanStop},
		{"ReadYourWrites", testReadYourWrites},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"PanicInView", testPanicInView},
		{"Isolation", testIsolation},
		{"ContextCanceledBefore", testContextBefore},
		{"ContextCanceledDuring", testContextDuring},
		{"ContextCanceledWhileWaiting", testContextWaiting},
		{"CloseWaitsForTransactions", testCloseWaits},
		{"NestedAfterCloseBegan", testNestedAfterClose},
		{"UseAfterClose", testUseAfterClose},
		{"LargeValue", testLargeValue},
		{"ManyKeys", testManyKeys},
		{"ScanWhileWritingAnotherBucket", testScanAndWrite},
		{"RandomTransactionsMatchModel", testModel},
		{"Counters", testCounters},
		{"DecrementIf", func(t *testing.T, s *store.DB) { DecrementIf(t, s, s) }},
		{"JSON", testJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t, newDriver(t), nil))
		})
	}
	t.Run("RetryOnConflict", func(t *testing.T) { testRetry(t, newDriver) })
}

// open makes a store of d and closes it at cleanup, before the cleanups
// registered earlier (those of newDriver).
func open(tb testing.TB, d driver.Driver, opts *store.Options) *store.DB {
	s := store.Open(d, opts)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// bucketExists reports whether a transaction sees the bucket.
func bucketExists(t *testing.T, tx store.Tx, name []byte) bool {
	t.Helper()
	err := tx.Scan(name, nil, func(k, v []byte) error { return store.ErrStopScan })
	if errors.Is(err, store.ErrBucketNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), fn))
}

func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	require.NoError(t, s.View(context.Background(), fn))
}

func createBuckets(t *testing.T, s store.Store, names ...[]byte) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, n := range names {
			if err := tx.CreateBucketIfNotExists(n); err != nil {
				return err
			}
		}
		return nil
	})
}

// scanned returns the keys and values a scan visits, copied, and its error.
func scanned(scan func(fn func(k, v []byte) error) error) (keys, values []string, err error) {
	err = scan(func(k, v []byte) error {
		keys = append(keys, string(k))
		values = append(values, string(v))
		return nil
	})
	return keys, values, err
}

// collect is scanned for a scan that must succeed.
func collect(t *testing.T, scan func(fn func(k, v []byte) error) error) (keys, values []string) {
	t.Helper()
	keys, values, err := scanned(scan)
	require.NoError(t, err)
	return keys, values
}

func testBuckets(t *testing.T, s *store.DB) {
	odd := []byte{0x00, 0xff, '/'}
	view(t, s, func(tx store.Tx) error {
		assert.False(t, bucketExists(t, tx, bucketA))
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		assert.False(t, bucketExists(t, tx, bucketA))
		require.NoError(t, tx.CreateBucketIfNotExists(bucketA))
		assert.True(t, bucketExists(t, tx, bucketA), "a transaction sees the bucket it made")
		require.NoError(t, tx.Put(bucketA, []byte("k"), []byte("v")))
		require.NoError(t, tx.CreateBucketIfNotExists(bucketA), "a second creation is harmless")
		require.NoError(t, tx.CreateBucketIfNotExists(odd))
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		require.NoError(t, tx.CreateBucketIfNotExists(bucketA))
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		v, err := tx.Get(bucketA, []byte("k"))
		require.NoError(t, err)
		assert.Equal(t, "v", string(v), "creating an existing bucket keeps its keys")
		assert.True(t, bucketExists(t, tx, odd), "any bytes name a bucket")
		assert.False(t, bucketExists(t, tx, []byte("c")))
		return nil
	})
}

func testCRUD(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA, bucketB)
	update(t, s, func(tx store.Tx) error {
		require.NoError(t, tx.Put(bucketA, []byte("k1"), []byte("v1")))
		require.NoError(t, tx.Put(bucketA, []byte("k2"), []byte("v2")))
		require.NoError(t, tx.Put(bucketB, []byte("k1"), []byte("other bucket")))
		require.NoError(t, tx.Put(bucketA, []byte("empty"), nil))
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		v, err := tx.Get(bucketA, []byte("k1"))
		require.NoError(t, err)
		assert.Equal(t, "v1", string(v))
		v, err = tx.Get(bucketB, []byte("k1"))
		require.NoError(t, err)
		assert.Equal(t, "other bucket", string(v))
		v, err = tx.Get(bucketA, []byte("empty"))
		require.NoError(t, err)
		assert.Empty(t, v)
		_, err = tx.Get(bucketA, []byte("missing"))
		assert.ErrorIs(t, err, store.ErrNotFound)
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		require.NoError(t, tx.Put(bucketA, []byte("k1"), []byte("v1'")))
		require.NoError(t, tx.Delete(bucketA, []byte("k2")))
		require.NoError(t, tx.Delete(bucketA, []byte("never there")))
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		v, err := tx.Get(bucketA, []byte("k1"))
		require.NoError(t, err)
		assert.Equal(t, "v1'", string(v))
		_, err = tx.Get(bucketA, []byte("k2"))
		assert.ErrorIs(t, err, store.ErrNotFound)
		return nil
	})
}

func testErrors(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	missing := []byte("missing")
	update(t, s, func(tx store.Tx) error {
		_, err := tx.Get(missing, []byte("k"))
		assert.ErrorIs(t, err, store.ErrBucketNotFound)
		assert.ErrorIs(t, tx.Put(missing, []byte("k"), []byte("v")), store.ErrBucketNotFound)
		assert.ErrorIs(t, tx.Delete(missing, []byte("k")), store.ErrBucketNotFound)
		assert.ErrorIs(t, tx.Scan(missing, nil, func(k, v []byte) error { return nil }), store.ErrBucketNotFound)
		assert.ErrorIs(t, tx.ScanRange(missing, nil, nil, func(k, v []byte) error { return nil }), store.ErrBucketNotFound)
		assert.ErrorIs(t, tx.Put(bucketA, nil, []byte("v")), store.ErrInvalidName)
		assert.ErrorIs(t, tx.Put(bucketA, []byte{}, []byte("v")), store.ErrInvalidName)
		assert.ErrorIs(t, tx.Delete(bucketA, nil), store.ErrInvalidName)
		assert.ErrorIs(t, tx.Put(nil, []byte("k"), []byte("v")), store.ErrInvalidName)
		assert.ErrorIs(t, tx.Delete([]byte{}, []byte("k")), store.ErrInvalidName)
		assert.ErrorIs(t, tx.CreateBucketIfNotExists(nil), store.ErrInvalidName)
		assert.ErrorIs(t, tx.CreateBucketIfNotExists([]byte{}), store.ErrInvalidName)
		_, err = tx.Get(nil, []byte("k"))
		assert.ErrorIs(t, err, store.ErrInvalidName)
		assert.ErrorIs(t, tx.Scan(nil, nil, func(k, v []byte) error { return nil }), store.ErrInvalidName)
		assert.ErrorIs(t, tx.ScanRange([]byte{}, nil, nil, func(k, v []byte) error { return nil }), store.ErrInvalidName)
		// No key is empty, so an empty one is not found (or refused).
		_, err = tx.Get(bucketA, nil)
		if !errors.Is(err, store.ErrNotFound) {
			assert.ErrorIs(t, err, store.ErrInvalidName)
		}
		return nil
	})
}

func testReadOnlyView(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	view(t, s, func(tx store.Tx) error {
		assert.ErrorIs(t, tx.Put(bucketA, []byte("k"), []byte("v")), store.ErrReadOnly)
		assert.ErrorIs(t, tx.Delete(bucketA, []byte("k")), store.ErrReadOnly)
		assert.ErrorIs(t, tx.CreateBucketIfNotExists(bucketB), store.ErrReadOnly)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		assert.False(t, bucketExists(t, tx, bucketB))
		return nil
	})
}

func testTxAfterEnd(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	var leaked store.Tx
	update(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	assert.ErrorIs(t, leaked.Put(bucketA, []byte("k"), []byte("v")), store.ErrTxDone)
	_, err := leaked.Get(bucketA, []byte("k"))
	assert.ErrorIs(t, err, store.ErrTxDone)
	assert.ErrorIs(t, leaked.Delete(bucketA, []byte("k")), store.ErrTxDone)
	assert.ErrorIs(t, leaked.CreateBucketIfNotExists(bucketB), store.ErrTxDone)
	assert.ErrorIs(t, leaked.ScanRange(bucketA, nil, nil, func(k, v []byte) error { return nil }), store.ErrTxDone)
	view(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	_, err = leaked.Get(bucketA, []byte("k"))
	assert.ErrorIs(t, err, store.ErrTxDone)
	assert.ErrorIs(t, leaked.Scan(bucketA, nil, func(k, v []byte) error { return nil }), store.ErrTxDone)
	assert.ErrorIs(t, leaked.Put(bucketA, []byte("k"), []byte("v")), store.ErrTxDone, "ended comes before read-only")
	// A transaction that was rolled back has ended too.
	boom := errors.New("boom")
	require.ErrorIs(t, s.Update(context.Background(), func(tx store.Tx) error { leaked = tx; return boom }), boom)
	assert.ErrorIs(t, leaked.Put(bucketA, []byte("k"), []byte("v")), store.ErrTxDone)
	assert.ErrorIs(t, leaked.CreateBucketIfNotExists(bucketB), store.ErrTxDone)
	// So has one whose function panicked.
	assert.Panics(t, func() {
		_ = s.Update(context.Background(), func(tx store.Tx) error { leaked = tx; panic("boom") })
	})
	assert.ErrorIs(t, leaked.Put(bucketA, []byte("k"), []byte("v")), store.ErrTxDone)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Get(bucketA, []byte("k"))
		assert.ErrorIs(t, err, store.ErrNotFound, "a Tx used after its end must not write")
		return nil
	})
}

func testPutCopies(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	key, val := []byte("key"), []byte("value")
	update(t, s, func(tx store.Tx) error {
		require.NoError(t, tx.Put(bucketA, key, val))
		key[0], val[0] = 'X', 'X'
		v, err := tx.Get(bucketA, []byte("key"))
		require.NoError(t, err)
		assert.Equal(t, "value", string(v), "Put must copy the value")
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		v, err := tx.Get(bucketA, []byte("key"))
		require.NoError(t, err, "Put must copy the key")
		assert.Equal(t, "value", string(v))
		return nil
	})
}

func testOrderedScan(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	in := []string{"b", "a", "\x00", "ab", "\xff\xff", "ba", "aa", "a\x00", "Z"}
	update(t, s, func(tx store.Tx) error {
		for _, k := range in {
			require.NoError(t, tx.Put(bucketA, []byte(k), []byte("v"+k)))
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		keys, values := collect(t, func(fn func(k, v []byte) error) error { return tx.Scan(bucketA, nil, fn) })
		assert.Equal(t, []string{"\x00", "Z", "a", "a\x00", "aa", "ab", "b", "ba", "\xff\xff"}, keys)
		for i, k := range keys {
			assert.Equal(t, "v"+k, values[i])
		}
		return nil
	})
}

func testPrefixScan(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA, bucketB)
	update(t, s, func(tx store.Tx) error {
		for _, k := range []string{"user/1", "user/2", "user/10", "userx", "use", "id/1", "\xff\xffa", "\xff\xff"} {
			require.NoError(t, tx.Put(bucketA, []byte(k), []byte(k)))
		}
		require.NoError(t, tx.Put(bucketB, []byte("user/3"), []byte("elsewhere")))
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		keys, _ := collect(t, func(fn func(k, v []byte) error) error { return tx.Scan(bucketA, []byte("user/"), fn) })
		assert.Equal(t, []string{"user/1", "user/10", "user/2"}, keys)
		keys, _ = collect(t, func(fn func(k, v []byte) error) error { return tx.Scan(bucketA, []byte("\xff\xff"), fn) })
		assert.Equal(t, []string{"\xff\xff", "\xff\xffa"}, keys)
		keys, _ = collect(t, func(fn func(k, v []byte) error) error { return tx.Scan(bucketA, []byte("nope"), fn) })
		assert.Empty(t, keys)
		keys, _ = collect(t, func(fn func(k, v []byte) error) error { return tx.Scan(bucketB, []byte{}, fn) })
		assert.Equal(t, []string{"user/3"}, keys)
		return nil
	})
}

func testScanRange(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	update(t, s, func(tx store.Tx) error {
		for i := range 10 {
			require.NoError(t, tx.Put(bucketA, []byte{byte(i)}, []byte{byte(i)}))
		}
		return nil
	})
	scan := func(tx store.Tx, start, end []byte) []string {
		keys, _ := collect(t, func(fn func(k, v []byte) error) error { return tx.ScanRange(bucketA, start, end, fn) })
		return keys
	}
	view(t, s, func(tx store.Tx) error {
		assert.Equal(t, []string{"\x03", "\x04", "\x05"}, scan(tx, []byte{3}, []byte{6}))
		assert.Equal(t, []string{"\x00", "\x01"}, scan(tx, nil, []byte{2}))
		assert.Equal(t, []string{"\x08", "\x09"}, scan(tx, []byte{8}, nil))
		assert.Len(t, scan(tx, nil, nil), 10)
		assert.Empty(t, scan(tx, []byte{5}, []byte{5}))
		assert.Empty(t, scan(tx, []byte{7}, []byte{2}))
		assert.Equal(t, []string{"\x04"}, scan(tx, []byte{3, 0}, []byte{4, 0}))
		return nil
	})
}

func testScanStop(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	update(t, s, func(tx store.Tx) error {
		for i := range 5 {
			require.NoError(t, tx.Put(bucketA, []byte{'k', byte('0' + i)}, nil))
		}
		return nil
	})
	boom := errors.New("boom")
	view(t, s, func(tx store.Tx) error {
		n := 0
		require.NoError(t, tx.Scan(bucketA, nil, func(k, v []byte) error {
			n++
			if n == 2 {
				return store.ErrStopScan
			}
			return nil
		}))
		assert.Equal(t, 2, n)
		n = 0
		err := tx.ScanRange(bucketA, nil, nil, func(k, v []byte) error {
			n++
			if n == 3 {
				return fmt.Errorf("wrapped: %w", boom)
			}
			return nil
		})
		assert.ErrorIs(t, err, boom)
		assert.Equal(t, 3, n)
		return nil
	})
}

func testReadYourWrites(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	update(t, s, func(tx store.Tx) error {
		require.NoError(t, tx.Put(bucketA, []byte("x"), []byte("1")))
		v, err := tx.Get(bucketA, []byte("x"))
		require.NoError(t, err)
		assert.Equal(t, "1", string(v))
		require.NoError(t, tx.CreateBucketIfNotExists([]byte("fresh")))
		require.NoError(t, tx.Put([]byte("fresh"), []byte("y"), []byte("2")))
		keys, _ := collect(t, func(fn func(k, v []byte) error) error { return tx.Scan([]byte("fresh"), nil, fn) })
		assert.Equal(t, []string{"y"}, keys)
		require.NoError(t, tx.Delete(bucketA, []byte("x")))
		_, err = tx.Get(bucketA, []byte("x"))
		assert.ErrorIs(t, err, store.ErrNotFound)
		return nil
	})
}

// seedOne writes key "k" = "before" in bucketA.
func seedOne(t *testing.T, s store.Store) {
	createBuckets(t, s, bucketA)
	update(t, s, func(tx store.Tx) error { return tx.Put(bucketA, []byte("k"), []byte("before")) })
}

// assertUntouched checks that only seedOne's state is there.
func assertUntouched(t *testing.T, s store.Store) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		v, err := tx.Get(bucketA, []byte("k"))
		require.NoError(t, err)
		assert.Equal(t, "before", string(v))
		_, err = tx.Get(bucketA, []byte("new"))
		assert.ErrorIs(t, err, store.ErrNotFound)
		assert.False(t, bucketExists(t, tx, []byte("made")), "a bucket made by a rolled-back Update")
		return nil
	})
}

// dirty makes every kind of change, to be rolled back.
func dirty(tx store.Tx) error {
	if err := tx.Put(bucketA, []byte("k"), []byte("after")); err != nil {
		return err
	}
	if err := tx.Put(bucketA, []byte("new"), []byte("x")); err != nil {
		return err
	}
	return tx.CreateBucketIfNotExists([]byte("made"))
}

func testRollbackOnError(t *testing.T, s *store.DB) {
	seedOne(t, s)
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := dirty(tx); err != nil {
			return err
		}
		return boom
	})
	assert.ErrorIs(t, err, boom)
	assertUntouched(t, s)
	// Deleting is rolled back too.
	err = s.Update(context.Background(), func(tx store.Tx) error {
		require.NoError(t, tx.Delete(bucketA, []byte("k")))
		return fmt.Errorf("wrapped: %w", boom)
	})
	assert.ErrorIs(t, err, boom)
	assertUntouched(t, s)
}

func testRollbackOnPanic(t *testing.T, s *store.DB) {
	seedOne(t, s)
	assert.PanicsWithValue(t, "boom", func() {
		_ = s.Update(context.Background(), func(tx store.Tx) error {
			if err := dirty(tx); err != nil {
				return err
			}
			panic("boom")
		})
	})
	assertUntouched(t, s)
	// The store is still usable: the writer was released.
	update(t, s, func(tx store.Tx) error { return tx.Put(bucketA, []byte("k"), []byte("before")) })
	assertUntouched(t, s)
}

// testIsolation runs two writers that each move one unit from key x to key
// y per Update, keeping x+y constant, while readers check the sum. A reader
// that saw part of an Update, or a View that saw commits made while it ran
// (readers pause between the two reads), would see another sum; a lost
// update between the concurrent writers would leave y short.
func testIsolation(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	const (
		total     = 1000
		writers   = 2
		perWriter = 100
	)
	put := func(tx store.Tx, k string, n int) error {
		return tx.Put(bucketA, []byte(k), fmt.Appendf(nil, "%d", n))
	}
	get := func(tx store.Tx, k string) (int, error) {
		v, err := tx.Get(bucketA, []byte(k))
		if err != nil {
			return 0, err
		}
		var n int
		_, err = fmt.Sscanf(string(v), "%d", &n)
		return n, err
	}
	update(t, s, func(tx store.Tx) error {
		if err := put(tx, "x", total); err != nil {
			return err
		}
		return put(tx, "y", 0)
	})
	ctx := context.Background()
	var stop atomic.Bool
	var readers, writing sync.WaitGroup
	var reads atomic.Int64
	errs := make(chan error, 8)
	for range 3 {
		readers.Go(func() {
			for i := 0; !stop.Load(); i++ {
				err := s.View(ctx, func(tx store.Tx) error {
					x, err := get(tx, "x")
					if err != nil {
						return err
					}
					if i%4 == 0 {
						time.Sleep(100 * time.Microsecond) // let writers commit meanwhile
					}
					y, err := get(tx, "y")
					if err != nil {
						return err
					}
					if x+y != total {
						return fmt.Errorf("reader saw x=%d y=%d: not one committed state", x, y)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				reads.Add(1)
			}
		})
	}
	for range writers {
		writing.Go(func() {
			for i := range perWriter {
				err := s.Update(ctx, func(tx store.Tx) error {
					x, err := get(tx, "x")
					if err != nil {
						return err
					}
					y, err := get(tx, "y")
					if err != nil {
						return err
					}
					if err := put(tx, "x", x-1); err != nil {
						return err
					}
					if i%10 == 0 {
						time.Sleep(time.Millisecond) // let readers run between the two writes
					}
					return put(tx, "y", y+1)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	writing.Wait()
	stop.Store(true)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Positive(t, reads.Load())
	view(t, s, func(tx store.Tx) error {
		y, err := get(tx, "y")
		require.NoError(t, err)
		assert.Equal(t, writers*perWriter, y, "every writer's change is kept: Updates are serialised")
		return nil
	})
}

func testContextBefore(t *testing.T, s *store.DB) {
	seedOne(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := s.Update(ctx, func(tx store.Tx) error { ran = true; return dirty(tx) })
	assert.ErrorIs(t, err, context.Canceled)
	err = s.View(ctx, func(tx store.Tx) error { ran = true; return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, ran, "fn must not run with a done context")
	assertUntouched(t, s)
}

func testContextDuring(t *testing.T, s *store.DB) {
	seedOne(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := dirty(tx); err != nil {
			return err
		}
		cancel()
		return nil
	})
	assert.ErrorIs(t, err, context.Canceled)
	assertUntouched(t, s)
}

// testContextWaiting cancels an Update's context while another Update is in
// progress. A backend with one writer makes it wait, and it returns the
// context's error; one that runs Updates concurrently (serialisable, not
// one at a time) may have committed it before the cancel. Either way the
// error and the state must agree: nil and the whole Update, or the
// context's error and none of it.
func testContextWaiting(t *testing.T, s *store.DB) {
	seedOne(t, s)
	inFirst, release := make(chan struct{}), make(chan struct{})
	firstErr, secondErr := make(chan error, 1), make(chan error, 1)
	go func() {
		firstErr <- s.Update(context.Background(), func(tx store.Tx) error {
			close(inFirst)
			<-release
			return nil
		})
	}()
	<-inFirst
	ctx, cancel := context.WithCancel(context.Background())
	go func() { secondErr <- s.Update(ctx, dirty) }()
	time.Sleep(20 * time.Millisecond) // the second Update waits for the first, or runs
	cancel()
	close(release)
	require.NoError(t, <-firstErr)
	if err := <-secondErr; err != nil {
		assert.ErrorIs(t, err, context.Canceled)
		assertUntouched(t, s)
		return
	}
	view(t, s, func(tx store.Tx) error {
		v, err := tx.Get(bucketA, []byte("k"))
		require.NoError(t, err)
		assert.Equal(t, "after", string(v), "Update returned nil: all of it is kept")
		assert.True(t, bucketExists(t, tx, []byte("made")))
		return nil
	})
}

// testCloseWaits closes the store while a View and an Update are inside
// their functions: Close must wait for both, and the Update must commit.
func testCloseWaits(t *testing.T, s *store.DB) {
	seedOne(t, s)
	ctx := context.Background()
	inView, inUpdate := make(chan struct{}), make(chan struct{})
	release := make(chan struct{})
	viewErr, updateErr, closeErr := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() {
		viewErr <- s.View(ctx, func(tx store.Tx) error {
			close(inView)
			<-release
			_, err := tx.Get(bucketA, []byte("k"))
			return err
		})
	}()
	go func() {
		updateErr <- s.Update(ctx, func(tx store.Tx) error {
			close(inUpdate)
			<-release
			return tx.Put(bucketA, []byte("k"), []byte("during close"))
		})
	}()
	<-inView
	<-inUpdate
	go func() { closeErr <- s.Close() }()
	select {
	case err := <-closeErr:
		close(release)
		t.Fatalf("Close returned (%v) while transactions were in progress", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	assert.NoError(t, <-viewErr, "a View in progress finishes normally")
	assert.NoError(t, <-updateErr, "an Update in progress commits")
	assert.NoError(t, <-closeErr)
	assert.ErrorIs(t, s.View(ctx, func(tx store.Tx) error { return nil }), store.ErrClosed)
}

func testLargeValue(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	big := bytes.Repeat([]byte("0123456789abcdef"), 512*1024) // 8 MiB
	update(t, s, func(tx store.Tx) error { return tx.Put(bucketA, []byte("big"), big) })
	view(t, s, func(tx store.Tx) error {
		v, err := tx.Get(bucketA, []byte("big"))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(big, v), "8 MiB value round-trips")
		return nil
	})
}

func testManyKeys(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	const n, perTx = 50_000, 5_000
	key := func(i int) []byte { return fmt.Appendf(nil, "key/%08d", i) }
	// Insert in a scrambled order, in several transactions; the scan must
	// still be sorted.
	for first := 0; first < n; first += perTx {
		update(t, s, func(tx store.Tx) error {
			for i := first; i < first+perTx; i++ {
				j := (i * 7919) % n
				if err := tx.Put(bucketA, key(j), key(j)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	view(t, s, func(tx store.Tx) error {
		i := 0
		require.NoError(t, tx.Scan(bucketA, []byte("key/"), func(k, v []byte) error {
			if !bytes.Equal(k, key(i)) || !bytes.Equal(v, key(i)) {
				return fmt.Errorf("position %d holds %q", i, k)
			}
			i++
			return nil
		}))
		assert.Equal(t, n, i)
		return nil
	})
}

// testScanAndWrite writes to one bucket from the callback of a scan of
// another, as a domain package does when it rebuilds an index.
func testScanAndWrite(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA, bucketB)
	const n = 500
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			if err := tx.Put(bucketA, fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "v%04d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		return tx.Scan(bucketA, nil, func(k, v []byte) error {
			return tx.Put(bucketB, v, k) // the index: value -> key
		})
	})
	view(t, s, func(tx store.Tx) error {
		keys, values := collect(t, func(fn func(k, v []byte) error) error { return tx.Scan(bucketB, nil, fn) })
		require.Len(t, keys, n)
		for i := range n {
			assert.Equal(t, fmt.Sprintf("v%04d", i), keys[i])
			assert.Equal(t, fmt.Sprintf("k%04d", i), values[i])
		}
		return nil
	})
}

// testCounters checks GetUint64 and PutUint64 on the backend, and that
// ReadCounter agrees with them after every commit, refuses a value that is
// not a counter, a done context, and any call after Close.
func testCounters(t *testing.T, s *store.DB) {
	ctx := context.Background()
	b, k := []byte("counters"), []byte("n")
	_, err := s.ReadCounter(ctx, b, k)
	require.ErrorIs(t, err, store.ErrBucketNotFound)
	_, err = s.ReadCounter(ctx, nil, k)
	require.ErrorIs(t, err, store.ErrInvalidName)
	createBuckets(t, s, b)
	read := func() uint64 {
		var v uint64
		view(t, s, func(tx store.Tx) (err error) { v, err = store.GetUint64(tx, b, k); return err })
		got, err := s.ReadCounter(ctx, b, k)
		require.NoError(t, err)
		require.Equal(t, v, got, "ReadCounter agrees with a transaction")
		return v
	}
	require.Zero(t, read(), "a missing counter reads 0")
	for i := range uint64(50) {
		update(t, s, func(tx store.Tx) error { return store.PutUint64(tx, b, k, i*1000+7) })
		require.Equal(t, i*1000+7, read())
		update(t, s, func(tx store.Tx) error { return tx.Put(b, []byte("other"), []byte("x")) })
		require.Equal(t, i*1000+7, read(), "a commit that leaves the counter leaves its value")
	}
	update(t, s, func(tx store.Tx) error { return tx.Put(b, k, []byte("short")) })
	view(t, s, func(tx store.Tx) error {
		_, err := store.GetUint64(tx, b, k)
		require.ErrorIs(t, err, store.ErrBadValue)
		return nil
	})
	_, err = s.ReadCounter(ctx, b, k)
	require.ErrorIs(t, err, store.ErrBadValue)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.ReadCounter(canceled, b, k)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, s.Close())
	_, err = s.ReadCounter(ctx, b, k)
	require.ErrorIs(t, err, store.ErrClosed)
}

// testPanicInView: a panic in a View's function is re-raised, and the
// store goes on (its close gate and the driver's transaction were
// released: Close does not wait for ever).
func testPanicInView(t *testing.T, s *store.DB) {
	seedOne(t, s)
	assert.PanicsWithValue(t, "boom", func() {
		_ = s.View(context.Background(), func(tx store.Tx) error {
			_ = tx.Scan(bucketA, nil, func(k, v []byte) error { panic("boom") })
			return nil
		})
	})
	assertUntouched(t, s)
	update(t, s, func(tx store.Tx) error { return tx.Put(bucketA, []byte("k"), []byte("before")) })
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for the View that panicked")
	}
}

// testNestedAfterClose starts Close while a View and an Update are inside
// their functions, which then begin transactions (and make other calls) of
// their own: once Close has begun, each nested call returns ErrClosed at
// once, where a lock-based close gate would deadlock; the outer
// transactions go on and end normally, and only then does Close return.
func testNestedAfterClose(t *testing.T, s *store.DB) {
	seedOne(t, s)
	ctx := context.Background()
	noop := func(store.Tx) error { return nil }
	inView, inUpdate, closeBegan := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var closed atomic.Bool
	nested := func(outer string) {
		assert.ErrorIs(t, s.View(ctx, noop), store.ErrClosed, "a View inside %s", outer)
		assert.ErrorIs(t, s.Update(ctx, noop), store.ErrClosed, "an Update inside %s", outer)
		_, err := s.ReadCounter(ctx, bucketA, []byte("n"))
		assert.ErrorIs(t, err, store.ErrClosed, "ReadCounter inside %s", outer)
		_, err = s.DecrementIf(ctx, bucketA, []byte("g"), 0, bucketA, []byte("n"))
		assert.ErrorIs(t, err, store.ErrClosed, "DecrementIf inside %s", outer)
		assert.ErrorIs(t, s.Raw(ctx, func(driver.Driver) error { return nil }), store.ErrClosed, "Raw inside %s", outer)
		assert.False(t, closed.Load(), "Close returned while %s was in progress", outer)
	}
	viewErr, updateErr, closeErr := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() {
		viewErr <- s.View(ctx, func(tx store.Tx) error {
			close(inView)
			<-closeBegan
			nested("a View")
			_, err := tx.Get(bucketA, []byte("k")) // the View itself goes on
			return err
		})
	}()
	go func() {
		updateErr <- s.Update(ctx, func(tx store.Tx) error {
			close(inUpdate)
			<-closeBegan
			nested("an Update")
			return tx.Put(bucketA, []byte("k"), []byte("committed while closing"))
		})
	}()
	<-inView
	<-inUpdate
	go func() {
		err := s.Close()
		closed.Store(true)
		closeErr <- err
	}()
	// A View works until Close has begun.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		err := s.View(ctx, noop)
		if errors.Is(err, store.ErrClosed) {
			break
		}
		require.NoError(t, err)
		require.True(t, time.Now().Before(deadline), "Close did not begin")
	}
	close(closeBegan)
	assert.NoError(t, <-viewErr, "the View Close waited for ends normally")
	assert.NoError(t, <-updateErr, "the Update Close waited for commits")
	assert.NoError(t, <-closeErr)
	assert.True(t, closed.Load())
}

func testUseAfterClose(t *testing.T, s *store.DB) {
	seedOne(t, s)
	require.NoError(t, s.Close())
	ctx := context.Background()
	assert.ErrorIs(t, s.View(ctx, func(tx store.Tx) error { return nil }), store.ErrClosed)
	assert.ErrorIs(t, s.Update(ctx, func(tx store.Tx) error { return nil }), store.ErrClosed)
	_, err := s.DecrementIf(ctx, bucketA, []byte("g"), 0, bucketA, []byte("k"))
	assert.ErrorIs(t, err, store.ErrClosed)
	assert.ErrorIs(t, s.Raw(ctx, func(driver.Driver) error { return nil }), store.ErrClosed)
	assert.NoError(t, s.Close(), "a second Close is harmless")
}

// testJSON checks GetJSON and PutJSON: a round trip, ErrNotFound and
// ErrBucketNotFound passed through, a value that does not decode, and one
// that does not encode.
func testJSON(t *testing.T, s *store.DB) {
	createBuckets(t, s, bucketA)
	type door struct {
		Name  string `json:"name"`
		Locks []int  `json:"locks"`
	}
	update(t, s, func(tx store.Tx) error {
		require.NoError(t, store.PutJSON(tx, bucketA, []byte("front"), door{"front", []int{1, 2}}))
		require.NoError(t, tx.Put(bucketA, []byte("bad"), []byte(`{"name":`)))
		err := store.PutJSON(tx, bucketA, []byte("chan"), make(chan int))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"chan"`)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		var d door
		require.NoError(t, store.GetJSON(tx, bucketA, []byte("front"), &d))
		assert.Equal(t, door{"front", []int{1, 2}}, d)
		v, err := tx.Get(bucketA, []byte("front"))
		require.NoError(t, err)
		assert.JSONEq(t, `{"name":"front","locks":[1,2]}`, string(v))
		assert.ErrorIs(t, store.GetJSON(tx, bucketA, []byte("missing"), &d), store.ErrNotFound)
		assert.ErrorIs(t, store.GetJSON(tx, []byte("nope"), []byte("front"), &d), store.ErrBucketNotFound)
		err = store.GetJSON(tx, bucketA, []byte("bad"), &d)
		assert.ErrorIs(t, err, store.ErrBadValue)
		assert.Contains(t, err.Error(), `"bad"`)
		_, err = tx.Get(bucketA, []byte("chan"))
		assert.ErrorIs(t, err, store.ErrNotFound, "a value that does not encode is not written")
		return nil
	})
}
