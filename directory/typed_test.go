package directory_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

func TestEntrySet(t *testing.T) {
	tests := []struct {
		path string
		v    any
		code directory.ErrorCode // "" for no error
		want any                 // what Get returns after, when no error
	}{
		{"name", "Ada", "", "Ada"},
		{" name ", "Ada", "", "Ada"},
		{"access.pin", "1234", "", "1234"},
		{"access.pin", "12a4", directory.FieldValueError, nil},
		{"access.pin", "1", directory.FieldValueError, nil},
		{"access.pin", 1234, directory.FieldValueError, nil},
		{"access.card[1]", "0A1B", "", "0A1B"},
		{"access.card[2]", "0A1B", directory.FieldNameUnknown, nil},
		{"access.code[3]", "1234567890123456", "", "1234567890123456"},
		{"access.accessPoints[1].enabled", false, "", false},
		{"access.accessPoints[1].enabled", "false", directory.FieldValueError, nil},
		{"callPos[0].peer", "sip:1@pbx", "", "sip:1@pbx"},
		{"callPos[2].grouped", true, "", true},
		{"callPos[2].grouped", 1, directory.FieldValueError, nil},
		{"callPos.peer", "sip:1@pbx", directory.FieldNameUnknown, nil}, // a selection name, not one value
		{"callPos[3].peer", "sip:1@pbx", directory.FieldNameUnknown, nil},
		{"callPos[1]", "x", directory.FieldValueError, nil}, // an object
		{"access", "x", directory.FieldValueError, nil},
		{"access.card", "0A", directory.FieldValueError, nil}, // an array
		{"email", "nobody", directory.FieldValueError, nil},
		{"email", "", "", ""},
		{"treepath", "/floor/1", "", "/floor/1"},
		{"access.validFrom", "tomorrow", directory.FieldValueError, nil},
		{"albert", "einstein", directory.FieldNameUnknown, nil},
		{"timestamp", "1", directory.FieldNameUnknown, nil},
		{"deleted", true, directory.FieldValueError, nil},
		{"uuid", "01234567-89AB-CDEF-0123-456789ABCDEF", "", "01234567-89AB-CDEF-0123-456789ABCDEF"},
		{"uuid", 7, directory.FieldValueError, nil},
	}
	for _, tc := range tests {
		var e directory.Entry
		err := e.Set(tc.path, tc.v)
		if tc.code != "" {
			require.ErrorIs(t, err, tc.code, "Set(%q, %v)", tc.path, tc.v)
			var ee directory.EntryError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, directory.EntryError{Code: tc.code, Field: trimmed(tc.path)}, ee)
			assert.Empty(t, collect(e), "a refused value is not set")
			continue
		}
		require.NoError(t, err, "Set(%q, %v)", tc.path, tc.v)
		got, err := e.Get(tc.path)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.path)
		assert.Equal(t, tc.path != "uuid", e.Has(tc.path), "Has(%q)", tc.path)
	}
}

func trimmed(path string) string {
	if path == " name " {
		return "name"
	}
	return path
}

func collect(e directory.Entry) map[string]any { return maps.Collect(e.All()) }

func TestEntryGet(t *testing.T) {
	var e directory.Entry
	require.NoError(t, e.SetString("name", "Ada"))
	require.NoError(t, e.SetBool("callPos[1].grouped", true))
	tests := []struct {
		path string
		want any
		code directory.ErrorCode
	}{
		{"name", "Ada", ""},
		{"callPos[1].grouped", true, ""},
		{"treepath", "/", ""},                        // the default
		{"access.validTo", "0", ""},                  // the default
		{"access.accessPoints[0].enabled", true, ""}, // the default
		{"deleted", false, ""},
		{"uuid", "", ""},
		{"access", nil, directory.FieldValueError},
		{"callPos.grouped", nil, directory.FieldNameUnknown},
		{"albert", nil, directory.FieldNameUnknown},
	}
	for _, tc := range tests {
		got, err := e.Get(tc.path)
		if tc.code != "" {
			assert.ErrorIs(t, err, tc.code, tc.path)
			continue
		}
		require.NoError(t, err, tc.path)
		assert.Equal(t, tc.want, got, tc.path)
	}

	s, err := e.GetString("name")
	require.NoError(t, err)
	assert.Equal(t, "Ada", s)
	_, err = e.GetString("callPos[1].grouped")
	assert.Equal(t, directory.EntryError{Code: directory.FieldValueError, Field: "callPos[1].grouped"}, err)
	b, err := e.GetBool("callPos[1].grouped")
	require.NoError(t, err)
	assert.True(t, b)
	_, err = e.GetBool("name")
	assert.ErrorIs(t, err, directory.FieldValueError)
	_, err = e.GetBool("retina")
	assert.ErrorIs(t, err, directory.FieldNameUnknown)
	assert.False(t, e.Has("retina"))
	assert.Equal(t, "directory: EDIR_FIELD_VALUE_ERROR (name)", directory.EntryError{Code: directory.FieldValueError, Field: "name"}.Error())
	assert.Equal(t, "directory: EDIR_UUID_DOES_NOT_EXIST", directory.EntryError{Code: directory.UUIDDoesNotExist}.Error())
}

// An Entry keeps the order its fields were first set in; Unset removes
// one; a copy does not see the changes of the original, once it sets.
func TestEntryOrderAndCopies(t *testing.T) {
	var e directory.Entry
	for _, kv := range [][2]string{{"email", "a@b.cz"}, {"name", "Ada"}, {"access.pin", "1234"}, {"name", "Eve"}} {
		require.NoError(t, e.Set(kv[0], kv[1]))
	}
	assert.Equal(t, []string{"email", "name", "access.pin"}, paths(e))
	alias, clone := e, e.Clone()
	require.NoError(t, e.Set("email", "c@d.cz"))
	require.NoError(t, e.Unset("name"))
	require.NoError(t, e.Set("owner", "Acme"))
	assert.Equal(t, []string{"email", "access.pin", "owner"}, paths(e))
	for _, c := range []directory.Entry{alias, clone} {
		assert.Equal(t, []string{"email", "name", "access.pin"}, paths(c))
		got, _ := c.GetString("email")
		assert.Equal(t, "a@b.cz", got)
	}
	assert.ErrorIs(t, e.Unset("albert"), directory.FieldNameUnknown)
	assert.ErrorIs(t, e.Unset("deleted"), directory.FieldValueError)
}

func paths(e directory.Entry) []string {
	var out []string
	for p := range e.All() {
		out = append(out, p)
	}
	return out
}

func TestEntryJSON(t *testing.T) {
	var e directory.Entry
	for _, kv := range []struct {
		path string
		v    any
	}{{"name", "Ada"}, {"access.pin", "1234"}, {"callPos[1].peer", "sip:1@pbx"}, {"email", ""}, {"access.card[1]", "0A"}, {"access.code[0]", "12"}} {
		require.NoError(t, e.Set(kv.path, kv.v))
	}
	out, err := json.Marshal(e)
	require.NoError(t, err)
	// Nested as the API nests; a default set is written; an array of text
	// set in part names its positions, so as not to set the others.
	assert.Equal(t, `{"name":"Ada","access":{"pin":"1234","card[1]":"0A","code[0]":"12"},"callPos":[{},{"peer":"sip:1@pbx"},{}],"email":""}`, string(out))

	var back directory.Entry
	require.NoError(t, json.Unmarshal(out, &back))
	assert.Equal(t, collect(e), collect(back))

	var read directory.Entry
	require.NoError(t, json.Unmarshal([]byte(`{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","deleted":true,"timestamp":5}`), &read))
	assert.True(t, read.Deleted())
	assert.Equal(t, int64(5), read.Timestamp())
	out, err = json.Marshal(read)
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","deleted":true,"timestamp":5}`, string(out))

	for body, code := range map[string]directory.ErrorCode{
		`{"albert":"einstein"}`:     directory.FieldNameUnknown,
		`{"access":{"pin":"x"}}`:    directory.FieldValueError,
		`{"timestamp":"5"}`:         directory.FieldValueError,
		`{"deleted":1}`:             directory.FieldValueError,
		`{"uuid":5}`:                directory.FieldValueError,
		`{"callPos":[{},{},{},{}]}`: directory.FieldValueError,
	} {
		keep := e.Clone()
		err := json.Unmarshal([]byte(body), &keep)
		assert.ErrorIs(t, err, code, body)
		assert.Equal(t, collect(e), collect(keep), "%s: the entry is unchanged", body)
	}
	assert.Error(t, json.Unmarshal([]byte(`["not an object"]`), &back))
}

// The 2N test suite: get without fields returns the fields in the order
// they were written, through the store, a new Directory on it, and updates.
func TestFieldOrder(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	d, err := directory.Open(ctx, st)
	require.NoError(t, err)
	const id = "01234567-89AB-CDEF-0123-456789ABCDEF"
	get := func(d *directory.Directory) string {
		t.Helper()
		res, err := d.Get(ctx, []string{id}, nil)
		require.NoError(t, err)
		return string(res.Users[0])
	}
	_, err = d.Create(ctx, raws(t, `[{"uuid":"`+id+`","email":"ada@example.com","name":"Ada","access.card[1]":"0A","owner":"Acme","access":{"pin":"1234"},"callPos[1].peer":"sip:1@pbx","callPos[0].grouped":true}]`), false)
	require.NoError(t, err)
	want := `{"uuid":"` + id + `","email":"ada@example.com","name":"Ada","access":{"card":["","0A"],"pin":"1234"},"owner":"Acme","callPos":[{"grouped":true},{"peer":"sip:1@pbx"},{}],"timestamp":1}`
	assert.Equal(t, want, get(d))

	again, err := directory.Open(ctx, st)
	require.NoError(t, err)
	assert.Equal(t, want, get(again), "read back by another Directory")

	// An update keeps the place of the fields it sets again, appends a new
	// one, and drops one set back to its default (set again, it comes last).
	_, err = d.Update(ctx, raws(t, `[{"uuid":"`+id+`","deputy":"Bob","name":"Ada L.","email":"","access.pin":"4321"}]`))
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","name":"Ada L.","access":{"card":["","0A"],"pin":"4321"},"owner":"Acme","callPos":[{"grouped":true},{"peer":"sip:1@pbx"},{}],"deputy":"Bob","timestamp":2}`, get(d))
	_, err = d.Update(ctx, raws(t, `[{"uuid":"`+id+`","email":"ada@example.org"}]`))
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","name":"Ada L.","access":{"card":["","0A"],"pin":"4321"},"owner":"Acme","callPos":[{"grouped":true},{"peer":"sip:1@pbx"},{}],"deputy":"Bob","email":"ada@example.org","timestamp":3}`, get(d))

	q, err := d.Query(ctx, "", 0, nil)
	require.NoError(t, err)
	assert.Equal(t, get(d), string(q.Users[0]), "query as get")

	// A field named twice in one entry keeps its first place, and its last value.
	_, err = d.Create(ctx, raws(t, `[{"uuid":"`+id+`","owner":"x","name":"A","owner":"y"}]`), true)
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","owner":"y","name":"A","timestamp":4}`, get(d), "force starts over")

	// All fields, and fields named, keep the template's order.
	res, err := d.Get(ctx, []string{id}, []string{"name", "owner"})
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","owner":"y","name":"A","timestamp":4}`, string(res.Users[0]))
}

// Records written as JSON by earlier versions are read in template order
// and keep that order, and the owner index, through an update.
func TestJSONRecordsAreRead(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	d, err := directory.Open(ctx, st)
	require.NoError(t, err)
	const id = "01234567-89AB-CDEF-0123-456789ABCDEF"
	err = st.Update(ctx, func(tx store.Tx) error {
		rec := `{"uuid":"` + id + `","timestamp":1,"values":{"name":"Ada","access.pin":"1234","owner":"Acme","email":"a@b.cz"}}`
		for _, kv := range [][3][]byte{
			{[]byte("directory.entries"), []byte(id), []byte(rec)},
			{[]byte("directory.changes"), binary.BigEndian.AppendUint64(nil, 1), []byte(id)},
			{[]byte("directory.owners"), store.Key("Acme", id), nil},
			{[]byte("directory.meta"), []byte("timestamp"), binary.BigEndian.AppendUint64(nil, 1)},
			{[]byte("directory.meta"), []byte("live"), binary.BigEndian.AppendUint64(nil, 1)},
		} {
			if err := tx.Put(kv[0], kv[1], kv[2]); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	q, err := d.Query(ctx, "", 0, nil)
	require.NoError(t, err)
	require.Len(t, q.Users, 1)
	assert.Equal(t, `{"uuid":"`+id+`","owner":"Acme","name":"Ada","email":"a@b.cz","access":{"pin":"1234"},"timestamp":1}`, string(q.Users[0]))

	_, err = d.Update(ctx, raws(t, `[{"uuid":"`+id+`","deputy":"Bob","owner":"Other"}]`))
	require.NoError(t, err)
	e, err := d.Entry(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, []string{"owner", "name", "email", "access.pin", "deputy"}, paths(e))
	res, err := d.Delete(ctx, nil, "Acme")
	require.NoError(t, err)
	assert.Empty(t, res.Users, "the old owner no longer has the entry")
	res, err = d.Delete(ctx, nil, "Other")
	require.NoError(t, err)
	assert.Len(t, res.Users, 1)
}

// An update that changes an entry's owner moves it in the owner index: a
// delete by the old owner leaves it alone.
func TestOwnerChange(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	res, err := d.Create(ctx, raws(t, `[{"owner":"Acme","name":"x"}]`), false)
	require.NoError(t, err)
	id := res.Users[0].UUID
	_, err = d.Update(ctx, raws(t, `[{"uuid":"`+id+`","owner":"Other"}]`))
	require.NoError(t, err)
	res, err = d.Delete(ctx, nil, "Acme")
	require.NoError(t, err)
	assert.Empty(t, res.Users)
	e, err := d.Entry(ctx, id)
	require.NoError(t, err)
	assert.False(t, e.Deleted())
	res, err = d.Delete(ctx, nil, "Other")
	require.NoError(t, err)
	assert.Len(t, res.Users, 1)
}

func TestEntriesAPI(t *testing.T) {
	ctx := context.Background()
	d := open(t, directory.WithModel(directory.AccessUnitModel()))
	var ada, bad directory.Entry
	require.NoError(t, ada.SetString("name", "Ada"))
	require.NoError(t, ada.SetString("access.pin", "1234"))
	require.NoError(t, bad.SetString("callPos[0].peer", "sip:1@pbx")) // an access unit has no call positions
	require.NoError(t, bad.SetString("name", "Bad"))
	res, err := d.CreateEntries(ctx, []directory.Entry{ada, bad}, false)
	require.NoError(t, err)
	require.Len(t, res.Users, 2)
	assert.Empty(t, res.Users[0].Errors)
	assert.Equal(t, []directory.EntryError{{Code: directory.FieldNotAvailable, Field: "callPos[0].peer"}}, res.Users[1].Errors)
	id := res.Users[0].UUID

	got, err := d.Entry(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, id, got.UUID)
	assert.Equal(t, int64(1), got.Timestamp())
	assert.Equal(t, map[string]any{"name": "Ada", "access.pin": "1234"}, collect(got))

	// Update what the entry read back sets, and reset the PIN.
	require.NoError(t, got.SetString("name", "Ada L."))
	require.NoError(t, got.SetString("access.pin", ""))
	var noUUID directory.Entry
	res, err = d.UpdateEntries(ctx, []directory.Entry{got, noUUID})
	require.NoError(t, err)
	assert.Equal(t, int64(2), res.Users[0].Timestamp)
	assert.Equal(t, []directory.EntryError{{Code: directory.UUIDIsMissing}}, res.Users[1].Errors)
	got, err = d.Entry(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"name": "Ada L."}, collect(got))

	_, err = d.Entry(ctx, "01234567-89AB-CDEF-0123-456789ABCDEF")
	assert.Equal(t, directory.EntryError{Code: directory.UUIDDoesNotExist}, err)
	_, err = d.Entry(ctx, "nonsense")
	assert.ErrorIs(t, err, directory.UUIDInvalidFormat)

	_, err = d.Delete(ctx, []string{id}, "")
	require.NoError(t, err)
	got, err = d.Entry(ctx, id)
	require.NoError(t, err)
	assert.True(t, got.Deleted())
	assert.Empty(t, collect(got))

	var seen []string
	series, err := d.QueryEntries(ctx, res.Series, 0, func(series string, e directory.Entry) error {
		seen = append(seen, e.UUID)
		assert.True(t, e.Deleted())
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, res.Series, series)
	assert.Equal(t, []string{id}, seen)
	stop := errors.New("stop")
	_, err = d.QueryEntries(ctx, res.Series, 0, func(string, directory.Entry) error { return stop })
	assert.ErrorIs(t, err, stop)

	var re *directory.RequestError
	_, err = d.CreateEntries(ctx, nil, false)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, directory.CodeMissingParameter, re.Code)
	_, err = d.UpdateEntries(ctx, nil)
	require.ErrorAs(t, err, &re)
}
