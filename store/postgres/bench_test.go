package postgres_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/postgres"
)

// Where package access keeps its generation counter and pass counts: the
// load test takes passes with DecrementIf as access does (see
// DecrementIf's doc).
var (
	accessMeta       = []byte("access.meta")
	accessGeneration = []byte("generation")
	accessPasses     = []byte("access.passes")
)

// floor measures a bare pgx SELECT 1 through a pool of its own: one
// loopback round trip, the least any operation on the database can cost.
// For operations that must commit, it also measures the least a durable
// write costs: a bare autocommit UPDATE of one row, which waits for the
// network and for the server's WAL flush (see writeFloor).
type floor struct {
	pool   *pgxpool.Pool
	update string // the durable write (see writeFloor)
}

func newFloor(b *testing.B) *floor {
	pool, err := pgxpool.New(context.Background(), databaseURL(b))
	require.NoError(b, err)
	b.Cleanup(pool.Close)
	f := &floor{pool: pool}
	f.writeFloor(b)
	f.measure(b, 200) // connect and prepare
	return f
}

// measure returns the mean time of n SELECT 1 round trips.
func (f *floor) measure(b *testing.B, n int) time.Duration {
	start := time.Now()
	for range n {
		f.select1(b, 0)
	}
	return time.Since(start) / time.Duration(n)
}

func (f *floor) select1(b *testing.B, _ int) {
	var one int
	if err := f.pool.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		b.Fatal(err)
	}
}

// writeFloor makes a table of 1,000 counts for the durable write floor.
func (f *floor) writeFloor(b *testing.B) {
	ctx := context.Background()
	sc := newSchema(b)
	for _, sql := range []string{
		`CREATE SCHEMA ` + sc,
		`CREATE TABLE ` + sc + `.counts (k int PRIMARY KEY, n bigint NOT NULL)`,
		`INSERT INTO ` + sc + `.counts SELECT k, 1000000000 FROM generate_series(0, 999) AS k`,
	} {
		_, err := f.pool.Exec(ctx, sql)
		require.NoError(b, err)
	}
	f.update = `UPDATE ` + sc + `.counts SET n = n - 1 WHERE k = $1 AND n > 0 RETURNING n`
}

// write takes one unit of a count: a bare durable write.
func (f *floor) write(b *testing.B, i int) {
	var n int64
	if err := f.pool.QueryRow(context.Background(), f.update, i%1000).Scan(&n); err != nil {
		b.Fatal(err)
	}
}

// relative runs op in a b.Loop (ns/op and allocations as usual), then
// compares it with a SELECT 1 round trip in the same run: 3,000 rounds
// that each time one op and one SELECT 1, in turns one first and the other,
// so that both see the same load on the machine. It reports the ratio of
// the medians ("x-select1"), the median of the rounds' own ratios
// ("x-select1-paired", which a machine whose speed drifts during the run
// disturbs less), the ratio of the means ("x-select1-mean"), and the
// median SELECT 1 ("select1-ns").
func (f *floor) relative(b *testing.B, op func(i int)) { f.compare(b, op, false) }

// relativeWrite is relative, reporting "x-write" and "write-ns" too.
func (f *floor) relativeWrite(b *testing.B, op func(i int)) { f.compare(b, op, true) }

func (f *floor) compare(b *testing.B, op func(i int), writes bool) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		op(i)
		i++
	}
	const rounds = 3000
	ops, rtts, wrs := make([]time.Duration, rounds), make([]time.Duration, rounds), make([]time.Duration, 0, rounds)
	ratios := make([]float64, rounds)
	timed := func(fn func(int)) time.Duration {
		start := time.Now()
		fn(i)
		return time.Since(start)
	}
	select1 := func(i int) { f.select1(b, i) }
	for r := range rounds {
		// Each goes first in every other round: what one leaves behind
		// (a busy server, cold caches) weighs on both alike.
		if r%2 == 0 {
			ops[r], rtts[r] = timed(op), timed(select1)
		} else {
			rtts[r], ops[r] = timed(select1), timed(op)
		}
		ratios[r] = float64(ops[r]) / float64(rtts[r])
		if writes {
			wrs = append(wrs, timed(func(i int) { f.write(b, i) }))
		}
		i++
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	mean := func(d []time.Duration) float64 {
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		return float64(sum) / float64(len(d))
	}
	meanOps, meanRtts := mean(ops), mean(rtts)
	slices.Sort(ratios)
	b.ReportMetric(median(rtts), "select1-ns")
	b.ReportMetric(median(ops)/median(rtts), "x-select1")
	b.ReportMetric(ratios[rounds/2], "x-select1-paired")
	b.ReportMetric(meanOps/meanRtts, "x-select1-mean")
	if writes {
		b.ReportMetric(median(wrs), "write-ns")
		b.ReportMetric(median(ops)/median(wrs), "x-write")
	}
}

// BenchmarkRoundTrips measures, in one run, a bare pgx SELECT 1 round trip
// and each operation whose cost the backend keeps to round trips, each
// reported as a multiple of the SELECT 1 measured just before it
// ("x-select1"). Targets: ReadCounter, PointRead and a warm Decide (of a
// known card, DecideWarm, or of an unknown one, DecideUnknown) at most
// 1.5, a limited-pass decision in one statement at most 2.5. DurableWrite,
// a bare autocommit UPDATE of one row, is the least a decision that takes
// a pass can cost: the network and the server's WAL flush; such decisions
// report "x-write", their multiple of it.
func BenchmarkRoundTrips(b *testing.B) {
	ctx := context.Background()
	f := newFloor(b)
	bucket := []byte("bench")
	value := make([]byte, 128)
	// key makes "g" + group + "/" + i: groups of 100 keys.
	key := func(i int) []byte {
		k := binary.BigEndian.AppendUint16([]byte("g"), uint16(i/100))
		return binary.BigEndian.AppendUint16(append(k, '/'), uint16(i%100))
	}
	filled := func(b *testing.B, n int) *postgres.Store {
		s := openStore(b, "")
		require.NoError(b, s.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateBucketIfNotExists(bucket); err != nil {
				return err
			}
			for i := range n {
				if err := tx.Put(bucket, key(i), value); err != nil {
					return err
				}
			}
			return store.PutUint64(tx, bucket, []byte("counter"), 7)
		}))
		return s
	}

	b.Run("Select1", func(b *testing.B) { f.relative(b, func(i int) { f.select1(b, i) }) })
	b.Run("DurableWrite", func(b *testing.B) { f.relativeWrite(b, func(i int) { f.write(b, i) }) })
	b.Run("ReadCounter", func(b *testing.B) {
		s := filled(b, 0)
		f.relative(b, func(int) {
			if v, err := s.ReadCounter(ctx, bucket, []byte("counter")); err != nil || v != 7 {
				b.Fatal(v, err)
			}
		})
	})
	b.Run("View", func(b *testing.B) {
		s := filled(b, 0)
		f.relative(b, func(int) {
			if err := s.View(ctx, func(tx store.Tx) error { return nil }); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("PointRead", func(b *testing.B) {
		s := filled(b, 10_000)
		f.relative(b, func(i int) {
			err := s.View(ctx, func(tx store.Tx) error {
				_, err := tx.Get(bucket, key(i*7919%10_000))
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("PointRead/oneStatement", func(b *testing.B) {
		// Store.Get: the same read without a View, one statement.
		s := filled(b, 10_000)
		f.relative(b, func(i int) {
			if _, err := s.Get(ctx, bucket, key(i*7919%10_000)); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("PrefixScan100of10000", func(b *testing.B) {
		s := filled(b, 10_000)
		f.relative(b, func(i int) {
			prefix := key(i * 3700 % 10_000)[:4] // the 100 keys of a group
			n := 0
			err := s.View(ctx, func(tx store.Tx) error {
				return tx.Scan(bucket, prefix, func(k, v []byte) error { n++; return nil })
			})
			if err != nil || n != 100 {
				b.Fatal(n, err)
			}
		})
	})
	b.Run("Commit1Put", func(b *testing.B) {
		s := filled(b, 0)
		f.relative(b, func(i int) {
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(bucket, key(i), value) }); err != nil {
				b.Fatal(err)
			}
		})
	})

	// Decisions through package access, on 1,000 cards.
	service := func(b *testing.B, passes int, urlParams string) (*postgres.Store, *access.Service) {
		url := databaseURL(b)
		if urlParams != "" && !strings.Contains(url, "?") {
			urlParams = "?" + urlParams[1:]
		}
		s, err := postgres.Open(ctx, url+urlParams, &postgres.Options{Schema: newSchema(b)})
		require.NoError(b, err)
		b.Cleanup(func() { _ = s.Close() })
		svc, err := access.New(ctx, s, access.WithCapabilities(access.Capabilities{}))
		require.NoError(b, err)
		var batch []access.Identifier
		for i := range 1000 {
			id := card(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprint(i+1))
			if passes > 0 {
				id.Valid.Passes.IsPermanent, id.Valid.Passes.MaxPasses = false, passes
			}
			batch = append(batch, id)
		}
		_, err = svc.UpsertIdentifiers(ctx, batch)
		require.NoError(b, err)
		for i := range 1000 { // warm the cache
			_, err := svc.Check(ctx, access.Request{Type: access.Card, Number: fmt.Sprint(i + 1), Lock: 1, At: morning})
			require.NoError(b, err)
		}
		return s, svc
	}
	numbers := make([]string, 1000)
	for i := range numbers {
		numbers[i] = fmt.Sprint(i + 1)
	}
	b.Run("DecideWarm", func(b *testing.B) {
		_, svc := service(b, 0, "")
		f.relative(b, func(i int) {
			d, err := svc.Decide(ctx, access.Request{Type: access.Card, Number: numbers[i%1000], Lock: 1, At: morning})
			if err != nil || !d.Allow {
				b.Fatal(d, err)
			}
		})
	})
	b.Run("DecideUnknown", func(b *testing.B) {
		// A card no identifier has, shown again: the warm path too.
		_, svc := service(b, 0, "")
		unknown := make([]string, 1000)
		for i := range unknown {
			unknown[i] = fmt.Sprint(1_000_001 + i)
			_, err := svc.Check(ctx, access.Request{Type: access.Card, Number: unknown[i], Lock: 1, At: morning})
			require.NoError(b, err)
		}
		f.relative(b, func(i int) {
			d, err := svc.Decide(ctx, access.Request{Type: access.Card, Number: unknown[i%1000], Lock: 1, At: morning})
			if err != nil || d.Reason != access.UnknownCredential {
				b.Fatal(d, err)
			}
		})
	})
	// A decision on a credential with limited passes: the credential from
	// the cache, then one statement that checks the generation and takes a
	// pass. It commits, so it waits for the server's WAL flush as well as
	// for the network: "x-write" compares it with the bare durable write.
	limited := func(b *testing.B, urlParams string) {
		_, svc := service(b, 1<<30, urlParams)
		f.relativeWrite(b, func(i int) {
			d, err := svc.Decide(ctx, access.Request{Type: access.Card, Number: numbers[i%1000], Lock: 1, At: morning})
			if err != nil || !d.Allow {
				b.Fatal(d, err)
			}
		})
	}
	b.Run("DecideLimited", func(b *testing.B) { limited(b, "") })
	b.Run("DecideLimited/nosync", func(b *testing.B) {
		// The same with synchronous_commit=off on this store's
		// connections (not the floor's): the decision without the WAL
		// flush, for comparison only, since a crash of the database could
		// then give back a pass taken just before it.
		limited(b, "&synchronous_commit=off")
	})
}

// BenchmarkCommit10000Puts measures one commit of 10,000 puts of 128-byte
// values on PostgreSQL, in ascending key order (a bulk import) and in
// random order, and compares it with the same on the bbolt file store in
// the same run: after the timed loop, rounds that each commit once to
// either store, alternated so that both see the same load on the machine.
// "x-bbolt" is the ratio of the median times (target: at most 2),
// "bbolt-ns" the file store's median.
func BenchmarkCommit10000Puts(b *testing.B) {
	ctx := context.Background()
	bucket := []byte("bench")
	value := make([]byte, 128)
	for _, order := range []string{"ascending", "random"} {
		b.Run(order, func(b *testing.B) {
			pg := openStore(b, "")
			fs, err := file.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
			require.NoError(b, err)
			b.Cleanup(func() { fs.Close() })
			n, rnd := uint64(0), uint64(0x9e3779b97f4a7c15)
			keyOf := func() []byte {
				n++
				if order == "ascending" {
					return binary.BigEndian.AppendUint64(nil, n)
				}
				rnd ^= rnd << 13
				rnd ^= rnd >> 7
				rnd ^= rnd << 17
				return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, rnd), n)
			}
			commit := func(s store.Store) time.Duration {
				start := time.Now()
				err := s.Update(ctx, func(tx store.Tx) error {
					for range 10_000 {
						if err := tx.Put(bucket, keyOf(), value); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			for _, s := range []store.Store{pg, fs} {
				require.NoError(b, s.Update(ctx, func(tx store.Tx) error { return tx.CreateBucketIfNotExists(bucket) }))
				commit(s) // a bucket that is not empty
			}
			b.ReportAllocs()
			for b.Loop() {
				commit(pg)
			}
			const rounds = 15
			var pgs, files []time.Duration
			for range rounds {
				pgs = append(pgs, commit(pg))
				files = append(files, commit(fs))
			}
			slices.Sort(pgs)
			slices.Sort(files)
			b.ReportMetric(float64(files[rounds/2]), "bbolt-ns")
			b.ReportMetric(float64(pgs[rounds/2])/float64(files[rounds/2]), "x-bbolt")
		})
	}
}
