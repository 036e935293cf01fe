package directory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/store/memory"
)

func TestModelFor(t *testing.T) {
	assert.Equal(t, []string{"accessunit", "audiokit", "base", "ipone", "style", "uni", "vario", "verso", "videokit"}, directory.Models())
	for given, want := range map[string]string{
		"vario": "vario", "safety": "vario", "Force": "vario",
		"style": "style", "BASE": "base", "uni": "uni",
		"verso": "verso", "solo": "verso", "verso 2.0": "verso", "Verso 2.0": "verso", "verso2": "verso", " verso ": "verso",
		"accessunit": "accessunit", "au": "accessunit", "AU2": "accessunit", "aum": "accessunit",
		"ipone": "ipone", "videokit": "videokit", "audiokit": "audiokit",
	} {
		m, ok := directory.ModelFor(given)
		assert.True(t, ok, given)
		assert.Equal(t, want, m.Name, given)
	}
	for _, unknown := range []string{"", "verso3", "access unit", "au 2"} {
		_, ok := directory.ModelFor(unknown)
		assert.False(t, ok, unknown)
	}
	assert.Equal(t, "verso", directory.VersoModel().Name)
	assert.Equal(t, "accessunit", directory.AccessUnitModel().Name)

	// The zero Model is Verso; a literal is found by its name; an unknown
	// name does not open.
	d := open(t, directory.WithModel(directory.Model{}))
	assert.Equal(t, "verso", d.Model().Name)
	d = open(t, directory.WithModel(directory.Model{Name: "Solo"}))
	assert.Equal(t, "verso", d.Model().Name)
	_, err := directory.Open(context.Background(), memory.New(), directory.WithModel(directory.Model{Name: "nonesuch"}))
	assert.Error(t, err)
}

// The templates of SPEC.md's table, field for field and in order.
func TestModelTemplates(t *testing.T) {
	const (
		callPos4  = `[{"peer":"","profiles":"","grouped":false,"ipEye":""},{"peer":"","profiles":"","grouped":false,"ipEye":""},{"peer":"","profiles":"","grouped":false,"ipEye":""}]`
		callPos3  = `[{"peer":"","profiles":"","grouped":false},{"peer":"","profiles":"","grouped":false},{"peer":"","profiles":"","grouped":false}]`
		aps       = `"accessPoints":[{"enabled":true,"profiles":""},{"enabled":true,"profiles":""}]`
		accVerso  = `{"validFrom":"0","validTo":"0",` + aps + `,"pairingExpired":false,"virtCard":"","card":["",""],"mobkey":"","fpt":"","pin":"","accessException":false,"code":["","","",""],"licensePlates":"","liftFloors":""}`
		accVario  = `{"validFrom":"0","validTo":"0",` + aps + `,"virtCard":"","card":["",""],"pin":"","accessException":false,"code":["","","",""],"licensePlates":"","liftFloors":""}`
		accBase   = `{"validFrom":"0","validTo":"0",` + aps + `,"card":["",""],"pin":"","accessException":false,"code":["",""],"licensePlates":""}`
		accAU     = `{"validFrom":"0","validTo":"0",` + aps + `,"pairingExpired":false,"virtCard":"","card":["",""],"mobkey":"","fpt":"","pin":"","accessException":false,"code":["",""],"licensePlates":"","liftFloors":""}`
		accIPOne  = `{"validFrom":"0","validTo":"0",` + aps + `,"pin":"","accessException":false,"code":["","","",""],"licensePlates":""}`
		versoTop  = `"uuid":"","deleted":false,"owner":"","name":"","photo":"","email":"","treepath":"/","virtNumber":"","deputy":"","buttons":""`
		kitTop    = `"uuid":"","deleted":false,"owner":"","name":"","email":"","virtNumber":"","deputy":"","buttons":""`
		timestamp = `"timestamp":0}`
	)
	want := map[string]string{
		"verso":      `{` + versoTop + `,"callPos":` + callPos4 + `,"access":` + accVerso + `,` + timestamp,
		"vario":      `{` + versoTop + `,"callPos":` + callPos4 + `,"access":` + accVario + `,` + timestamp,
		"style":      `{"uuid":"","deleted":false,"owner":"","recordType":"0","name":"","photo":"","highlighting":false,"email":"","treepath":"/","virtNumber":"","deputy":"","callPos":` + callPos4 + `,"access":` + accVerso + `,` + timestamp,
		"base":       `{"uuid":"","deleted":false,"owner":"","name":"","email":"","deputy":"","buttons":"","callPos":` + callPos4 + `,"access":` + accBase + `,` + timestamp,
		"uni":        `{"uuid":"","deleted":false,"owner":"","name":"","buttons":"","callPos":` + callPos3 + `,"access":{"code":[""]},` + timestamp,
		"accessunit": `{"uuid":"","deleted":false,"owner":"","name":"","email":"","access":` + accAU + `,` + timestamp,
		"ipone":      `{"uuid":"","deleted":false,"owner":"","name":"","photo":"","email":"","deputy":"","buttons":"","callPos":` + callPos3 + `,"access":` + accIPOne + `,` + timestamp,
		"videokit":   `{` + kitTop + `,"callPos":` + callPos4 + `,"access":` + accIPOne + `,` + timestamp,
		"audiokit":   `{` + kitTop + `,"callPos":` + callPos3 + `,"access":` + accIPOne + `,` + timestamp,
	}
	require.Len(t, want, len(directory.Models()))
	for _, name := range directory.Models() {
		m, _ := directory.ModelFor(name)
		d := open(t, directory.WithModel(m))
		require.True(t, json.Valid([]byte(want[name])), name)
		assert.Equal(t, want[name], string(d.Template()), name)
	}
}

// What a model lacks is EDIR_FIELD_NOT_AVAILABLE, as 2N's test suite
// expects (recordType on anything but style, buttons on style), an index
// past the model's array included.
func TestModelFieldAvailability(t *testing.T) {
	ctx := context.Background()
	notAvailable := func(fields ...string) []directory.EntryError {
		var errs []directory.EntryError
		for _, f := range fields {
			errs = append(errs, directory.EntryError{Code: directory.FieldNotAvailable, Field: f})
		}
		return errs
	}
	tests := []struct {
		model, entry string
		want         []directory.EntryError
	}{
		{"verso", `{"recordType":"0"}`, notAvailable("recordType")},
		{"verso", `{"highlighting":true}`, notAvailable("highlighting")},
		{"uni", `{"recordType":"1"}`, notAvailable("recordType")},
		{"style", `{"buttons":"1"}`, notAvailable("buttons")},
		{"style", `{"recordType":"1","highlighting":true,"name":"x"}`, nil},
		{"style", `{"recordType":"x"}`, []directory.EntryError{{Code: directory.FieldValueError, Field: "recordType"}}},
		{"uni", `{"access.code[2]":"12"}`, notAvailable("access.code[2]")},
		{"uni", `{"access.code[1]":"12"}`, notAvailable("access.code[1]")},
		{"uni", `{"access":{"code":["12","34"]}}`, notAvailable("access.code[1]")},
		{"uni", `{"access":{"code":["12"]},"callPos":[{"peer":"a","grouped":true}]}`, nil},
		{"uni", `{"access":{"pin":"1234"}}`, notAvailable("access.pin")},
		{"uni", `{"callPos[0].ipEye":"x"}`, notAvailable("callPos[0].ipEye")},
		{"base", `{"access":{"code":["12","34","56"]}}`, notAvailable("access.code[2]")},
		{"base", `{"access":{"code":["12","34","56","78","90"]}}`,
			append(notAvailable("access.code[2]", "access.code[3]"), directory.EntryError{Code: directory.FieldValueError, Field: "access.code"})},
		{"base", `{"access.code[3]":"12","photo":"x","access.mobkey":"m"}`, notAvailable("access.code[3]", "photo", "access.mobkey")},
		{"verso", `{"access":{"code":["12","34","56","78"]}}`, nil},
		{"accessunit", `{"callPos":[{"peer":"x"}],"photo":"p","access":{"code":["1","2","3"]}}`,
			[]directory.EntryError{{Code: directory.FieldNotAvailable, Field: "callPos"}, {Code: directory.FieldNotAvailable, Field: "photo"},
				{Code: directory.FieldValueError, Field: "access.code[0]"}, {Code: directory.FieldValueError, Field: "access.code[1]"},
				{Code: directory.FieldNotAvailable, Field: "access.code[2]"}}},
		{"ipone", `{"access":{"card":["0A"]},"treepath":"/a","callPos[1].ipEye":"e"}`, notAvailable("access.card", "treepath", "callPos[1].ipEye")},
		{"videokit", `{"virtNumber":"1","callPos[1].ipEye":"e","photo":"p"}`, notAvailable("photo")},
		{"audiokit", `{"callPos[1].ipEye":"e"}`, notAvailable("callPos[1].ipEye")},
		{"vario", `{"access.pairingExpired":true,"access.fpt":"f","access.virtCard":"v"}`, notAvailable("access.pairingExpired", "access.fpt")},
	}
	for _, tc := range tests {
		t.Run(tc.model+" "+tc.entry, func(t *testing.T) {
			m, ok := directory.ModelFor(tc.model)
			require.True(t, ok)
			d := open(t, directory.WithModel(m))
			res, err := d.Create(ctx, raws(t, `[`+tc.entry+`]`), false)
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Users[0].Errors)

			// The same through Entry and CreateEntries, where one value
			// names one field.
			var e directory.Entry
			if err := json.Unmarshal([]byte(tc.entry), &e); err != nil {
				assert.ErrorIs(t, err, directory.FieldValueError, "an Entry holds the fields of every model")
				return
			}
			res, err = d.CreateEntries(ctx, []directory.Entry{e}, false)
			require.NoError(t, err)
			if tc.want == nil {
				assert.Empty(t, res.Users[0].Errors)
			} else {
				assert.NotEmpty(t, res.Users[0].Errors)
			}
		})
	}
}

// A store written under one model and opened under another shows only the
// fields of the second; nothing breaks, and the other fields stay stored.
func TestReopenUnderAnotherModel(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	style, _ := directory.ModelFor("style")
	d, err := directory.Open(ctx, st, directory.WithModel(style))
	require.NoError(t, err)
	res, err := d.Create(ctx, raws(t, `[{"name":"A","recordType":"1","highlighting":true,"photo":"p","treepath":"/x",
		"callPos":[{"peer":"sip:1@x","ipEye":"e"}],"access":{"pin":"1234","card":["0A1B2C3D",""],"code":["11","22","33","44"]}}]`), false)
	require.NoError(t, err)
	require.Empty(t, res.Users[0].Errors)
	id := res.Users[0].UUID

	uni, _ := directory.ModelFor("uni")
	u, err := directory.Open(ctx, st, directory.WithModel(uni))
	require.NoError(t, err)
	got, err := u.Get(ctx, []string{id}, nil)
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","name":"A","callPos":[{"peer":"sip:1@x"},{},{}],"access":{"code":["11"]},"timestamp":1}`, string(got.Users[0]))
	got, err = u.Get(ctx, []string{id}, []string{})
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","deleted":false,"owner":"","name":"A","buttons":"","callPos":[{"peer":"sip:1@x","profiles":"","grouped":false},{"peer":"","profiles":"","grouped":false},{"peer":"","profiles":"","grouped":false}],"access":{"code":["11"]},"timestamp":1}`, string(got.Users[0]))
	got, err = u.Get(ctx, []string{id}, []string{"recordType", "access.pin", "access.code", "photo"})
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","access":{"code":["11"]},"timestamp":1}`, string(got.Users[0]))
	q, err := u.Query(ctx, res.Series, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","name":"A","callPos":[{"peer":"sip:1@x"},{},{}],"access":{"code":["11"]},"timestamp":1}`, string(q.Users[0]))
	e, err := u.Entry(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"name": "A", "callPos[0].peer": "sip:1@x", "access.code[0]": "11"}, collect(e))
	var ids []string
	_, err = u.QueryEntries(ctx, res.Series, 0, func(_ string, e directory.Entry) error {
		ids = append(ids, e.UUID)
		assert.Equal(t, map[string]any{"name": "A", "callPos[0].peer": "sip:1@x", "access.code[0]": "11"}, collect(e))
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{id}, ids)
	_, found, err := u.FindCard(ctx, "0A1B2C3D")
	require.NoError(t, err)
	assert.False(t, found, "uni has no cards")

	// An update under uni keeps what uni does not show; style shows it again.
	res, err = u.Update(ctx, raws(t, `[{"uuid":"`+id+`","name":"B"}]`))
	require.NoError(t, err)
	require.Empty(t, res.Users[0].Errors)
	got, err = d.Get(ctx, []string{id}, []string{"name", "recordType", "highlighting", "access.pin"})
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","recordType":"1","name":"B","highlighting":true,"access":{"pin":"1234"},"timestamp":2}`, string(got.Users[0]))
	uuid, found, err := d.FindCard(ctx, "0a1b2c3d")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, id, uuid)
}

// The template lists fields in template order, also for a selection.
func TestModelSelectionOrder(t *testing.T) {
	ctx := context.Background()
	style, _ := directory.ModelFor("style")
	d := open(t, directory.WithModel(style))
	res, err := d.Create(ctx, raws(t, `[{"highlighting":true,"name":"A","recordType":"2"}]`), false)
	require.NoError(t, err)
	id := res.Users[0].UUID
	got, err := d.Get(ctx, []string{id}, nil)
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","highlighting":true,"name":"A","recordType":"2","timestamp":1}`, string(got.Users[0]), "written order")
	got, err = d.Get(ctx, []string{id}, []string{"highlighting", "name", "recordType", "buttons"})
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"`+id+`","recordType":"2","name":"A","highlighting":true,"timestamp":1}`, string(got.Users[0]), "template order")
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, d.Template()))
	assert.Equal(t, buf.String(), string(d.Template()))
}
