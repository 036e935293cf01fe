package storetest

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
)

// Bench runs the backend benchmarks: an empty View (the fixed cost of
// every read), a point read and a prefix scan of 100 keys among 10,000, and
// commits of 1 put, of 10,000 puts of ascending keys (a bulk import) and of
// 10,000 puts of random keys (the worst order for a B-tree), through
// store.DB. newDriver must return a new driver over new, empty data; the
// benchmark closes it.
func Bench(b *testing.B, newDriver func(b *testing.B) driver.Driver) {
	bucket := []byte("bench")
	value := make([]byte, 128)
	ctx := context.Background()
	// key makes "g/NNNN/xxxxxxxx": 100 groups of keys, sorted by group.
	key := func(group, i uint32) []byte {
		k := make([]byte, 0, 16)
		k = append(k, 'g')
		k = binary.BigEndian.AppendUint32(k, group)
		k = append(k, '/')
		return binary.BigEndian.AppendUint32(k, i)
	}
	fill := func(b *testing.B, s store.Store, n uint32) {
		b.Helper()
		err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateBucketIfNotExists(bucket); err != nil {
				return err
			}
			for i := range n {
				if err := tx.Put(bucket, key(i%100, i), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// filled opens a store with n keys and reports allocations.
	filled := func(b *testing.B, n uint32) *store.DB {
		s := open(b, newDriver(b), nil)
		fill(b, s, n)
		b.ReportAllocs()
		return s
	}

	b.Run("PointRead", func(b *testing.B) {
		s := filled(b, 10_000)
		i := uint32(0)
		for b.Loop() {
			i = (i + 7919) % 10_000
			k := key(i%100, i)
			err := s.View(ctx, func(tx store.Tx) error {
				_, err := tx.Get(bucket, k)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PrefixScan100of10000", func(b *testing.B) {
		s := filled(b, 10_000)
		g := uint32(0)
		for b.Loop() {
			g = (g + 37) % 100
			prefix := append([]byte{'g'}, binary.BigEndian.AppendUint32(nil, g)...)
			n := 0
			err := s.View(ctx, func(tx store.Tx) error {
				return tx.Scan(bucket, prefix, func(k, v []byte) error { n++; return nil })
			})
			if err != nil || n != 100 {
				b.Fatalf("scan: %d keys, %v", n, err)
			}
		}
	})
	b.Run("View", func(b *testing.B) {
		s := filled(b, 0)
		for b.Loop() {
			if err := s.View(ctx, func(tx store.Tx) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
	// commit measures Updates of puts keys each, the n-th key written
	// being keyOf(n).
	commit := func(b *testing.B, puts uint32, keyOf func(n uint32) []byte) {
		s := filled(b, 0)
		n := uint32(0)
		for b.Loop() {
			err := s.Update(ctx, func(tx store.Tx) error {
				for range puts {
					if err := tx.Put(bucket, keyOf(n), value); err != nil {
						return err
					}
					n++
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(puts), "puts/commit")
	}
	ascending := func(n uint32) []byte { return key(0, n) }
	random := func() func(uint32) []byte {
		rng := rand.New(rand.NewPCG(1, 2))
		return func(uint32) []byte {
			k := binary.BigEndian.AppendUint64(make([]byte, 0, 16), rng.Uint64())
			return binary.BigEndian.AppendUint64(k, rng.Uint64())
		}
	}
	b.Run("Commit1Put", func(b *testing.B) { commit(b, 1, ascending) })
	b.Run("Commit10000Puts", func(b *testing.B) { commit(b, 10_000, ascending) })
	b.Run("Commit10000RandomPuts", func(b *testing.B) { commit(b, 10_000, random()) })
}
