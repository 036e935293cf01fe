package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

func TestPrepareLayout(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	meta, data, key := []byte("pkg.meta"), []byte("pkg.data"), []byte("layout")
	prepare := func(layout uint64) error {
		return st.Update(ctx, func(tx store.Tx) error { return store.PrepareLayout(tx, meta, key, layout, meta, data) })
	}
	layout := func() uint64 {
		var v uint64
		require.NoError(t, st.View(ctx, func(tx store.Tx) (err error) { v, err = store.GetUint64(tx, meta, key); return err }))
		return v
	}
	require.NoError(t, prepare(2))
	assert.Equal(t, uint64(2), layout(), "a new store gets the layout")
	err := st.View(ctx, func(tx store.Tx) error { _, err := tx.Get(data, []byte("x")); return err })
	assert.ErrorIs(t, err, store.ErrNotFound, "and its buckets (a missing key, not a missing bucket)")
	require.NoError(t, prepare(3))
	assert.Equal(t, uint64(3), layout(), "an older layout is raised")
	err = prepare(2)
	assert.ErrorIs(t, err, store.ErrNewerLayout)
	assert.ErrorContains(t, err, "layout 3 (this version writes 2)")
	assert.Equal(t, uint64(3), layout(), "a newer layout is left as it is")
}
