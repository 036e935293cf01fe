package directory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"testing"

	"github.com/lintelhq/lintel/directory"
)

// FuzzEntry: any entry object and field list, on a model chosen by the
// entry's length. Create answers per entry or with a RequestError; Get
// then returns JSON, whatever the fields named, and the Template is JSON.
func FuzzEntry(f *testing.F) {
	f.Add(`{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"ABCD4","access.pin":"hello"}`, `["access.pin"]`)
	f.Add(`{"access":{"accessPoints":[{"enabled":false},{"profiles":"1"}],"card":["0A",""]},"callPos[2].grouped":true}`, `["callPos.grouped","access"]`)
	f.Add(`{"albert":"einstein","callPos":{"peer":"x"},"access":[1,2]}`, `[]`)
	f.Add(`{"access":{"code":["12","34","56","78","90"]},"deleted":true,"timestamp":-1}`, `null`)
	f.Fuzz(func(t *testing.T, entry, fields string) {
		m, _ := directory.ModelFor(directory.Models()[len(entry)%len(directory.Models())])
		d, err := directory.Open(context.Background(), memoryStore(), directory.WithModel(m))
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(d.Template()) {
			t.Fatalf("%s: template %s", m.Name, d.Template())
		}
		res, err := d.Create(context.Background(), []json.RawMessage{json.RawMessage(entry)}, false)
		var re *directory.RequestError
		if err != nil {
			if !errors.As(err, &re) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if len(res.Users) != 1 {
			t.Fatalf("%d results", len(res.Users))
		}
		var sel []string
		if json.Unmarshal([]byte(fields), &sel) != nil {
			sel = nil
		}
		if res.Users[0].Errors != nil {
			return
		}
		got, err := d.Get(context.Background(), []string{res.Users[0].UUID}, sel)
		if err != nil || len(got.Users) != 1 || !json.Valid(got.Users[0]) {
			t.Fatalf("Get: %v %s", err, got.Users)
		}
	})
}

// FuzzEntryJSON: any JSON given to Entry.UnmarshalJSON. What it accepts
// writes back with MarshalJSON to an object that reads back to the same
// fields, and writes again to the same bytes.
func FuzzEntryJSON(f *testing.F) {
	f.Add(`{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"Ada","access":{"pin":"1234","card":["","0A"]},"timestamp":3}`)
	f.Add(`{"callPos[2].grouped":true,"access.card[1]":"0A","email":"","callPos":[{},{"peer":"x"}],"name":"a","name":"b"}`)
	f.Add(`{"uuid":"x","deleted":true,"timestamp":5}`)
	f.Add(`{"access":{"accessPoints":[{"enabled":false},{"profiles":"1"}],"code":["12","","34"]},"photo":"<img>"}`)
	f.Fuzz(func(t *testing.T, data string) {
		var e directory.Entry
		if json.Unmarshal([]byte(data), &e) != nil {
			return
		}
		out, err := json.Marshal(e)
		if err != nil || !json.Valid(out) {
			t.Fatalf("%s: %v %s", data, err, out)
		}
		var back directory.Entry
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%s, written %s, does not read back: %v", data, out, err)
		}
		if back.UUID != e.UUID || back.Deleted() != e.Deleted() || back.Timestamp() != e.Timestamp() ||
			!reflect.DeepEqual(maps.Collect(e.All()), maps.Collect(back.All())) {
			t.Fatalf("%s, written %s, reads back otherwise", data, out)
		}
		if again, _ := json.Marshal(back); !bytes.Equal(out, again) {
			t.Fatalf("%s written %s, then %s", data, out, again)
		}
	})
}
