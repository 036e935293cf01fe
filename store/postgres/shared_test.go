package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
)

// Two stores on one schema stand for two server processes on one database:
// they share nothing but the database.

func twoServices(t testing.TB) (*access.Service, *access.Service) {
	t.Helper()
	schema := newSchema(t)
	ctx := context.Background()
	var svcs []*access.Service
	for range 2 {
		svc, err := access.New(ctx, openStore(t, schema), access.WithCapabilities(access.Capabilities{}))
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	return svcs[0], svcs[1]
}

func card(linkID, number string) access.Identifier {
	id := access.Identifier{LinkID: linkID, Type: access.Card, Number: number}
	id.Valid.Time.IsPermanent, id.Valid.Passes.IsPermanent = true, true
	return id
}

var morning = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestChangesReachTheOtherServerAtOnce(t *testing.T) {
	ctx := context.Background()
	a, b := twoServices(t)
	decide := func(s *access.Service) access.Reason {
		d, err := s.Decide(ctx, access.Request{Type: access.Card, Number: "777", Lock: 1, At: morning})
		require.NoError(t, err)
		return d.Reason
	}
	const id = "91c615e3-1040-4815-8ecb-039a18b756b5"
	assert.Equal(t, access.UnknownCredential, decide(b))
	_, err := a.UpsertIdentifiers(ctx, []access.Identifier{card(id, "777")})
	require.NoError(t, err)
	assert.Equal(t, access.Granted, decide(b), "b's very next decision sees a's card")
	assert.Equal(t, access.Granted, decide(a))
	bound := card(id, "777")
	bound.TimeProfiles.LinkIDs = []string{"eae44848-5e81-4861-8e63-861d9bd4ebb3"}
	_, err = b.UpsertIdentifiers(ctx, []access.Identifier{bound})
	require.NoError(t, err)
	assert.Equal(t, access.TimeProfileMissing, decide(a), "a's cached credential is replaced")
	_, err = a.DeleteIdentifiers(ctx, []string{id})
	require.NoError(t, err)
	assert.Equal(t, access.UnknownCredential, decide(b))
}

func TestPassesAcrossServers(t *testing.T) {
	ctx := context.Background()
	a, b := twoServices(t)
	limited := card("91c615e3-1040-4815-8ecb-039a18b756b5", "4242")
	limited.Valid.Passes.IsPermanent, limited.Valid.Passes.MaxPasses = false, 10
	_, err := a.UpsertIdentifiers(ctx, []access.Identifier{limited})
	require.NoError(t, err)
	var granted atomic.Int32
	var wg sync.WaitGroup
	for i := range 100 {
		svc := a
		if i%2 == 1 {
			svc = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := svc.Decide(ctx, access.Request{Type: access.Card, Number: "4242", Lock: 1, At: morning})
			if assert.NoError(t, err) && d.Allow {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(10), granted.Load(), "exactly the passes there were, across both servers")
}

// A warm decision that takes a pass is one guarded statement, with no read
// of the generation before it: a change made on the other server since the
// credential was cached fails the guard, and the decision sees the change
// and takes nothing.
func TestLimitedPassSeesTheOtherServerAtOnce(t *testing.T) {
	ctx := context.Background()
	a, b := twoServices(t)
	const id = "91c615e3-1040-4815-8ecb-039a18b756b5"
	limited := card(id, "4242")
	limited.Valid.Passes.IsPermanent, limited.Valid.Passes.MaxPasses = false, 10
	_, err := a.UpsertIdentifiers(ctx, []access.Identifier{limited})
	require.NoError(t, err)
	r := access.Request{Type: access.Card, Number: "4242", Lock: 1, At: morning}
	d, err := a.Decide(ctx, r) // a caches the credential
	require.NoError(t, err)
	require.Equal(t, 9, d.PassesLeft)
	d, err = a.Decide(ctx, r) // the one-statement path
	require.NoError(t, err)
	require.Equal(t, access.Decision{Allow: true, Reason: access.Granted, IdentifierLinkID: id, PassesLeft: 8}, d)

	expired := limited
	expired.Valid.Time.IsPermanent = false
	expired.Valid.Time.From, expired.Valid.Time.To = morning.Add(-48*time.Hour).Unix(), morning.Add(-time.Hour).Unix()
	_, err = b.UpsertIdentifiers(ctx, []access.Identifier{expired})
	require.NoError(t, err)
	d, err = a.Decide(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, access.Expired, d.Reason, "b's change is in a's very next decision")
	got, err := b.GetIdentifier(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, 8, *got.Additional.PassesLeft, "the denied decision took no pass")
}

func TestDirectoryTimestampsAcrossServers(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	a, err := directory.Open(ctx, openStore(t, schema))
	require.NoError(t, err)
	b, err := directory.Open(ctx, openStore(t, schema))
	require.NoError(t, err)
	sa, _ := a.Series(ctx)
	sb, _ := b.Series(ctx)
	require.Equal(t, sa, sb, "one series for the one directory")

	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for w := range 4 {
		dir := a
		if w%2 == 1 {
			dir = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(0)
			for range 15 {
				res, err := dir.Create(ctx, []json.RawMessage{json.RawMessage(`{"name":"x"}`)}, false)
				if !assert.NoError(t, err) {
					return
				}
				ts := res.Users[0].Timestamp
				assert.Greater(t, ts, last, "strictly increasing for each writer")
				last = ts
				mu.Lock()
				assert.False(t, seen[ts], "timestamp %d given twice", ts)
				seen[ts] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for ts := int64(1); ts <= 60; ts++ {
		assert.True(t, seen[ts], "gap at %d", ts)
	}
	// A change through a is in b's very next query.
	q, err := b.Query(ctx, sa, 59, []string{"name"})
	require.NoError(t, err)
	assert.Len(t, q.Users, 1)
}

// BenchmarkDecide compares a decision through PostgreSQL with one through
// the bbolt file store, in the same run.
func BenchmarkDecide(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []string{"postgres", "file"} {
		b.Run(backend, func(b *testing.B) {
			var st store.Store
			if backend == "postgres" {
				st = openStore(b, "")
			} else {
				f, err := file.Open(filepath.Join(b.TempDir(), "lintel.db"), nil)
				require.NoError(b, err)
				b.Cleanup(func() { f.Close() })
				st = f
			}
			svc, err := access.New(ctx, st, access.WithCapabilities(access.Capabilities{}))
			require.NoError(b, err)
			var batch []access.Identifier
			for i := range 1000 {
				batch = append(batch, card(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprint(i+1)))
			}
			_, err = svc.UpsertIdentifiers(ctx, batch)
			require.NoError(b, err)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d, err := svc.Decide(ctx, access.Request{Type: access.Card, Number: fmt.Sprint(i%1000 + 1), Lock: 1, At: morning})
				if err != nil || !d.Allow {
					b.Fatal(d, err)
				}
				i++
			}
		})
	}
}
