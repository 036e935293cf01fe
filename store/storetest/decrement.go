package storetest

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
)

// DecrementIf checks store.Decrementer on two stores over the same data (a
// and b may be the same store; Run passes one): its answers against a
// plain reading of the contract, its errors, that concurrent callers take
// exactly the units there are, and that a guard changed by a committed
// Update is seen by the very next call on the other store. It closes a at
// the end. A backend whose stores share their data across processes (a
// database server) runs it with two stores as well.
func DecrementIf(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	meta, gen, counts := []byte("meta"), []byte("generation"), []byte("counts")
	da, db := a.(store.Decrementer), b.(store.Decrementer)
	errGuard := store.ErrGuardChanged
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
	_, err = da.DecrementIf(ctx, nil, gen, 0, counts, []byte("k"))
	require.ErrorIs(t, err, store.ErrInvalidName)
	require.NoError(t, a.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateBucketIfNotExists(meta); err != nil {
			return err
		}
		return tx.CreateBucketIfNotExists(counts)
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

	// race starts callers goroutines, alternately on a and b, that each
	// make tries calls and hand each answer to answer; wait waits for them.
	const units, callers, tries = 100, 16, 12
	race := func(answer func(n uint64, err error)) (wait func()) {
		var wg sync.WaitGroup
		for c := range callers {
			d := []store.Decrementer{da, db}[c%2]
			wg.Go(func() {
				for range tries {
					answer(d.DecrementIf(ctx, meta, gen, 42, counts, []byte("passes")))
				}
			})
		}
		return wg.Wait
	}

	// Concurrent callers on both stores take exactly the units there are.
	put(a, counts, []byte("passes"), u32(units))
	var taken atomic.Int64
	race(func(n uint64, err error) {
		if assert.NoError(t, err) && n > 0 {
			taken.Add(1)
		}
	})()
	assert.Equal(t, int64(units), taken.Load(), "every unit taken once, none more")
	assert.Equal(t, u32(0), get("passes"))

	// The guard changing while callers run: each call either takes a unit
	// under the old guard or reports the change; none takes one after.
	put(a, counts, []byte("passes"), u32(1000))
	var before, after atomic.Int64
	wait := race(func(n uint64, err error) {
		switch {
		case errors.Is(err, errGuard):
			after.Add(1)
		case assert.NoError(t, err) && n > 0:
			before.Add(1)
		}
	})
	require.NoError(t, b.Update(ctx, func(tx store.Tx) error { return store.PutUint64(tx, meta, gen, 43) }))
	wait()
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
