package directory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

func open(t testing.TB, opts ...directory.Option) *directory.Directory {
	t.Helper()
	opts = append([]directory.Option{directory.WithSeriesGenerator(func() string { return "6423407687606431951" })}, opts...)
	d, err := directory.Open(context.Background(), memory.New(), opts...)
	require.NoError(t, err)
	return d
}

func raws(t testing.TB, list string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(list), &out))
	return out
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestCodeSpellings(t *testing.T) {
	for code, s := range map[directory.ErrorCode]string{
		directory.UUIDDoesNotExist: "EDIR_UUID_DOES_NOT_EXIST", directory.UUIDInvalidFormat: "EDIR_UUID_INVALID_FORMAT",
		directory.UUIDIsMissing: "EDIR_UUID_IS_MISSING", directory.UUIDAlreadyExists: "EDIR_UUID_ALREADY_EXISTS",
		directory.FieldNameUnknown: "EDIR_FIELD_NAME_UNKNOWN", directory.FieldNotAvailable: "EDIR_FIELD_NOT_AVAILABLE",
		directory.FieldValueError: "EDIR_FIELD_VALUE_ERROR",
	} {
		assert.Equal(t, s, string(code))
	}
}

// The seed dir-update.txt: its request and response, given that the first
// uuid exists (created just before, so its change is timestamp 39 after 38
// others) and the second does not.
func TestSeedUpdate(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	for i := range 37 {
		_, err := d.Create(ctx, raws(t, fmt.Sprintf(`[{"name":"filler %d"}]`, i)), false)
		require.NoError(t, err)
	}
	res, err := d.Create(ctx, raws(t, `[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"old"}]`), false)
	require.NoError(t, err)
	require.Equal(t, int64(38), res.Users[0].Timestamp)

	res, err = d.Update(ctx, raws(t, `[ { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "name": "ABCD", "email": "abcd@def.cz", "access": { "pin": "1234" } }, { "uuid": "76543210-68FF-18CA-3210-FEDCBA987654", "name": "ABCD2", "owner": "My2N", "email": "abcd2@def.cz" }, { "uuid": "01234567-89A-CDEF-0123-456789ABCDEF", "name": "ABCD3", "owner": "My2N", "email": "abcd3@def.cz" }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "name": "ABCD4", "owner": "My2N", "email": "abcd4@def.cz", "albert": "einstein" }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "name": "ABCD4", "owner": "My2N", "email": "abcd4@def.cz", "access.pin": "hello" } ]`))
	require.NoError(t, err)
	envelope := map[string]any{"success": true, "result": res}
	assert.JSONEq(t, `{ "success": true, "result": { "series": "6423407687606431951", "users": [ { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "timestamp": 39 }, { "uuid": "76543210-68FF-18CA-3210-FEDCBA987654", "errors": [ { "code": "EDIR_UUID_DOES_NOT_EXIST" } ] }, { "uuid": "01234567-89A-CDEF-0123-456789ABCDEF", "errors": [ { "code": "EDIR_UUID_INVALID_FORMAT" } ] }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "errors": [ { "code": "EDIR_FIELD_NAME_UNKNOWN", "field": "albert" } ] }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "errors": [ { "code": "EDIR_FIELD_VALUE_ERROR", "field": "access.pin" } ] } ] } }`,
		jsonOf(t, envelope))

	// Only the first entry changed the directory.
	got, err := d.Get(ctx, []string{"01234567-89ab-cdef-0123-456789abcdef"}, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"ABCD","email":"abcd@def.cz","access":{"pin":"1234"},"timestamp":39}`, string(got.Users[0]))
}

func TestFieldErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		model directory.Model
		entry string
		want  []directory.EntryError
	}{
		{"nested pin", directory.VersoModel(), `{"access":{"pin":"1"}}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "access.pin"}}},
		{"pin too long", directory.VersoModel(), `{"access.pin":"1234567890123456"}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "access.pin"}}},
		{"code letters", directory.VersoModel(), `{"access":{"code":["12","ab"]}}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "access.code[1]"}}},
		{"too many codes", directory.VersoModel(), `{"access":{"code":["12","34","56","78","90"]}}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "access.code"}}},
		{"bool as string", directory.VersoModel(), `{"callPos[1].grouped":"yes"}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "callPos[1].grouped"}}},
		{"string as number", directory.VersoModel(), `{"name":42}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "name"}}},
		{"bad email", directory.VersoModel(), `{"email":"nobody"}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "email"}}},
		{"validFrom not seconds", directory.VersoModel(), `{"access":{"validFrom":"tomorrow"}}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "access.validFrom"}}},
		{"treepath", directory.VersoModel(), `{"treepath":"floor1"}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "treepath"}}},
		{"unknown, nested", directory.VersoModel(), `{"access":{"retina":"x"}}`, []directory.EntryError{{Code: directory.FieldNameUnknown, Field: "access.retina"}}},
		{"unknown and bad, both", directory.VersoModel(), `{"albert":"einstein","access.pin":"x"}`,
			[]directory.EntryError{{Code: directory.FieldNameUnknown, Field: "albert"}, {Code: directory.FieldValueError, Field: "access.pin"}}},
		{"not on this model", directory.AccessUnitModel(), `{"callPos":[{"peer":"sip:1@x"}]}`, []directory.EntryError{{Code: directory.FieldNotAvailable, Field: "callPos"}}},
		{"not on this model, dotted", directory.AccessUnitModel(), `{"callPos[0].peer":"sip:1@x"}`, []directory.EntryError{{Code: directory.FieldNotAvailable, Field: "callPos[0].peer"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := open(t, directory.WithModel(tc.model))
			res, err := d.Create(ctx, raws(t, `[`+tc.entry+`]`), false)
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Users[0].Errors)
			q, err := d.Query(ctx, res.Series, 0, nil)
			require.NoError(t, err)
			assert.Empty(t, q.Users, "a rejected entry writes nothing")
		})
	}
}

func TestCreateUpdateDeleteSemantics(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	const id = "11111111-2222-3333-4444-555555555555"
	res, err := d.Create(ctx, raws(t, `[{"uuid":"`+id+`","name":"A","owner":"My2N","callPos":[{"peer":"sip:1@x"},{},{"grouped":true}]}, {"name":"generated"}]`), false)
	require.NoError(t, err)
	require.Len(t, res.Users, 2)
	assert.Equal(t, int64(1), res.Users[0].Timestamp)
	assert.Len(t, res.Users[1].UUID, 36, "a uuid is made for an entry without one")

	res, err = d.Create(ctx, raws(t, `[{"uuid":"`+id+`","name":"B"}]`), false)
	require.NoError(t, err)
	assert.Equal(t, []directory.EntryError{{Code: directory.UUIDAlreadyExists}}, res.Users[0].Errors)

	res, err = d.Create(ctx, raws(t, `[{"uuid":"`+id+`","name":"B"}]`), true)
	require.NoError(t, err)
	assert.Equal(t, int64(3), res.Users[0].Timestamp)
	got, err := d.Get(ctx, []string{id}, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"uuid":"`+id+`","name":"B","timestamp":3}`, string(got.Users[0]), "force resets what it does not send")

	res, err = d.Update(ctx, raws(t, `[{"name":"no uuid"}, {"uuid":"`+id+`","deleted":true,"timestamp":999,"callPos[2].grouped":true}]`))
	require.NoError(t, err)
	assert.Equal(t, []directory.EntryError{{Code: directory.UUIDIsMissing}}, res.Users[0].Errors)
	assert.Equal(t, int64(4), res.Users[1].Timestamp)
	got, err = d.Get(ctx, []string{id}, []string{"callPos.grouped", "name"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"uuid":"`+id+`","name":"B","callPos":[{"grouped":false},{"grouped":false},{"grouped":true}],"timestamp":4}`, string(got.Users[0]))

	res, err = d.Delete(ctx, []string{id, id, "00000000-0000-0000-0000-000000000000"}, "")
	require.NoError(t, err)
	assert.Equal(t, int64(5), res.Users[0].Timestamp)
	assert.Equal(t, directory.UUIDDoesNotExist, res.Users[1].Errors[0].Code)
	assert.Equal(t, directory.UUIDInvalidFormat, res.Users[2].Errors[0].Code, "the all-zero uuid is reserved")
	got, err = d.Get(ctx, []string{id}, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"uuid":"`+id+`","deleted":true,"timestamp":5}`, string(got.Users[0]))
	res, err = d.Update(ctx, raws(t, `[{"uuid":"`+id+`","name":"C"}]`))
	require.NoError(t, err)
	assert.Equal(t, directory.UUIDDoesNotExist, res.Users[0].Errors[0].Code, "a tombstone cannot be updated")
	res, err = d.Create(ctx, raws(t, `[{"uuid":"`+id+`","name":"again"}]`), false)
	require.NoError(t, err)
	assert.Empty(t, res.Users[0].Errors, "a tombstone's uuid can be created again")

	// Delete by owner, and only that owner: not one whose name begins with
	// it and a 0 byte.
	_, err = d.Create(ctx, raws(t, `[{"owner":"Acme","name":"x"},{"owner":"Acme","name":"y"},{"owner":"Other","name":"z"},
		{"owner":"Acme\u0000corp","name":"w"}]`), false)
	require.NoError(t, err)
	res, err = d.Delete(ctx, nil, "Acme")
	require.NoError(t, err)
	assert.Len(t, res.Users, 2)
	res, err = d.Delete(ctx, nil, "Acme\x00corp")
	require.NoError(t, err)
	assert.Len(t, res.Users, 1)
}

// A store whose owner index was written with 0-joined keys is re-indexed
// when the directory is opened.
func TestOldOwnerIndexIsRebuilt(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	d, err := directory.Open(ctx, st)
	require.NoError(t, err)
	_, err = d.Create(ctx, raws(t, `[{"owner":"Acme","name":"x"}]`), false)
	require.NoError(t, err)
	err = st.Update(ctx, func(tx store.Tx) error {
		var keys [][]byte
		require.NoError(t, tx.Scan([]byte("directory.owners"), nil, func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil }))
		require.Len(t, keys, 1)
		parts, err := store.SplitKey(keys[0])
		require.NoError(t, err)
		require.NoError(t, tx.Delete([]byte("directory.owners"), keys[0]))
		require.NoError(t, tx.Put([]byte("directory.owners"), []byte(parts[0]+"\x00"+parts[1]), nil))
		return tx.Delete([]byte("directory.meta"), []byte("owners.layout"))
	})
	require.NoError(t, err)
	d, err = directory.Open(ctx, st)
	require.NoError(t, err)
	res, err := d.Delete(ctx, nil, "Acme")
	require.NoError(t, err)
	assert.Len(t, res.Users, 1)
}

func TestRequestErrors(t *testing.T) {
	ctx := context.Background()
	d := open(t, directory.WithCapacity(2), directory.WithMaxPerRequest(3))
	var re *directory.RequestError
	_, err := d.Update(ctx, nil)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, directory.CodeMissingParameter, re.Code)
	_, err = d.Create(ctx, raws(t, `[{},{},{},{}]`), false)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, directory.CodeDataTooBig, re.Code)
	_, err = d.Create(ctx, raws(t, `[{},{},{}]`), false)
	require.ErrorIs(t, err, directory.ErrFull)
	_, err = d.Create(ctx, raws(t, `["not an object"]`), false)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, directory.CodeInvalidParameter, re.Code)
	_, err = d.Delete(ctx, nil, "")
	require.ErrorAs(t, err, &re)
	assert.Equal(t, directory.CodeMissingParameter, re.Code, "delete with no parameter")
	_, err = d.Delete(ctx, []string{"01234567-89AB-CDEF-0123-456789ABCDEF"}, "acme")
	require.ErrorAs(t, err, &re)
	assert.Equal(t, directory.CodeParameterCollision, re.Code, "users and owner together")
	q, err := d.Query(ctx, "", 0, nil)
	require.NoError(t, err)
	assert.Empty(t, q.Users, "failed requests write nothing")
}

func TestTemplateAndFieldSelection(t *testing.T) {
	d := open(t)
	assert.JSONEq(t, `{"uuid":"","deleted":false,"owner":"","name":"","photo":"","email":"","treepath":"/","virtNumber":"","deputy":"","buttons":"",
		"callPos":[{"peer":"","profiles":"","grouped":false,"ipEye":""},{"peer":"","profiles":"","grouped":false,"ipEye":""},{"peer":"","profiles":"","grouped":false,"ipEye":""}],
		"access":{"validFrom":"0","validTo":"0","accessPoints":[{"enabled":true,"profiles":""},{"enabled":true,"profiles":""}],"pairingExpired":false,
		"virtCard":"","card":["",""],"mobkey":"","fpt":"","pin":"","accessException":false,"code":["","","",""],"licensePlates":"","liftFloors":""},
		"timestamp":0}`, string(d.Template()))
	unit := open(t, directory.WithModel(directory.AccessUnitModel()))
	var tmpl map[string]any
	require.NoError(t, json.Unmarshal(unit.Template(), &tmpl))
	assert.NotContains(t, tmpl, "callPos")
	assert.NotContains(t, tmpl, "treepath")
	assert.Contains(t, tmpl, "access")

	ctx := context.Background()
	res, err := d.Create(ctx, raws(t, `[{"name":"A","access":{"pin":"4321","card":["", "0A1B"]}}]`), false)
	require.NoError(t, err)
	id := res.Users[0].UUID
	for fields, want := range map[string]string{
		`["access.pin"]`:     `{"uuid":"` + id + `","access":{"pin":"4321"},"timestamp":1}`,
		`["access.card[1]"]`: `{"uuid":"` + id + `","access":{"card":["","0A1B"]},"timestamp":1}`,
		`["nonsense"]`:       `{"uuid":"` + id + `","timestamp":1}`,
		`["access"]`:         "",
	} {
		var f []string
		require.NoError(t, json.Unmarshal([]byte(fields), &f))
		got, err := d.Get(ctx, []string{id}, f)
		require.NoError(t, err)
		if want == "" {
			var m struct{ Access map[string]any }
			require.NoError(t, json.Unmarshal(got.Users[0], &m))
			assert.Len(t, m.Access, 13, "a group selects all its fields")
			continue
		}
		assert.JSONEq(t, want, string(got.Users[0]), fields)
	}
}

func TestQueryAndSeries(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	res, err := d.Create(ctx, raws(t, `[{"name":"a"},{"name":"b"},{"name":"c"}]`), false)
	require.NoError(t, err)
	_, err = d.Update(ctx, raws(t, `[{"uuid":"`+res.Users[0].UUID+`","name":"a2"}]`))
	require.NoError(t, err)
	_, err = d.Delete(ctx, []string{res.Users[1].UUID}, "")
	require.NoError(t, err)

	q, err := d.Query(ctx, res.Series, 3, []string{"name"})
	require.NoError(t, err)
	require.Len(t, q.Users, 2)
	assert.JSONEq(t, `{"uuid":"`+res.Users[0].UUID+`","name":"a2","timestamp":4}`, string(q.Users[0]))
	assert.JSONEq(t, `{"uuid":"`+res.Users[1].UUID+`","deleted":true,"timestamp":5}`, string(q.Users[1]))

	for _, since := range []int64{math.MaxInt64, math.MaxInt64 - 1, 5} {
		q, err = d.Query(ctx, res.Series, since, nil)
		require.NoError(t, err)
		assert.Empty(t, q.Users, "nothing after %d", since)
	}
	q, err = d.Query(ctx, res.Series, math.MinInt64, nil)
	require.NoError(t, err)
	assert.Len(t, q.Users, 3, "before the first change: every change")

	q, err = d.Query(ctx, "someone else's", 4, nil)
	require.NoError(t, err)
	assert.Equal(t, res.Series, q.Series)
	assert.Len(t, q.Users, 2, "a foreign series gets every live entry")
}

// Two Directory values on one store share the series and one gap-free
// sequence of timestamps.
func TestTwoDirectoriesOnOneStore(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	a, err := directory.Open(ctx, st)
	require.NoError(t, err)
	b, err := directory.Open(ctx, st)
	require.NoError(t, err)
	sa, _ := a.Series(ctx)
	sb, _ := b.Series(ctx)
	assert.Equal(t, sa, sb)
	done := make(chan []int64)
	for _, dir := range []*directory.Directory{a, b} {
		go func() {
			var ts []int64
			for range 50 {
				res, err := dir.Create(ctx, raws(t, `[{"name":"x"}]`), false)
				assert.NoError(t, err)
				ts = append(ts, res.Users[0].Timestamp)
			}
			done <- ts
		}()
	}
	seen := map[int64]bool{}
	for range 2 {
		for _, ts := range <-done {
			assert.False(t, seen[ts], "timestamp %d given twice", ts)
			seen[ts] = true
		}
	}
	for i := int64(1); i <= 100; i++ {
		assert.True(t, seen[i], "timestamp %d missing", i)
	}
}

// A client that replays Query from its last timestamp ends with exactly
// the directory's state.
func TestSyncClientConverges(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	rng := rand.New(rand.NewPCG(6, 7))
	client := map[string]string{} // uuid -> name
	var series string
	var last int64
	var live []string
	sync := func() {
		q, err := d.Query(ctx, series, last, []string{"name"})
		require.NoError(t, err)
		if q.Series != series {
			series, client = q.Series, map[string]string{}
		}
		for _, raw := range q.Users {
			var e struct {
				UUID      string `json:"uuid"`
				Name      string `json:"name"`
				Deleted   bool   `json:"deleted"`
				Timestamp int64  `json:"timestamp"`
			}
			require.NoError(t, json.Unmarshal(raw, &e))
			require.Greater(t, e.Timestamp, last, "changes come in timestamp order")
			last = e.Timestamp
			if e.Deleted {
				delete(client, e.UUID)
			} else {
				client[e.UUID] = e.Name
			}
		}
	}
	for round := range 30 {
		for range 1 + rng.IntN(5) {
			switch op := rng.IntN(3); {
			case op == 0 || len(live) == 0:
				res, err := d.Create(ctx, raws(t, fmt.Sprintf(`[{"name":"n%d"}]`, rng.IntN(1000))), false)
				require.NoError(t, err)
				live = append(live, res.Users[0].UUID)
			case op == 1:
				_, err := d.Update(ctx, raws(t, fmt.Sprintf(`[{"uuid":%q,"name":"u%d"}]`, live[rng.IntN(len(live))], round)))
				require.NoError(t, err)
			default:
				i := rng.IntN(len(live))
				_, err := d.Delete(ctx, []string{live[i]}, "")
				require.NoError(t, err)
				live = append(live[:i], live[i+1:]...)
			}
		}
		if rng.IntN(2) == 0 {
			sync()
		}
	}
	sync()
	want := map[string]string{}
	if len(live) > 0 {
		got, err := d.Get(ctx, live, []string{"name"})
		require.NoError(t, err)
		for _, raw := range got.Users {
			var e struct{ UUID, Name string }
			require.NoError(t, json.Unmarshal(raw, &e))
			want[e.UUID] = e.Name
		}
	}
	assert.Equal(t, want, client)
}
