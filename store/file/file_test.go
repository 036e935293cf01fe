package file_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := file.Open(filepath.Join(t.TempDir(), "lintel.db"), nil)
		require.NoError(t, err)
		return s
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		s, err := file.Open(filepath.Join(b.TempDir(), "lintel.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}

func TestSecondOpenFailsWithErrLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lintel.db")
	first, err := file.Open(path, nil)
	require.NoError(t, err)
	defer first.Close()

	start := time.Now()
	_, err = file.Open(path, &file.Options{Timeout: 100 * time.Millisecond})
	require.ErrorIs(t, err, file.ErrLocked)
	assert.Less(t, time.Since(start), 5*time.Second, "Open must give up after its timeout")
	assert.Contains(t, err.Error(), path)

	// Once the first one closes, the file opens again with its data.
	require.NoError(t, first.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.CreateBucket([]byte("b")); err != nil {
			return err
		}
		return tx.Put([]byte("b"), []byte("k"), []byte("v"))
	}))
	require.NoError(t, first.Close())
	second, err := file.Open(path, &file.Options{Timeout: -1})
	require.NoError(t, err)
	defer second.Close()
	assert.Equal(t, path, second.Path())
	require.NoError(t, second.View(context.Background(), func(tx store.Tx) error {
		v, err := tx.Get([]byte("b"), []byte("k"))
		assert.Equal(t, "v", string(v))
		return err
	}))
}

func TestOpenNotADatabase(t *testing.T) {
	_, err := file.Open(t.TempDir(), nil) // a directory
	require.Error(t, err)
}
