package postgres_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/postgres"
)

// decrementer is the optional store interface this package proposes for
// package store (see DecrementIf); testDecrementIf is written against it
// so that it can move to storetest as it is.
type decrementer interface {
	DecrementIf(ctx context.Context, guardBucket, guardKey []byte, guard uint64, bucket, key []byte) (uint64, error)
}

var _ decrementer = (*postgres.Store)(nil)

func TestDecrementIf(t *testing.T) {
	schema := newSchema()
	a, b := openStore(t, schema), openStore(t, schema)
	testDecrementIf(t, a, b, postgres.ErrGuardChanged)
}

// testDecrementIf checks DecrementIf on two stores over the same data (a
// and b may be the same store): its answers against a plain reading of
// the contract, its errors, that concurrent callers take exactly the
// units there are, and that a guard changed by a committed Update is seen
// by the very next call on the other store.
func testDecrementIf(t *testing.T, a, b store.Store, errGuard error) {
	ctx := context.Background()
	meta, gen, counts := []byte("meta"), []byte("generation"), []byte("counts")
	da, db := a.(decrementer), b.(decrementer)
	put := func(s store.Store, bucket, key, value []byte) {
		t.Helper()
		require.NoError(t, s.Update(ctx, func(tx store.Tx) error { return tx.Put(bucket, key, value) }))
	}
	get := func(key string) []byte {
		var v []byte
		require.NoError(t, a.View(ctx, func(tx store.Tx) (err error) {
			v, err = tx.Get(counts, []byte(key))
			v = append([]byte(nil), v...)
			return err
		}))
		return v
	}
	u32 := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	u64 := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

	_, err := da.DecrementIf(ctx, meta, gen, 0, counts, []byte("k"))
	require.ErrorIs(t, err, store.ErrBucketNotFound)
	require.NoError(t, a.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateBucket(meta); err != nil {
			return err
		}
		return tx.CreateBucket(counts)
	}))
	_, err = da.DecrementIf(ctx, meta, gen, 0, counts, []byte("missing"))
	require.ErrorIs(t, err, store.ErrNotFound, "a missing count")
	_, err = da.DecrementIf(ctx, meta, gen, 0, []byte("nope"), []byte("k"))
	require.ErrorIs(t, err, store.ErrBucketNotFound)

	// A missing guard counter reads 0, as store.GetUint64 reads it.
	put(a, counts, []byte("four"), u32(3))
	n, err := db.DecrementIf(ctx, meta, gen, 0, counts, []byte("four"))
	require.NoError(t, err)
	assert.Equal(t, uint64(3), n, "the count before")
	assert.Equal(t, u32(2), get("four"), "4 bytes stay 4 bytes")
	_, err = da.DecrementIf(ctx, meta, gen, 1, counts, []byte("four"))
	require.ErrorIs(t, err, errGuard)
	assert.Equal(t, u32(2), get("four"), "nothing taken when the guard differs")

	put(a, meta, gen, u64(41))
	_, err = db.DecrementIf(ctx, meta, gen, 0, counts, []byte("four"))
	require.ErrorIs(t, err, errGuard, "b's very next call sees a's committed guard")
	for want := uint64(2); ; want-- {
		n, err := db.DecrementIf(ctx, meta, gen, 41, counts, []byte("four"))
		require.NoError(t, err)
		require.Equal(t, want, n)
		if n == 0 {
			break
		}
	}
	assert.Equal(t, u32(0), get("four"), "never below zero")

	// Edge values of both widths.
	for _, c := range []struct {
		name        string
		value, next []byte
		before      uint64
	}{
		{"u32top", u32(0x80000000), u32(0x7fffffff), 0x80000000},
		{"u32max", u32(0xffffffff), u32(0xfffffffe), 0xffffffff},
		{"u64top", u64(1 << 63), u64(1<<63 - 1), 1 << 63},
		{"u64max", u64(^uint64(0)), u64(^uint64(0) - 1), ^uint64(0)},
		{"u64one", u64(1), u64(0), 1},
	} {
		put(b, counts, []byte(c.name), c.value)
		n, err := da.DecrementIf(ctx, meta, gen, 41, counts, []byte(c.name))
		require.NoError(t, err, c.name)
		assert.Equal(t, c.before, n, c.name)
		assert.Equal(t, c.next, get(c.name), c.name)
	}
	put(a, counts, []byte("odd"), []byte("abc"))
	_, err = da.DecrementIf(ctx, meta, gen, 41, counts, []byte("odd"))
	require.ErrorIs(t, err, store.ErrBadValue)
	put(a, meta, gen, []byte("short"))
	_, err = da.DecrementIf(ctx, meta, gen, 41, counts, []byte("four"))
	require.ErrorIs(t, err, store.ErrBadValue, "a guard that is not a counter")
	put(a, meta, gen, u64(42))

	// Concurrent callers on both stores take exactly the units there are.
	const units, callers, tries = 100, 16, 12
	put(a, counts, []byte("passes"), u32(units))
	var taken atomic.Int64
	var wg sync.WaitGroup
	for c := range callers {
		d := da
		if c%2 == 1 {
			d = db
		}
		wg.Go(func() {
			for range tries {
				n, err := d.DecrementIf(ctx, meta, gen, 42, counts, []byte("passes"))
				if !assert.NoError(t, err) {
					return
				}
				if n > 0 {
					taken.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(units), taken.Load(), "every unit taken once, none more")
	assert.Equal(t, u32(0), get("passes"))

	// The guard changing while callers run: each call either takes a unit
	// under the old guard or reports the change; none takes one after.
	put(a, counts, []byte("passes"), u32(1000))
	var before, after atomic.Int64
	for c := range callers {
		d := da
		if c%2 == 1 {
			d = db
		}
		wg.Go(func() {
			for range tries {
				n, err := d.DecrementIf(ctx, meta, gen, 42, counts, []byte("passes"))
				switch {
				case errors.Is(err, errGuard):
					after.Add(1)
				case assert.NoError(t, err) && n > 0:
					before.Add(1)
				}
			}
		})
	}
	require.NoError(t, b.Update(ctx, func(tx store.Tx) error { return store.PutUint64(tx, meta, gen, 43) }))
	wg.Wait()
	left := binary.BigEndian.Uint32(get("passes"))
	assert.Equal(t, int64(1000)-before.Load(), int64(left), "the count is what the successful calls left")
	_, err = da.DecrementIf(ctx, meta, gen, 42, counts, []byte("passes"))
	require.ErrorIs(t, err, errGuard, "after the Update returned, the old guard never passes")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = da.DecrementIf(canceled, meta, gen, 43, counts, []byte("passes"))
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, a.Close())
	_, err = da.DecrementIf(ctx, meta, gen, 43, counts, []byte("passes"))
	require.ErrorIs(t, err, store.ErrClosed)
}

// TestReadCounterIsFresh: an Update that returned on one store is in the
// very next ReadCounter of another on the same database.
func TestReadCounterIsFresh(t *testing.T) {
	ctx := context.Background()
	schema := newSchema()
	a, b := openStore(t, schema), openStore(t, schema)
	bucket, key := []byte("meta"), []byte("generation")
	require.NoError(t, a.Update(ctx, func(tx store.Tx) error { return tx.CreateBucket(bucket) }))
	for i := range uint64(200) {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		require.NoError(t, w.Update(ctx, func(tx store.Tx) error { return store.PutUint64(tx, bucket, key, i+1) }))
		got, err := r.ReadCounter(ctx, bucket, key)
		require.NoError(t, err)
		require.Equal(t, i+1, got)
	}
	_, err := a.ReadCounter(ctx, []byte("missing"), key)
	require.ErrorIs(t, err, store.ErrBucketNotFound)
}

// TestGetOutsideTransaction: Store.Get answers as a View's Get would, and
// sees an Update that returned on another store.
func TestGetOutsideTransaction(t *testing.T) {
	ctx := context.Background()
	schema := newSchema()
	a, b := openStore(t, schema), openStore(t, schema)
	bucket := []byte("b")
	_, err := b.Get(ctx, bucket, []byte("k"))
	require.ErrorIs(t, err, store.ErrBucketNotFound)
	require.NoError(t, a.Update(ctx, func(tx store.Tx) error { return tx.CreateBucket(bucket) }))
	_, err = b.Get(ctx, bucket, []byte("k"))
	require.ErrorIs(t, err, store.ErrNotFound)
	for i := range 50 {
		want := fmt.Appendf(nil, "v%d", i)
		require.NoError(t, a.Update(ctx, func(tx store.Tx) error { return tx.Put(bucket, []byte("k"), want) }))
		got, err := b.Get(ctx, bucket, []byte("k"))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.NoError(t, a.Update(ctx, func(tx store.Tx) error { return tx.Put(bucket, []byte("empty"), nil) }))
	got, err := b.Get(ctx, bucket, []byte("empty"))
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
	_, err = b.Get(ctx, nil, []byte("k"))
	require.ErrorIs(t, err, store.ErrInvalidName)
	require.NoError(t, b.Close())
	_, err = b.Get(ctx, bucket, []byte("k"))
	require.ErrorIs(t, err, store.ErrClosed)
}
