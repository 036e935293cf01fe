package directory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store/memory"
)

func TestChangesAreJournaled(t *testing.T) {
	ctx := journal.WithSource(context.Background(), "admin")
	st := memory.New()
	j, err := journal.Open(ctx, st, journal.Options{})
	require.NoError(t, err)
	defer j.Close(ctx)
	d, err := directory.Open(ctx, st, directory.WithJournal(j), directory.WithCapacity(2))
	require.NoError(t, err)

	const id = "01234567-89AB-CDEF-0123-456789ABCDEF"
	_, err = d.Create(ctx, raws(t, `[{"uuid":"`+id+`","name":"Ada"},{"uuid":"bad","name":"x"}]`), false)
	require.NoError(t, err)
	_, err = d.Update(ctx, raws(t, `[{"uuid":"`+id+`","name":"Ada L."}]`))
	require.NoError(t, err)
	_, err = d.Create(ctx, raws(t, `[{},{},{}]`), false)
	require.ErrorIs(t, err, directory.ErrFull, "refused whole: no event")
	_, err = d.Delete(ctx, []string{id}, "")
	require.NoError(t, err)

	evs, err := j.Events(ctx, 0, journal.Filter{Kinds: []journal.Kind{journal.Directory}}, 0)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	for i, want := range []struct {
		name  string
		items []journal.Item
	}{
		{"create", []journal.Item{{LinkID: id, Outcome: "ok"}, {LinkID: "bad", Outcome: "EDIR_FIELD_VALUE_ERROR"}}},
		{"update", []journal.Item{{LinkID: id, Outcome: "ok"}}},
		{"delete", []journal.Item{{LinkID: id, Outcome: "ok"}}},
	} {
		assert.Equal(t, want.name, evs[i].Name)
		assert.Equal(t, want.items, evs[i].Items)
		assert.Equal(t, "admin", evs[i].Source)
	}
}

// 2N's test suite: create with a malformed uuid is a bad field value, while
// get, update and delete call the same uuid an invalid format.
func TestMalformedUUIDCodes(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	const bad = "01234567-89A-CDEF-0123-456789ABCDEF"
	res, err := d.Create(ctx, raws(t, `[{"uuid":"`+bad+`","name":"x"}]`), false)
	require.NoError(t, err)
	assert.Equal(t, []directory.EntryError{{Code: directory.FieldValueError, Field: "uuid"}}, res.Users[0].Errors)
	res, err = d.Update(ctx, raws(t, `[{"uuid":"`+bad+`","name":"x"}]`))
	require.NoError(t, err)
	assert.Equal(t, directory.UUIDInvalidFormat, res.Users[0].Errors[0].Code)
	res, err = d.Delete(ctx, []string{bad}, "")
	require.NoError(t, err)
	assert.Equal(t, directory.UUIDInvalidFormat, res.Users[0].Errors[0].Code)
}

// A field named in fields is always returned: deleted:false of a live
// entry too.
func TestNamedDeletedFieldIsReturned(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	res, err := d.Create(ctx, raws(t, `[{"name":"Ada"}]`), false)
	require.NoError(t, err)
	id := res.Users[0].UUID
	got, err := d.Get(ctx, []string{id}, []string{"deleted"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"uuid":"`+id+`","deleted":false,"timestamp":1}`, string(got.Users[0]))
	q, err := d.Query(ctx, res.Series, 0, []string{"deleted", "name"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"uuid":"`+id+`","deleted":false,"name":"Ada","timestamp":1}`, string(q.Users[0]))
	got, err = d.Get(ctx, []string{id}, []string{"name"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"uuid":"`+id+`","name":"Ada","timestamp":1}`, string(got.Users[0]), "not asked for, not there")
}

// A query of a directory of large photos streams: while QueryEach
// delivers the answer, no more than a chunk of it is alive at once.
func TestQueryEachHoldsAChunkAtATime(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a directory with 24 MB of photos")
	}
	ctx := context.Background()
	d := open(t, directory.WithCapacity(1000))
	photo := strings.Repeat("A", 384<<10)
	const n = 64
	for i := range n / 8 {
		batch := make([]json.RawMessage, 8)
		for k := range batch {
			batch[k] = json.RawMessage(fmt.Sprintf(`{"name":"resident %d","photo":%q}`, i*8+k, photo))
		}
		_, err := d.Create(ctx, batch, false)
		require.NoError(t, err)
	}
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := live()
	var peak uint64
	count := 0
	_, err := d.QueryEach(ctx, "", 0, nil, func(_ string, entry json.RawMessage) error {
		count++
		if count%8 == 0 {
			peak = max(peak, live())
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, n, count)
	held := int64(peak) - int64(base)
	t.Logf("answer %d MB; at most %d MB alive beyond the store while streaming", n*len(photo)>>20, held>>20)
	assert.Less(t, held, int64(12<<20), "a 4 MiB chunk and change, not the 24 MB answer")
}
