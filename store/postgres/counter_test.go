package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/storetest"
)

// TestDecrementIf runs storetest.DecrementIf on two stores of one schema,
// as two servers of one database: a guard committed through one is seen
// by the very next call of the other, and callers on both never take more
// units than there are.
func TestDecrementIf(t *testing.T) {
	schema := newSchema(t)
	storetest.DecrementIf(t, openStore(t, schema), openStore(t, schema))
}

// TestReadCounterIsFresh: an Update that returned on one store is in the
// very next ReadCounter of another on the same database.
func TestReadCounterIsFresh(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	a, b := openStore(t, schema), openStore(t, schema)
	bucket, key := []byte("meta"), []byte("generation")
	require.NoError(t, a.Update(ctx, func(tx store.Tx) error { return tx.CreateBucketIfNotExists(bucket) }))
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
	schema := newSchema(t)
	a, b := openStore(t, schema), openStore(t, schema)
	bucket := []byte("b")
	_, err := b.Get(ctx, bucket, []byte("k"))
	require.ErrorIs(t, err, store.ErrBucketNotFound)
	require.NoError(t, a.Update(ctx, func(tx store.Tx) error { return tx.CreateBucketIfNotExists(bucket) }))
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
