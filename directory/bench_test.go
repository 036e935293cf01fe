package directory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

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

func BenchmarkQuerySinceRecent(b *testing.B) {
	ctx := context.Background()
	d := open(b, directory.WithCapacity(100_000))
	var first []directory.EntryResult
	for chunk := range 10 {
		res, err := d.Create(ctx, entries(10_000, func(i int) string {
			return fmt.Sprintf(`{"name":"resident %d","access":{"pin":"%04d"}}`, chunk*10_000+i, i)
		}), false)
		require.NoError(b, err)
		if chunk == 0 {
			first = res.Users[:10]
		}
	}
	series, err := d.Series(ctx)
	require.NoError(b, err)
	const since = 100_000 // the last timestamp of the full directory
	res, err := d.Update(ctx, entries(10, func(i int) string { return fmt.Sprintf(`{"uuid":%q,"name":"moved %d"}`, first[i].UUID, i) }))
	require.NoError(b, err)
	require.Equal(b, int64(since+1), res.Users[0].Timestamp)
	b.ReportAllocs()
	for b.Loop() {
		q, err := d.Query(ctx, series, since, nil)
		if err != nil || len(q.Users) != 10 {
			b.Fatal(err, len(q.Users))
		}
	}
}
