package directory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/directory"
)

func entries(n int, f func(i int) string) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(f(i))
	}
	return out
}

func BenchmarkUpdate1000(b *testing.B) {
	ctx := context.Background()
	d := open(b)
	uuid := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1) }
	_, err := d.Create(ctx, entries(1000, func(i int) string { return `{"uuid":"` + uuid(i) + `","name":"resident"}` }), false)
	require.NoError(b, err)
	round := 0
	b.ReportAllocs()
	for b.Loop() {
		round++
		batch := entries(1000, func(i int) string {
			return fmt.Sprintf(`{"uuid":%q,"name":"resident %d","access":{"pin":"%04d"},"callPos[0].peer":"sip:%d@pbx"}`, uuid(i), round, i, i)
		})
		res, err := d.Update(ctx, batch)
		if err != nil || len(res.Users[999].Errors) > 0 {
			b.Fatal(err, res.Users[999].Errors)
		}
	}
	b.ReportMetric(1000, "entries/op")
}

// BenchmarkQuerySinceRecent asks for the 10 entries changed since the last
// full sync, in directories of 100, 10,000 and 100,000 entries: its cost
// should follow the 10 changes, not the directory.
func BenchmarkQuerySinceRecent(b *testing.B) {
	for _, size := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("entries=%d", size), func(b *testing.B) {
			ctx := context.Background()
			d := open(b, directory.WithCapacity(size))
			var first []directory.EntryResult
			for done := 0; done < size; {
				n := min(size-done, 10_000)
				res, err := d.Create(ctx, entries(n, func(i int) string {
					return fmt.Sprintf(`{"name":"resident %d","access":{"pin":"%04d"}}`, done+i, i)
				}), false)
				require.NoError(b, err)
				if done == 0 {
					first = res.Users[:10]
				}
				done += n
			}
			series, err := d.Series(ctx)
			require.NoError(b, err)
			since := int64(size) // the last timestamp of the full directory
			res, err := d.Update(ctx, entries(10, func(i int) string { return fmt.Sprintf(`{"uuid":%q,"name":"moved %d"}`, first[i].UUID, i) }))
			require.NoError(b, err)
			require.Equal(b, since+1, res.Users[0].Timestamp)
			b.ReportAllocs()
			for b.Loop() {
				q, err := d.Query(ctx, series, since, nil)
				if err != nil || len(q.Users) != 10 {
					b.Fatal(err, len(q.Users))
				}
			}
		})
	}
}

// BenchmarkGet reads 10 entries by uuid, all fields, in a directory of
// 10,000.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	d := open(b)
	res, err := d.Create(ctx, entries(10_000, func(i int) string {
		return fmt.Sprintf(`{"name":"resident %d","email":"r%d@example.com","access":{"pin":"%04d","card":["0A%04d",""]},"callPos[0].peer":"sip:%d@pbx"}`, i, i, i, i, i)
	}), false)
	require.NoError(b, err)
	var ids []string
	for _, u := range res.Users[5000:5010] {
		ids = append(ids, u.UUID)
	}
	for _, c := range []struct {
		name   string
		fields []string
	}{{"NonDefault", nil}, {"All", []string{}}, {"Named", []string{"name", "access.pin"}}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g, err := d.Get(ctx, ids, c.fields)
				if err != nil || len(g.Users) != 10 {
					b.Fatal(err, len(g.Users))
				}
			}
		})
	}
}

// BenchmarkFindCard finds a card among 10,000 entries that hold two each,
// by its full id and by a 6-character suffix (which both cards of the
// entry match).
func BenchmarkFindCard(b *testing.B) {
	ctx := context.Background()
	d := open(b)
	res, err := d.Create(ctx, entries(10_000, func(i int) string {
		return fmt.Sprintf(`{"name":"resident %d","access":{"card":["0A%08X","1B%08X"]}}`, i, i, i)
	}), false)
	require.NoError(b, err)
	want := res.Users[5000].UUID
	for _, card := range []string{"0A00001388", "001388"} {
		b.Run(card, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				uuid, found, err := d.FindCard(ctx, card)
				if err != nil || !found || uuid != want {
					b.Fatal(uuid, found, err)
				}
			}
		})
	}
}

// BenchmarkCheckAccess checks one entry with a validity among 10,000.
func BenchmarkCheckAccess(b *testing.B) {
	ctx := context.Background()
	d := open(b)
	res, err := d.Create(ctx, entries(10_000, func(i int) string {
		return fmt.Sprintf(`{"name":"resident %d","access":{"validFrom":"1700000000","validTo":"1900000000","pin":"%04d"}}`, i, i)
	}), false)
	require.NoError(b, err)
	id := res.Users[5000].UUID
	at := time.Unix(1_800_000_000, 0)
	b.ReportAllocs()
	for b.Loop() {
		granted, _, err := d.CheckAccess(ctx, id, 1, at)
		if err != nil || !granted {
			b.Fatal(granted, err)
		}
	}
}
