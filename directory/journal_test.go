package directory_test

import (
	"context"
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
