package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/postgres"
)

// TestLoadTwoServices is the load test of two services on one database:
// 16 concurrent deciders, half on each service, and a writer that pushes
// batches through one of them, for LINTEL_PG_LOAD_DURATION (default 10s).
// It is opt-in: LINTEL_PG_LOAD=1 (CI sets it).
//
// The writer's step k upserts a batch of 100 identifiers (a new card V(k)
// and 99 rewritten ones) and then deletes V(k-3), publishing k once each
// call has returned. Deciders pick, at random:
//   - a known card (most decisions: the warm path);
//   - a probe: the newest V(k) whose upsert returned before the decision
//     began must be granted, and the newest card whose delete returned
//     before it began must be unknown: no decision used data older than
//     the last batch committed before it started;
//   - a card with limited passes, through access (warm: its one guarded
//     DecrementIf; after a change: a View and an Update);
//   - a pass taken with DecrementIf, as access would with it (guarded by
//     the generation its cache holds, re-read with ReadCounter when the
//     guard has moved).
//
// At the end no pass may have been granted twice: for every limited card,
// grants plus the passes left equal the passes it had, and the same for
// the DecrementIf counts. It logs decisions per second and latency
// percentiles by kind.
func TestLoadTwoServices(t *testing.T) {
	if os.Getenv("LINTEL_PG_LOAD") != "1" {
		t.Skip("set LINTEL_PG_LOAD=1 to run the load test")
	}
	duration := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("LINTEL_PG_LOAD_DURATION")); err == nil {
		duration = d
	}
	ctx := context.Background()
	schema := newSchema(t)
	stores := []*postgres.Store{openStore(t, schema), openStore(t, schema)}
	var svcs []*access.Service
	for _, s := range stores {
		svc, err := access.New(ctx, s, access.WithCapabilities(access.Capabilities{}))
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	known, writerPause := 1000, 100*time.Millisecond
	if n, err := strconv.Atoi(os.Getenv("LINTEL_PG_LOAD_CARDS")); err == nil && n > 0 {
		known = n
	}
	if d, err := time.ParseDuration(os.Getenv("LINTEL_PG_LOAD_WRITER_PAUSE")); err == nil {
		writerPause = d
	}
	const (
		deciders    = 16
		limited     = 20
		passes      = 60
		counters    = 20
		counterSize = 200
		batchSize   = 100
	)
	link := func(kind, i int) string { return fmt.Sprintf("00000000-0000-4000-8%03d-%012d", kind, i) }
	number := func(kind, i int) string { return fmt.Sprint(kind*1_000_000 + i) }
	const kindKnown, kindLimited, kindVersion = 1, 2, 3
	ident := func(kind, i int) access.Identifier {
		id := card(link(kind, i), number(kind, i))
		if kind == kindLimited {
			id.Valid.Passes.IsPermanent, id.Valid.Passes.MaxPasses = false, passes
		}
		return id
	}
	upsert := func(svc *access.Service, ids []access.Identifier) error {
		res, err := svc.UpsertIdentifiers(ctx, ids)
		if err != nil {
			return err
		}
		for _, r := range res {
			if !r.Success {
				return fmt.Errorf("upsert of %s refused: %+v", r.LinkID, r.ExtendedInfo)
			}
		}
		return nil
	}
	var setup []access.Identifier
	for i := range known {
		setup = append(setup, ident(kindKnown, i))
	}
	for i := range limited {
		setup = append(setup, ident(kindLimited, i))
	}
	require.NoError(t, upsert(svcs[0], setup))
	countBucket := []byte("load.counts")
	require.NoError(t, stores[0].Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateBucketIfNotExists(countBucket); err != nil {
			return err
		}
		for i := range counters {
			if err := tx.Put(countBucket, fmt.Appendf(nil, "c%d", i), []byte{0, 0, 0, counterSize}); err != nil {
				return err
			}
		}
		return nil
	}))

	// The writer.
	var added, deleted atomic.Int64 // the newest V(k) whose upsert, and delete, returned
	var stop atomic.Bool
	var batches atomic.Int64
	var batchTimes []time.Duration
	writerErr := make(chan error, 1)
	go func() {
		defer close(writerErr)
		rng := rand.New(rand.NewPCG(1, 2))
		for k := 1; !stop.Load(); k++ {
			start := time.Now()
			ids := []access.Identifier{ident(kindVersion, k)}
			for len(ids) < batchSize {
				ids = append(ids, ident(kindKnown, rng.IntN(known)))
			}
			if err := upsert(svcs[k%2], ids); err != nil {
				writerErr <- err
				return
			}
			added.Store(int64(k))
			if k > 3 {
				if _, err := svcs[k%2].DeleteIdentifiers(ctx, []string{link(kindVersion, k-3)}); err != nil {
					writerErr <- err
					return
				}
				deleted.Store(int64(k - 3))
			}
			batchTimes = append(batchTimes, time.Since(start))
			batches.Add(1)
			time.Sleep(writerPause)
		}
	}()

	// The deciders.
	type sample struct {
		kind int
		d    time.Duration
	}
	const (
		sampleKnown = iota
		sampleProbe
		sampleLimited
		sampleDecrement
		kinds
	)
	kindNames := [kinds]string{"known card", "probe", "limited (access)", "limited (DecrementIf)"}
	var granted [limited]atomic.Int64
	var taken [counters]atomic.Int64
	var stale, failures atomic.Int64
	samples := make([][]sample, deciders)
	var wg sync.WaitGroup
	deadline := time.Now().Add(duration)
	for w := range deciders {
		svc, st := svcs[w%2], stores[w%2]
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var gen uint64 // the generation this decider's DecrementIf guard holds
			fail := func(format string, args ...any) {
				if failures.Add(1) <= 10 {
					t.Errorf(format, args...)
				}
			}
			for time.Now().Before(deadline) {
				start := time.Now()
				kind := sampleKnown
				switch r := rng.IntN(100); {
				case r < 10:
					kind = sampleProbe
				case r < 15:
					kind = sampleLimited
				case r < 20:
					kind = sampleDecrement
				}
				req := access.Request{Type: access.Card, Lock: 1, At: morning}
				switch kind {
				case sampleKnown:
					req.Number = number(kindKnown, rng.IntN(known))
					d, err := svc.Decide(ctx, req)
					if err != nil || !d.Allow {
						fail("known card: %+v %v", d, err)
					}
				case sampleProbe:
					k, gone := added.Load(), deleted.Load()
					if k > 0 {
						req.Number = number(kindVersion, int(k))
						d, err := svc.Decide(ctx, req)
						if err != nil {
							fail("probe: %v", err)
						} else if !d.Allow {
							stale.Add(1)
							fail("V(%d) was committed before the decision began, and it said %s", k, d.Reason)
						}
					}
					if gone > 0 {
						req.Number = number(kindVersion, int(gone))
						d, err := svc.Decide(ctx, req)
						if err != nil {
							fail("probe: %v", err)
						} else if d.Reason != access.UnknownCredential {
							stale.Add(1)
							fail("V(%d) was deleted before the decision began, and it said %s", gone, d.Reason)
						}
					}
				case sampleLimited:
					i := rng.IntN(limited)
					req.Number = number(kindLimited, i)
					d, err := svc.Decide(ctx, req)
					switch {
					case err != nil:
						fail("limited card: %v", err)
					case d.Allow:
						granted[i].Add(1)
					case d.Reason != access.NoPassesLeft:
						fail("limited card: %+v", d)
					}
				case sampleDecrement:
					i := rng.IntN(counters)
					for {
						n, err := st.DecrementIf(ctx, accessMeta, accessGeneration, gen, countBucket, fmt.Appendf(nil, "c%d", i))
						if errors.Is(err, store.ErrGuardChanged) {
							// What access would do: its cache is stale; read the
							// generation (and, in access, refill the entry).
							if gen, err = st.ReadCounter(ctx, accessMeta, accessGeneration); err == nil {
								continue
							}
						}
						if err != nil {
							fail("DecrementIf: %v", err)
						} else if n > 0 {
							taken[i].Add(1)
						}
						break
					}
				}
				samples[w] = append(samples[w], sample{kind, time.Since(start)})
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	require.NoError(t, <-writerErr)

	// No pass granted twice.
	for i := range limited {
		var left int
		require.NoError(t, stores[0].View(ctx, func(tx store.Tx) error {
			v, err := tx.Get(accessPasses, []byte(link(kindLimited, i)))
			if err == nil && len(v) == 4 {
				left = int(v[0])<<24 | int(v[1])<<16 | int(v[2])<<8 | int(v[3])
			}
			return err
		}))
		assert.Equal(t, passes, int(granted[i].Load())+left, "limited card %d: %d granted, %d left of %d", i, granted[i].Load(), left, passes)
	}
	for i := range counters {
		var left int
		require.NoError(t, stores[0].View(ctx, func(tx store.Tx) error {
			v, err := tx.Get(countBucket, fmt.Appendf(nil, "c%d", i))
			if err == nil {
				left = int(v[3])
			}
			return err
		}))
		assert.Equal(t, counterSize, int(taken[i].Load())+left, "count %d", i)
	}
	assert.Zero(t, stale.Load(), "decisions on data older than a batch committed before they began")

	// The report.
	var all []time.Duration
	byKind := make([][]time.Duration, kinds)
	for _, ss := range samples {
		for _, s := range ss {
			all = append(all, s.d)
			byKind[s.kind] = append(byKind[s.kind], s.d)
		}
	}
	pct := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		slices.Sort(d)
		return d[min(len(d)-1, int(float64(len(d))*p))]
	}
	var grants, takes int64
	for i := range granted {
		grants += granted[i].Load()
	}
	for i := range taken {
		takes += taken[i].Load()
	}
	t.Logf("load: %d deciders on 2 services, %v: %d decisions, %.0f decisions/s, p50 %v, p99 %v",
		deciders, duration, len(all), float64(len(all))/duration.Seconds(), pct(all, 0.5), pct(all, 0.99))
	for k := range kinds {
		t.Logf("load:   %-22s %7d  p50 %-10v p99 %v", kindNames[k], len(byKind[k]), pct(byKind[k], 0.5), pct(byKind[k], 0.99))
	}
	t.Logf("load: writer: %d batches of %d identifiers (each also a delete), p50 %v, p99 %v",
		batches.Load(), batchSize, pct(batchTimes, 0.5), pct(batchTimes, 0.99))
	for i, st := range stores {
		ps := postgres.PoolStat(st)
		t.Logf("load: pool %d: %d connections at most, %d acquires, %d of them waited, %v waiting in all",
			i, ps.MaxConns(), ps.AcquireCount(), ps.EmptyAcquireCount(), ps.AcquireDuration().Round(time.Millisecond))
	}
	t.Logf("load: passes granted through access %d of %d, units taken with DecrementIf %d of %d; stale decisions %d",
		grants, limited*passes, takes, counters*counterSize, stale.Load())
}
