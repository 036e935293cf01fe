package journal_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/memory"
)

// countingStore counts committed Updates.
type countingStore struct {
	store.Store
	updates atomic.Int64
}

func (c *countingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := c.Store.Update(ctx, fn)
	if err == nil {
		c.updates.Add(1)
	}
	return err
}

func open(t testing.TB, st store.Store, opt journal.Options) *journal.Journal {
	t.Helper()
	j, err := journal.Open(context.Background(), st, opt)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	return j
}

func decision(i int) journal.Event {
	return journal.Event{Kind: journal.Decision, Granted: i%2 == 0, Reason: "granted", CredentialType: "card",
		Number: journal.Mask(fmt.Sprintf("0A:1B:2C:%02X", i%256)), IdentifierLinkID: fmt.Sprintf("id-%d", i), Lock: 1 + i%2}
}

func ids(evs []journal.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestAppendGroupsAndOrders(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memory.New()}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	j := open(t, st, journal.Options{FlushDelay: 20 * time.Millisecond, Now: func() time.Time { return now }})
	before := st.updates.Load()
	for i := range 500 {
		require.NoError(t, j.Append(ctx, decision(i)))
	}
	require.NoError(t, j.Flush(ctx))
	commits := st.updates.Load() - before
	assert.Less(t, commits, int64(10), "500 events in a few groups, not 500 commits")

	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	require.Equal(t, seq(1, 500), ids(evs))
	for i, ev := range evs {
		want := decision(i)
		want.ID, want.Time = uint64(i+1), now
		assert.Equal(t, want, ev)
	}
	last, err := j.Last(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(500), last)

	page, err := j.Events(ctx, 250, journal.Filter{}, 10)
	require.NoError(t, err)
	assert.Equal(t, seq(251, 260), ids(page))
	page, err = j.Events(ctx, 500, journal.Filter{}, 10)
	require.NoError(t, err)
	assert.Empty(t, page)
	page, err = j.Events(ctx, ^uint64(0), journal.Filter{}, 10)
	require.NoError(t, err)
	assert.Empty(t, page)
}

func TestFilter(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	j := open(t, memory.New(), journal.Options{})
	for i, k := range []journal.Kind{journal.Decision, journal.Batch, journal.Login, journal.Decision} {
		require.NoError(t, j.Append(ctx, journal.Event{Kind: k, Time: base.Add(time.Duration(i) * time.Hour), Source: fmt.Sprint("s", i%2)}))
	}
	require.NoError(t, j.Flush(ctx))
	tests := []struct {
		f    journal.Filter
		want []uint64
	}{
		{journal.Filter{}, []uint64{1, 2, 3, 4}},
		{journal.Filter{Kinds: []journal.Kind{journal.Decision}}, []uint64{1, 4}},
		{journal.Filter{Kinds: []journal.Kind{journal.Batch, journal.Login}}, []uint64{2, 3}},
		{journal.Filter{Since: base.Add(time.Hour)}, []uint64{2, 3, 4}},
		{journal.Filter{Until: base.Add(2 * time.Hour)}, []uint64{1, 2}},
		{journal.Filter{Source: "s1"}, []uint64{2, 4}},
	}
	for _, tc := range tests {
		evs, err := j.Events(ctx, 0, tc.f, 0)
		require.NoError(t, err)
		assert.Equal(t, tc.want, ids(evs), "%+v", tc.f)
	}
}

func TestAppendTxIsThePartOfItsTransaction(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	j := open(t, st, journal.Options{})
	boom := errors.New("boom")
	err := st.Update(ctx, func(tx store.Tx) error {
		_, err := j.AppendTx(tx, journal.Event{Kind: journal.Batch, Entity: "users"})
		require.NoError(t, err)
		return boom
	})
	require.ErrorIs(t, err, boom)
	var written []journal.Event
	require.NoError(t, st.Update(ctx, func(tx store.Tx) error {
		written, err = j.AppendTx(tx, journal.Event{Kind: journal.Batch, Entity: "users", Items: []journal.Item{{LinkID: "a", Outcome: "created"}}})
		return err
	}))
	j.AfterCommit(written)
	require.NoError(t, j.Append(ctx, decision(1)))
	require.NoError(t, j.Flush(ctx))
	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2}, ids(evs), "the rolled-back event took no id")
	assert.Equal(t, []journal.Item{{LinkID: "a", Outcome: "created"}}, evs[0].Items)
}

func TestRetentionByCount(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	j := open(t, st, journal.Options{MaxEvents: 100, MaxGroup: 7, MaxPending: 7, FlushDelay: time.Millisecond})
	for i := range 1000 {
		require.NoError(t, j.Append(ctx, decision(i)))
		if i%50 == 0 {
			require.NoError(t, j.Flush(ctx))
		}
	}
	require.NoError(t, j.Flush(ctx))
	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(evs), 100)
	require.LessOrEqual(t, len(evs), 100+7, "at most one group more than MaxEvents")
	assert.Equal(t, seq(uint64(1001-len(evs)), 1000), ids(evs))
}

func TestRetentionByAge(t *testing.T) {
	ctx := context.Background()
	var now atomic.Int64
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	now.Store(start.UnixNano())
	j := open(t, memory.New(), journal.Options{MaxAge: time.Hour, Now: func() time.Time { return time.Unix(0, now.Load()).UTC() }})
	for i := range 10 {
		now.Store(start.Add(time.Duration(i) * 20 * time.Minute).UnixNano())
		require.NoError(t, j.Append(ctx, decision(i)))
		require.NoError(t, j.Flush(ctx))
	}
	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	// The last is at 180 min; the cutoff is 120 min: 120, 140, 160, 180 stay.
	assert.Equal(t, []uint64{7, 8, 9, 10}, ids(evs))
}

func TestKeyedEventsAreKeptOnce(t *testing.T) {
	ctx := context.Background()
	j := open(t, memory.New(), journal.Options{MaxEvents: 5, MaxGroup: 1})
	push := func(keys ...string) {
		for _, k := range keys {
			require.NoError(t, j.Append(ctx, journal.Event{Kind: journal.Panel, Source: "panel-1", Key: k}))
		}
		require.NoError(t, j.Flush(ctx))
	}
	push("a", "b", "a", "c")
	push("b", "c")
	require.NoError(t, j.Append(ctx, journal.Event{Kind: journal.Panel, Source: "panel-2", Key: "a"}))
	require.NoError(t, j.Flush(ctx))
	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	var got []string
	for _, e := range evs {
		got = append(got, e.Source+"/"+e.Key)
	}
	assert.Equal(t, []string{"panel-1/a", "panel-1/b", "panel-1/c", "panel-2/a"}, got)
	assert.Equal(t, []uint64{1, 2, 3, 4}, ids(evs), "no id is spent on a duplicate")
}

func TestWaitWakesAtACommit(t *testing.T) {
	ctx := context.Background()
	j := open(t, memory.New(), journal.Options{PollInterval: time.Hour})
	woke := make(chan time.Time, 1)
	go func() {
		if err := j.Wait(ctx, 0); err == nil {
			woke <- time.Now()
		}
	}()
	select {
	case <-woke:
		t.Fatal("Wait returned before any event")
	case <-time.After(30 * time.Millisecond):
	}
	appended := time.Now()
	require.NoError(t, j.Append(ctx, decision(0)))
	select {
	case at := <-woke:
		assert.Less(t, at.Sub(appended), 50*time.Millisecond)
	case <-time.After(time.Second):
		t.Fatal("Wait did not wake")
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, j.Wait(short, 1), context.DeadlineExceeded)
}

// Two journals on one store stand for two servers on one database: ids
// stay gap-free and ordered, and each sees the other's events by polling.
func TestTwoJournalsOnOneStore(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	a := open(t, st, journal.Options{PollInterval: 5 * time.Millisecond})
	b := open(t, st, journal.Options{PollInterval: 5 * time.Millisecond})
	var wg sync.WaitGroup
	for _, j := range []*journal.Journal{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				require.NoError(t, j.Append(ctx, decision(i)))
			}
			require.NoError(t, j.Flush(ctx))
		}()
	}
	wg.Wait()
	evs, err := a.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	assert.Equal(t, seq(1, 600), ids(evs))
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	go func() { _ = b.Append(ctx, decision(9)) }()
	require.NoError(t, a.Wait(wctx, 600), "a sees b's event by polling")
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	j, err := journal.Open(ctx, memory.New(), journal.Options{FlushDelay: time.Hour})
	require.NoError(t, err)
	require.NoError(t, j.Append(ctx, decision(0)))
	require.NoError(t, j.Close(ctx), "Close commits what is queued")
	require.ErrorIs(t, j.Append(ctx, decision(1)), journal.ErrClosed)
	require.ErrorIs(t, j.Flush(ctx), journal.ErrClosed)
	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	assert.Len(t, evs, 1)
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"1234":        "****",
		"12345":       "***45",
		"0A:1B:2C":    "******2C",
		"0A:1B:2C:3D": "*******C:3D",
		"АВ 777 ЕК":   "*****7 ЕК",
	} {
		assert.Equal(t, want, journal.Mask(in), in)
	}
}

// Subscribers see every event once and in order while events come from
// Append and AppendTx at once and trimming drops old ones, as long as they
// keep up; a reader that does not is cut off with ErrFellBehind.
func TestSubscribersSeeEveryEventOnceInOrder(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			st := memory.New()
			j := open(t, st, journal.Options{MaxEvents: 200, MaxGroup: 16, FlushDelay: time.Millisecond})
			r := rand.New(rand.NewPCG(seed, 1))
			const total = 2000
			subs := []*journal.Subscription{
				j.Subscribe(ctx, 0, journal.Filter{}, total),
				j.Subscribe(ctx, 0, journal.Filter{Kinds: []journal.Kind{journal.Batch}}, total),
			}
			slow := j.Subscribe(ctx, 0, journal.Filter{}, 1)
			var batches []uint64
			n := 0
			for n < total {
				if r.IntN(4) == 0 {
					var written []journal.Event
					require.NoError(t, st.Update(ctx, func(tx store.Tx) (err error) {
						written, err = j.AppendTx(tx, journal.Event{Kind: journal.Batch, Entity: fmt.Sprint(n)})
						return err
					}))
					j.AfterCommit(written)
					batches = append(batches, written[0].ID)
				} else {
					require.NoError(t, j.Append(ctx, journal.Event{Kind: journal.Decision, Reason: fmt.Sprint(n)}))
				}
				n++
				if r.IntN(20) == 0 {
					time.Sleep(time.Millisecond) // let the subscribers read, as a live server would
				}
			}
			require.NoError(t, j.Flush(ctx))
			last, err := j.Last(ctx)
			require.NoError(t, err)
			require.Equal(t, uint64(total), last)
			for i, want := range [][]uint64{seq(1, total), batches} {
				sub := subs[i]
				var got []uint64
				timeout := time.After(10 * time.Second)
			read:
				for len(got) < len(want) {
					select {
					case ev, ok := <-sub.C:
						if !ok {
							break read
						}
						got = append(got, ev.ID)
					case <-timeout:
						break read
					}
				}
				sub.Close()
				require.NoError(t, ignoreCanceled(sub.Err()), "subscriber %d", i)
				assert.Equal(t, want, got, "subscriber %d: every event, once, in order", i)
			}
			for range slow.C {
				time.Sleep(time.Millisecond)
			}
			require.ErrorIs(t, slow.Err(), journal.ErrFellBehind)
		})
	}
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func BenchmarkAppend(b *testing.B) {
	for _, kind := range []string{"memory", "file"} {
		b.Run(kind, func(b *testing.B) {
			var st store.Store = memory.New()
			if kind == "file" {
				f, err := file.Open(filepath.Join(b.TempDir(), "j.db"), nil)
				require.NoError(b, err)
				b.Cleanup(func() { _ = f.Close() })
				st = f
			}
			j := open(b, st, journal.Options{})
			ctx := context.Background()
			ev := decision(1)
			b.ReportAllocs()
			for b.Loop() {
				if err := j.Append(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			require.NoError(b, j.Flush(ctx))
		})
	}
}
