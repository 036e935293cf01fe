package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
)

// These tests reach the paths of this backend that the conformance suite
// does not force: scans over several pages whose callback uses the
// transaction, writes sent with COPY, and a transaction aborted on the
// server by an error that fn drops.

func TestScanPagesWithNestedUse(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, "")
	big, small := []byte("big"), []byte("small")
	const n = 3000 // pages of 512, 2048, ...
	key := func(i int) []byte { return fmt.Appendf(nil, "k%05d", i) }
	require.NoError(t, s.Update(ctx, func(tx store.Tx) error {
		for _, b := range [][]byte{big, small} {
			if err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		for i := range n {
			if err := tx.Put(big, key(i), key(i)); err != nil {
				return err
			}
		}
		for i := range 10 {
			if err := tx.Put(small, key(i), []byte("s")); err != nil {
				return err
			}
		}
		return nil
	}))
	check := func(tx store.Tx, writable bool) error {
		i := 0
		var kept [][]byte // the contract: slices stay valid until the transaction ends
		wrote := 0
		err := tx.Scan(big, []byte("k"), func(k, v []byte) error {
			if !bytes.Equal(k, key(i)) || !bytes.Equal(v, key(i)) {
				return fmt.Errorf("row %d is %q=%q", i, k, v)
			}
			kept = append(kept, k)
			switch {
			case i%7 == 0: // a Get while the page streams
				if _, err := tx.Get(small, key(i%10)); err != nil {
					return err
				}
			case i%500 == 1: // a whole nested scan
				m := 0
				if err := tx.Scan(small, nil, func(k, v []byte) error { m++; return nil }); err != nil {
					return err
				}
				if m != 10+wrote {
					return fmt.Errorf("nested scan saw %d keys", m)
				}
			case i == 2500 && writable:
				if err := tx.Put(small, []byte("z"), k); err != nil { // a write from the scan
					return err
				}
				wrote = 1
			}
			i++
			return nil
		})
		if err != nil {
			return err
		}
		if i != n {
			return fmt.Errorf("scan saw %d keys", i)
		}
		for j, k := range kept {
			if !bytes.Equal(k, key(j)) {
				return fmt.Errorf("kept key %d became %q", j, k)
			}
		}
		// Stopping inside a later page.
		m := 0
		err = tx.Scan(big, nil, func(k, v []byte) error {
			if m++; m == 2600 {
				return store.ErrStopScan
			}
			return nil
		})
		if err != nil || m != 2600 {
			return fmt.Errorf("stopped scan: %d, %v", m, err)
		}
		return nil
	}
	require.NoError(t, s.View(ctx, func(tx store.Tx) error { return check(tx, false) }))
	require.NoError(t, s.Update(ctx, func(tx store.Tx) error { return check(tx, true) }))
	require.NoError(t, s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(small, []byte("z"))
		assert.Equal(t, key(2500), v)
		return err
	}))
}

func TestBulkWrites(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	s := openStore(t, schema)
	b := []byte("b")
	key := func(i int) []byte { return fmt.Appendf(nil, "k%05d", i) }
	require.NoError(t, s.Update(ctx, func(tx store.Tx) error { return tx.CreateBucketIfNotExists(b) }))
	// New keys in a new range (COPY), written out of order, some twice,
	// with deletes in the same bucket and a scan that makes them go out
	// before the commit.
	require.NoError(t, s.Update(ctx, func(tx store.Tx) error {
		for i := 1999; i >= 0; i-- {
			if err := tx.Put(b, key(i), []byte("first")); err != nil {
				return err
			}
		}
		for i := range 2000 {
			if i%3 == 0 {
				if err := tx.Put(b, key(i), key(i)); err != nil {
					return err
				}
			}
			if i%10 == 5 {
				if err := tx.Delete(b, key(i)); err != nil {
					return err
				}
			}
		}
		v, err := tx.Get(b, key(3))
		if err != nil || !bytes.Equal(v, key(3)) {
			return fmt.Errorf("read your write: %q %v", v, err)
		}
		n := 0
		if err := tx.Scan(b, nil, func(k, v []byte) error { n++; return nil }); err != nil {
			return err
		}
		if n != 1800 {
			return fmt.Errorf("scan in the transaction saw %d keys", n)
		}
		_, err = tx.Get(b, key(5))
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("deleted key: %v", err)
		}
		return tx.Put(b, key(5), []byte("back"))
	}))
	want := func(i int) string {
		switch {
		case i >= 2000:
			return ""
		case i == 5:
			return "back"
		case i%10 == 5:
			return ""
		case i%3 == 0:
			return string(key(i))
		}
		return "first"
	}
	verify := func() {
		t.Helper()
		got := map[string]string{}
		require.NoError(t, s.View(ctx, func(tx store.Tx) error {
			return tx.Scan(b, nil, func(k, v []byte) error { got[string(k)] = string(v); return nil })
		}))
		for i := range 3000 {
			if w := want(i); w != got[string(key(i))] {
				t.Fatalf("%s: %q, want %q", key(i), got[string(key(i))], w)
			}
		}
	}
	verify()
	// Keys that overlap those there (no COPY): updated and inserted.
	require.NoError(t, s.Update(ctx, func(tx store.Tx) error {
		for i := 1000; i < 3000; i++ {
			if err := tx.Put(b, key(i), []byte("second")); err != nil {
				return err
			}
		}
		return nil
	}))
	old := want
	want = func(i int) string {
		if i >= 1000 {
			return "second"
		}
		return old(i)
	}
	verify()

	// Two servers importing the same new keys at once: both Updates
	// succeed (one is retried) and the result is one of them, whole.
	other := openStore(t, schema)
	var wg sync.WaitGroup
	for w, st := range []store.Store{s, other} {
		wg.Go(func() {
			assert.NoError(t, st.Update(ctx, func(tx store.Tx) error {
				for i := 5000; i < 6000; i++ {
					if err := tx.Put(b, key(i), fmt.Appendf(nil, "w%d", w)); err != nil {
						return err
					}
				}
				return nil
			}))
		})
	}
	wg.Wait()
	seen := map[string]int{}
	require.NoError(t, s.View(ctx, func(tx store.Tx) error {
		return tx.ScanRange(b, key(5000), key(6000), func(k, v []byte) error { seen[string(v)]++; return nil })
	}))
	assert.Len(t, seen, 1, "one writer's values, not a mix: %v", seen)
	for _, n := range seen {
		assert.Equal(t, 1000, n)
	}
}

func TestDroppedServerErrorAbortsUpdate(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, "")
	b := []byte("b")
	require.NoError(t, s.Update(ctx, func(tx store.Tx) error { return tx.CreateBucketIfNotExists(b) }))
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put(b, []byte("ok"), []byte("x")); err != nil {
			return err
		}
		// An index entry this large (and incompressible) is refused by
		// the server when the writes go out (here, before the scan).
		huge := make([]byte, 10_000)
		_, _ = rand.Read(huge)
		if err := tx.Put(b, huge, []byte("v")); err != nil {
			return err
		}
		_ = tx.Scan(b, nil, func(k, v []byte) error { return nil }) // the error is dropped
		_, _ = tx.Get(b, []byte("ok"))
		return nil
	})
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr, "the server's error, not a commit of what went before")
	require.NoError(t, s.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get(b, []byte("ok"))
		assert.ErrorIs(t, err, store.ErrNotFound)
		return nil
	}))
}

// A View leaves its read-only transaction open for the next transaction to
// roll back (see parking), but never for much longer than parkTime: once
// Views stop, nothing of the store stays idle in a transaction, whether
// one View ran or a stream of them that kept the connections parked.
func TestParkedViewsAreRolledBack(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	s := openStore(t, schema)
	bucket := []byte("b")
	require.NoError(t, s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateBucketIfNotExists(bucket); err != nil {
			return err
		}
		return tx.Put(bucket, []byte("k"), []byte("v"))
	}))
	view := func() {
		require.NoError(t, s.View(ctx, func(tx store.Tx) error {
			_, err := tx.Get(bucket, []byte("k"))
			return err
		}))
	}
	// Backends of this store idle in a transaction: their last statement
	// names the schema.
	other, err := pgx.Connect(ctx, databaseURL(t))
	require.NoError(t, err)
	defer other.Close(ctx)
	idle := func() int {
		var n int
		require.NoError(t, other.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE state = 'idle in transaction' AND query LIKE '%' || $1 || '%'`, schema).Scan(&n))
		return n
	}
	view()
	require.Eventually(t, func() bool { return idle() == 0 }, 2*time.Second, time.Millisecond)

	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for deadline := time.Now().Add(30 * time.Millisecond); time.Now().Before(deadline); {
				view()
			}
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool { return idle() == 0 }, 2*time.Second, time.Millisecond)
}
