package directory

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// testValues are candidate values; a random entry takes, for a text field,
// one its rule accepts.
var testValues = []string{"", "12", "1234", "0A1B", "/a/b", "a@b.cz", "1700000000", `x<y>&"é`, "text", "sip:1@pbx"}

// randomEntry sets some fields, in random order, defaults included.
func randomEntry(rng *rand.Rand, r *registry) Entry {
	e := Entry{UUID: "01234567-89AB-CDEF-0123-456789ABCDEF", timestamp: rng.Int64N(1000) + 1}
	if rng.IntN(10) == 0 {
		e.deleted = true
		return e
	}
	for _, i := range rng.Perm(len(r.fields))[:rng.IntN(len(r.fields))] {
		f := r.fields[i]
		if f.path == "uuid" || f.path == "deleted" {
			continue
		}
		if f.kind == kindBool {
			e.values = append(e.values, value{f: f, b: rng.IntN(2) == 0})
			continue
		}
		var ok []string
		for _, s := range testValues {
			if f.valid(s) {
				ok = append(ok, s)
			}
		}
		e.values = append(e.values, value{f: f, s: ok[rng.IntN(len(ok))]})
	}
	return e
}

func TestRecordRoundTrip(t *testing.T) {
	r := templateRegistry()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		want := randomEntry(rng, r)
		raw := appendRecord(nil, &want)
		var got Entry
		if err := r.decodeRecord(raw, &got); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if want.values == nil {
			want.values = got.values[:0:0]
		}
		if !reflect.DeepEqual(entryView(want), entryView(got)) {
			t.Fatalf("round trip:\n%v\n%v", entryView(want), entryView(got))
		}
	}
}

// entryView is an Entry as plain data, to compare and print.
func entryView(e Entry) []any {
	out := []any{e.UUID, e.deleted, e.timestamp}
	for _, v := range e.values {
		out = append(out, v.f.path, v.any())
	}
	return out
}

func TestRecordLayout(t *testing.T) {
	r := templateRegistry()
	e := Entry{UUID: "AB", timestamp: 300}
	e.put(value{f: r.byPath["name"], s: "Ada"})
	e.put(value{f: r.byPath["callPos[1].grouped"], b: true})
	want := "\x01\x00\xac\x02\x02AB\x04name\x00\x03Ada\x12callPos[1].grouped\x02"
	if got := string(appendRecord(nil, &e)); got != want {
		t.Fatalf("record %q, want %q", got, want)
	}
	tomb := Entry{UUID: "AB", deleted: true, timestamp: 1}
	if got := string(appendRecord(nil, &tomb)); got != "\x01\x01\x01\x02AB" {
		t.Fatalf("tombstone %q", got)
	}
}

func TestRecordDecodeErrors(t *testing.T) {
	r := templateRegistry()
	huge := binary.AppendUvarint([]byte{1, 0}, math.MaxInt64+1)
	for name, raw := range map[string]string{
		"empty":             "",
		"version only":      "\x01",
		"version 2":         "\x02\x00\x01\x00",
		"flags":             "\x01\x02\x01\x00",
		"no timestamp":      "\x01\x00",
		"long varint":       "\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00",
		"timestamp > int64": string(huge) + "\x00",
		"no uuid":           "\x01\x00\x01",
		"uuid too long":     "\x01\x00\x01\x05AB",
		"path too long":     "\x01\x00\x01\x00\x09name",
		"no kind":           "\x01\x00\x01\x00\x04name",
		"kind 3":            "\x01\x00\x01\x00\x04name\x03",
		"text cut short":    "\x01\x00\x01\x00\x04name\x00\x05Ada",
		"field twice":       "\x01\x00\x01\x00\x04name\x00\x01A\x04name\x00\x01B",
		"JSON":              `{"uuid":`,
		"JSON timestamp":    `{"uuid":"A","timestamp":-1}`,
	} {
		var e Entry
		if err := r.decodeRecord([]byte(raw), &e); !errors.Is(err, errRecord) {
			t.Errorf("%s: %v, want errRecord", name, err)
		}
	}
}

// A record written by another template keeps what this one knows.
func TestRecordDropsWhatTheTemplateLacks(t *testing.T) {
	r := templateRegistry()
	raw := "\x01\x00\x01\x02AB" +
		"\x06retina\x00\x01x" + // no such field
		"\x04name\x01" + // a flag where text belongs
		"\x04uuid\x00\x02CD\x07deleted\x02" + // not values
		"\x0aaccess.pin\x00\x041234"
	var e Entry
	if err := r.decodeRecord([]byte(raw), &e); err != nil {
		t.Fatal(err)
	}
	if got := entryView(e); !reflect.DeepEqual(got, []any{"AB", false, int64(1), "access.pin", "1234"}) {
		t.Fatalf("%v", got)
	}
}

// Records of earlier versions were JSON; they are read in template order.
func TestRecordJSON(t *testing.T) {
	r := templateRegistry()
	var e Entry
	err := r.decodeRecord([]byte(`{"uuid":"AB","timestamp":7,"values":{"name":"Ada","access.pin":"1234","callPos[0].grouped":true,"retina":"x","email":false,"uuid":"CD","deleted":true}}`), &e)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"AB", false, int64(7), "name", "Ada", "callPos[0].grouped", true, "access.pin", "1234"}
	if got := entryView(e); !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	if err := r.decodeRecord([]byte(`{"uuid":"AB","deleted":true,"timestamp":8}`), &e); err != nil || !e.deleted || len(e.values) != 0 {
		t.Fatalf("tombstone: %v %v", err, entryView(e))
	}
}

// refEncode is the encoder of the JSON records' days, kept to hold the
// encoder to it: every selection but "fields omitted" gives the same bytes,
// and that one the same object in another order.
func refEncode(r *registry, e *Entry, avail []bool, sel selection) []byte {
	var buf bytes.Buffer
	values := map[string]any{}
	for _, v := range e.values {
		values[v.f.path] = v.any()
	}
	if e.deleted {
		sel = selection{custom: true}
	}
	ref := refEncoder{r: r, e: e, values: values, avail: avail, sel: sel}
	ref.node(&buf, r.root)
	return buf.Bytes()
}

type refEncoder struct {
	r      *registry
	e      *Entry
	values map[string]any
	avail  []bool // by field: the model has it
	sel    selection
}

func (x *refEncoder) value(f *field) any {
	if v, ok := x.values[f.path]; ok {
		return v
	}
	return f.def.any()
}

func (x *refEncoder) wants(f *field) bool {
	switch {
	case x.sel.all:
		return true
	case !x.sel.custom:
		v, ok := x.values[f.path]
		return ok && v != f.def.any()
	}
	return x.sel.named(f)
}

func (x *refEncoder) write(buf *bytes.Buffer, v any) {
	b, _ := json.Marshal(v)
	buf.Write(b)
}

func (x *refEncoder) node(buf *bytes.Buffer, n *node) bool {
	switch {
	case n.leaf != nil:
		f := n.leaf
		var v any
		switch {
		case f.path == "uuid":
			v = x.e.UUID
		case f.path == "deleted":
			if !x.e.deleted && !x.sel.all && !(x.sel.custom && x.wants(f)) {
				return false
			}
			v = x.e.deleted
		case !x.avail[f.idx] || !x.wants(f):
			return false
		default:
			v = x.value(f)
		}
		x.write(buf, v)
		return true
	case n.elems != nil:
		if !x.any(n) {
			return false
		}
		buf.WriteByte('[')
		first := true
		for _, el := range n.elems {
			if !x.has(el) {
				continue // the array has the model's length
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			switch {
			case x.node(buf, el):
			case el.leaf != nil:
				x.write(buf, x.value(el.leaf))
			default:
				buf.WriteString("{}")
			}
		}
		buf.WriteByte(']')
		return true
	}
	if n.name != "" && !x.any(n) {
		return false
	}
	buf.WriteByte('{')
	first := true
	for _, c := range n.children {
		mark := buf.Len()
		if !first {
			buf.WriteByte(',')
		}
		x.write(buf, c.name)
		buf.WriteByte(':')
		if c.name == "timestamp" && n == x.r.root {
			x.write(buf, x.e.timestamp)
		} else if !x.node(buf, c) {
			buf.Truncate(mark)
			continue
		}
		first = false
	}
	buf.WriteByte('}')
	return true
}

// has reports whether the model has a field at or below n.
func (x *refEncoder) has(n *node) bool {
	if n.leaf != nil {
		return x.avail[n.leaf.idx]
	}
	for _, c := range slices.Concat(n.children, n.elems) {
		if x.has(c) {
			return true
		}
	}
	return false
}

func (x *refEncoder) any(n *node) bool {
	if n.leaf != nil {
		return x.avail[n.leaf.idx] && x.wants(n.leaf)
	}
	for _, c := range slices.Concat(n.children, n.elems) {
		if x.any(c) {
			return true
		}
	}
	return false
}

var testSelectionNames = []string{"name", "access", "callPos", "callPos[1]", "callPos.peer", "access.accessPoints.enabled",
	"access.card", "access.card[1]", "access.code[3]", "access.code", "deleted", "uuid", "timestamp", "nonsense", "", "treepath", "photo",
	"recordType", "highlighting", "buttons"}

func TestEncoderMatchesReference(t *testing.T) {
	r := templateRegistry()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, name := range Models() {
		m, _ := ModelFor(name)
		avail := newView(r, m.def).avail
		for range 2000 {
			e := randomEntry(rng, r)
			var fields []string
			switch rng.IntN(3) {
			case 0: // omitted
			case 1:
				fields = []string{}
			default:
				for range 1 + rng.IntN(3) {
					fields = append(fields, testSelectionNames[rng.IntN(len(testSelectionNames))])
				}
			}
			sel := newSelection(fields)
			got := newEncoder(r, newView(r, m.def), sel).append(nil, &e)
			want := refEncode(r, &e, avail, sel)
			if fields == nil {
				got, want = canonicalJSON(t, got), canonicalJSON(t, want)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("model %s, fields %q, entry %v:\n got %s\nwant %s", m.Name, fields, entryView(e), got, want)
			}
		}
	}
}

// canonicalJSON sorts the members of every object.
func canonicalJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return out
}

// FuzzRecord: any bytes given to decodeRecord. What it accepts writes back
// to a record that decodes to the same entry, and encodes as valid JSON
// for every kind of field selection; an Entry of valid values survives
// MarshalJSON and UnmarshalJSON.
func FuzzRecord(f *testing.F) {
	r := templateRegistry()
	rng := rand.New(rand.NewPCG(5, 6))
	for range 8 {
		e := randomEntry(rng, r)
		f.Add(appendRecord(nil, &e))
	}
	f.Add([]byte(`{"uuid":"AB","timestamp":7,"values":{"name":"Ada","access.pin":"1234"}}`))
	encoders := []*encoder{
		newEncoder(r, newView(r, VersoModel().def), newSelection(nil)),
		newEncoder(r, newView(r, AccessUnitModel().def), newSelection([]string{})),
		newEncoder(r, newView(r, VersoModel().def), newSelection([]string{"access", "callPos.peer", "deleted"})),
		newEncoder(r, newView(r, modelIndex()["uni"]), newSelection(nil)),
		newEncoder(r, newView(r, modelIndex()["style"]), newSelection([]string{})),
		newRequestEncoder(),
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var e Entry
		if err := r.decodeRecord(raw, &e); err != nil {
			if !errors.Is(err, errRecord) {
				t.Fatalf("error %v does not wrap errRecord", err)
			}
			return
		}
		again := appendRecord(nil, &e)
		var e2 Entry
		if err := r.decodeRecord(again, &e2); err != nil {
			t.Fatalf("%q rewritten as %q: %v", raw, again, err)
		}
		if !reflect.DeepEqual(entryView(e), entryView(e2)) {
			t.Fatalf("%q: %v, rewritten %v", raw, entryView(e), entryView(e2))
		}
		if third := appendRecord(nil, &e2); !bytes.Equal(again, third) {
			t.Fatalf("%q rewritten as %q, then %q", raw, again, third)
		}
		for _, enc := range encoders {
			if out := enc.append(nil, &e); !json.Valid(out) {
				t.Fatalf("%q: invalid JSON %s", raw, out)
			}
		}
		if !validEntry(&e) {
			return
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back Entry
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q: %s does not read back: %v", raw, out, err)
		}
		if !sameFields(e, back) {
			t.Fatalf("%q: %v, through %s: %v", raw, entryView(e), out, entryView(back))
		}
	})
}

// validEntry reports whether UnmarshalJSON reads back what MarshalJSON
// writes of e: valid UTF-8 and values that keep the fields' rules.
func validEntry(e *Entry) bool {
	if !utf8.ValidString(e.UUID) {
		return false
	}
	for _, v := range e.values {
		if v.f.kind == kindString && (!v.f.valid(v.s) || !utf8.ValidString(v.s)) {
			return false
		}
	}
	return true
}

// sameFields compares two entries up to the order of their fields, which
// JSON groups by object.
func sameFields(a, b Entry) bool {
	key := func(e Entry) []string {
		out := []string{e.UUID, strings.Repeat("d", btoi(e.deleted)), string(binary.AppendVarint(nil, e.timestamp))}
		var vals []string
		for _, v := range e.values {
			vals = append(vals, v.f.path+"\x00"+v.s+strings.Repeat("t", btoi(v.b)))
		}
		slices.Sort(vals)
		return append(out, vals...)
	}
	return slices.Equal(key(a), key(b))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
