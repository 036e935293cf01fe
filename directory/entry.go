package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrorCode is an EDIR_* code of a per-entry error.
type ErrorCode string

// The per-entry error codes of the 2N directory API.
const (
	UUIDDoesNotExist  ErrorCode = "EDIR_UUID_DOES_NOT_EXIST"
	UUIDInvalidFormat ErrorCode = "EDIR_UUID_INVALID_FORMAT"
	UUIDIsMissing     ErrorCode = "EDIR_UUID_IS_MISSING"
	UUIDAlreadyExists ErrorCode = "EDIR_UUID_ALREADY_EXISTS"
	FieldNameUnknown  ErrorCode = "EDIR_FIELD_NAME_UNKNOWN"
	FieldNotAvailable ErrorCode = "EDIR_FIELD_NOT_AVAILABLE"
	FieldValueError   ErrorCode = "EDIR_FIELD_VALUE_ERROR"
)

// Error returns the code as the API spells it, so that a code is an error
// that errors.Is finds behind an EntryError.
func (c ErrorCode) Error() string { return string(c) }

// EntryError is one error of an entry: a code and, for field errors, the
// field's path as the request named it. As an error (from the methods of
// Entry and Directory.Entry) it unwraps to its Code:
// errors.Is(err, FieldNameUnknown).
type EntryError struct {
	Code  ErrorCode `json:"code"`
	Field string    `json:"field,omitempty"`
}

func (e EntryError) Error() string {
	if e.Field == "" {
		return "directory: " + string(e.Code)
	}
	return "directory: " + string(e.Code) + " (" + e.Field + ")"
}

// Unwrap returns the code.
func (e EntryError) Unwrap() error { return e.Code }

// maxEntryDepth bounds the nesting of an entry object (entry, access,
// accessPoints, element, value).
const maxEntryDepth = 5

// input is a decoded entry of a request.
type input struct {
	uuid    string
	hasUUID bool
	values  []value // in the order the request gives them (see set)
	errs    []EntryError

	// Read only for Entry.UnmarshalJSON (a request ignores them).
	meta      bool
	deleted   bool
	timestamp int64
}

// set records a field's value: a field the entry names twice keeps its
// first place and takes its last value, as a JSON object's last member
// wins.
func (in *input) set(v value) {
	for i := range in.values {
		if in.values[i].f == v.f {
			in.values[i] = v
			return
		}
	}
	in.values = append(in.values, v)
}

// decodeEntry reads one entry object. Nested objects, arrays and dotted
// keys ("access.pin", "callPos[1].grouped") address the same fields.
// Problems with fields are collected in in.errs, in the order met; an
// error is returned only when raw is not a JSON object at all.
func (r *registry) decodeEntry(raw []byte, v *view) (*input, error) {
	return r.decodeInto(raw, v, &input{})
}

func (r *registry) decodeInto(raw []byte, v *view, in *input) (*input, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("directory: an entry must be a JSON object")
	}
	if err := r.decodeObject(dec, "", v, in, 1); err != nil {
		return nil, fmt.Errorf("directory: entry: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("directory: data after the entry object")
	}
	return in, nil
}

// decodeObject reads the members of an object at prefix, after its '{'.
func (r *registry) decodeObject(dec *json.Decoder, prefix string, v *view, in *input, depth int) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if err := r.decodeValue(dec, join(prefix, key), v, in, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// decodeValue reads the value at path. A path the registry has but the
// model (v) lacks is FieldNotAvailable, an index past the model's length of
// its array included (access.code[2] on a model of two codes).
func (r *registry) decodeValue(dec *json.Decoder, path string, v *view, in *input, depth int) error {
	path = canonical(path)
	skip := func(code ErrorCode) error {
		in.errs = append(in.errs, EntryError{Code: code, Field: path})
		var discard json.RawMessage
		return dec.Decode(&discard)
	}
	switch {
	case path == "uuid":
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		s, ok := v.(string)
		in.uuid, in.hasUUID = s, true
		if !ok {
			in.uuid = "\x00" // present, and not a uuid
			if in.meta {
				in.errs = append(in.errs, EntryError{Code: FieldValueError, Field: path})
			}
		}
		return nil
	case (path == "deleted" || path == "timestamp") && in.meta:
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		ok := false
		switch v := v.(type) {
		case bool:
			in.deleted, ok = v, path == "deleted"
		case json.Number:
			n, err := v.Int64()
			in.timestamp, ok = n, err == nil && n >= 0 && path == "timestamp"
		}
		if !ok {
			in.errs = append(in.errs, EntryError{Code: FieldValueError, Field: path})
		}
		return nil
	case path == "deleted" || path == "timestamp":
		var discard json.RawMessage // managed by the directory: ignored
		return dec.Decode(&discard)
	}
	n := r.byNode[path]
	switch {
	case n == nil:
		return skip(FieldNameUnknown)
	case !v.hasNode(n):
		return skip(FieldNotAvailable)
	}
	if f := n.leaf; f != nil {
		var x any
		if err := dec.Decode(&x); err != nil {
			return err
		}
		if val, ok := f.parse(x); ok {
			in.set(val)
			return nil
		}
		in.errs = append(in.errs, EntryError{Code: FieldValueError, Field: path})
		return nil
	}
	if depth >= maxEntryDepth {
		return skip(FieldValueError)
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch {
	case tok == json.Delim('{') && r.objects[path]:
		return r.decodeObject(dec, path, v, in, depth+1)
	case tok == json.Delim('[') && r.arrays[path] > 0:
		for i := 0; dec.More(); i++ {
			if i >= r.arrays[path] {
				in.errs = append(in.errs, EntryError{Code: FieldValueError, Field: path})
				var discard json.RawMessage
				if err := dec.Decode(&discard); err != nil {
					return err
				}
				continue
			}
			if err := r.decodeValue(dec, fmt.Sprintf("%s[%d]", path, i), v, in, depth+1); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		return err
	}
	// A scalar where an object or array belongs, or the wrong container.
	in.errs = append(in.errs, EntryError{Code: FieldValueError, Field: path})
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return skipRest(dec)
	}
	return nil
}

// skipRest consumes the rest of a container whose opening was read.
func skipRest(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// canonical writes a path the way the registry does: "callPos.1.peer" is
// not accepted, but spaces around segments are trimmed.
func canonical(path string) string { return strings.TrimSpace(path) }

func knownPath(r *registry, path string) bool { return r.byNode[path] != nil }

// value is one field's value in an entry: s for a text field, b for a
// boolean one.
type value struct {
	f *field
	s string
	b bool
}

// parse checks a decoded JSON value (or a Go value given to Entry.Set)
// against the field's kind and value rule.
func (f *field) parse(v any) (value, bool) {
	switch v := v.(type) {
	case string:
		if f.kind == kindString && f.valid(v) {
			return value{f: f, s: v}, true
		}
	case bool:
		if f.kind == kindBool {
			return value{f: f, b: v}, true
		}
	}
	return value{}, false
}

func (v value) isDefault() bool { return v.s == v.f.def.s && v.b == v.f.def.b }

// any returns the value as a string or a bool.
func (v value) any() any {
	if v.f.kind == kindBool {
		return v.b
	}
	return v.s
}

func (v value) appendJSON(buf []byte) []byte {
	if v.f.kind == kindBool {
		return strconv.AppendBool(buf, v.b)
	}
	return appendJSONString(buf, v.s)
}

// selection says which fields Get and Query return.
type selection struct {
	all    bool     // fields: []
	names  []string // fields named; nil with all false means "differs from default"
	custom bool
}

func newSelection(fields []string) selection {
	switch {
	case fields == nil:
		return selection{}
	case len(fields) == 0:
		return selection{all: true}
	}
	return selection{names: fields, custom: true}
}

// named reports whether a field is named by a custom selection.
func (s selection) named(f *field) bool {
	for _, n := range s.names {
		// The exact path, the path without indexes (callPos.peer), or a
		// group above it (access, callPos[1]).
		if n == f.path || n == f.group || strings.HasPrefix(f.path, n+".") || strings.HasPrefix(f.path, n+"[") ||
			strings.HasPrefix(f.group, n+".") {
			return true
		}
	}
	return false
}

// encoder writes entries as JSON objects for one request's selection. It
// keeps scratch space, so it serves one goroutine.
//
// With fields omitted, an entry shows the fields that differ from their
// defaults in the order they were first written (see Entry): an object
// (access, callPos[1]) stands where its first written field does, and an
// array's elements keep their positions. With all fields or fields named,
// the template's order. uuid comes first and timestamp last, always;
// deleted follows uuid in a tombstone (which shows no fields), or when all
// fields or deleted itself are asked for.
type encoder struct {
	reg     *registry
	view    *view  // the model; nil for every field (request)
	avail   []bool // by field: the model has it (view.avail)
	request bool   // as Entry.MarshalJSON: every value, defaults too; no empty uuid or zero timestamp
	want    []bool // all or named: by field, selected
	sub     []bool // all or named: by node, a selected field below
	items   []int  // scratch, fields omitted: the values shown, by index
}

func newEncoder(r *registry, v *view, sel selection) *encoder {
	enc := &encoder{reg: r, view: v}
	if v != nil {
		enc.avail = v.avail
	}
	if !sel.all && !sel.custom {
		return enc
	}
	enc.want, enc.sub = make([]bool, len(r.fields)), make([]bool, len(r.nodes))
	for i, f := range r.fields {
		if v != nil && !v.avail[i] || !(sel.all || sel.named(f)) {
			continue
		}
		enc.want[i] = true
		for n := f.node; n != nil && !enc.sub[n.id]; n = n.parent {
			enc.sub[n.id] = true
		}
	}
	return enc
}

// append writes e as a JSON object.
func (enc *encoder) append(buf []byte, e *Entry) []byte {
	buf = append(buf, '{')
	comma := false
	if e.UUID != "" || !enc.request {
		buf = append(buf, `"uuid":`...)
		buf = appendJSONString(buf, e.UUID)
		comma = true
	}
	if e.deleted {
		buf = appendComma(buf, comma)
		buf = append(buf, `"deleted":true`...)
		comma = true
	}
	switch {
	case e.deleted && !enc.request: // a tombstone shows no fields
	case enc.want != nil:
		buf = enc.appendStatic(buf, e) // uuid comes first
	default:
		buf, comma = enc.appendWritten(buf, e, comma)
	}
	if e.timestamp != 0 || !enc.request {
		buf = appendComma(buf, comma)
		buf = append(buf, `"timestamp":`...)
		buf = strconv.AppendInt(buf, e.timestamp, 10)
	}
	return append(buf, '}')
}

func appendComma(buf []byte, comma bool) []byte {
	if comma {
		return append(buf, ',')
	}
	return buf
}

// appendStatic writes the selected fields after uuid, in template order.
func (enc *encoder) appendStatic(buf []byte, e *Entry) []byte {
	for _, c := range enc.reg.root.children {
		if c.leaf != nil && c.leaf.path == "uuid" || !enc.sub[c.id] {
			continue
		}
		buf = append(buf, ',')
		buf = appendJSONString(buf, c.name)
		buf = append(buf, ':')
		buf = enc.appendNode(buf, c, e)
	}
	return buf
}

// appendNode writes the value, array or object at n: an object's members
// by appendStatic's order or appendWritten's.
func (enc *encoder) appendNode(buf []byte, n *node, e *Entry) []byte {
	switch {
	case n.leaf != nil:
		return e.value(n.leaf).appendJSON(buf)
	case n.elems != nil:
		// The array has the model's length: the elements it has.
		buf = append(buf, '[')
		for i, el := range n.elems {
			if !enc.view.hasNode(el) {
				break // the model's elements come first
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			switch {
			case enc.shows(el, e):
				buf = enc.appendNode(buf, el, e)
			case el.leaf != nil: // a position of a scalar array keeps its value
				buf = e.value(el.leaf).appendJSON(buf)
			default:
				buf = append(buf, "{}"...)
			}
		}
		return append(buf, ']')
	}
	buf = append(buf, '{')
	if enc.want == nil {
		buf, _ = enc.appendMembers(buf, n, e, false)
		return append(buf, '}')
	}
	first := true
	for _, c := range n.children {
		if !enc.sub[c.id] {
			continue
		}
		buf = appendComma(buf, !first)
		first = false
		buf = appendJSONString(buf, c.name)
		buf = append(buf, ':')
		buf = enc.appendNode(buf, c, e)
	}
	return append(buf, '}')
}

// appendWritten writes, after uuid, the fields that differ from their
// defaults (every field set, for a request), grouped by object in the
// order they were written.
func (enc *encoder) appendWritten(buf []byte, e *Entry, comma bool) ([]byte, bool) {
	enc.items = enc.items[:0]
	for i, v := range e.values {
		if enc.request || enc.avail[v.f.idx] && !v.isDefault() {
			enc.items = append(enc.items, i)
		}
	}
	return enc.appendMembers(buf, enc.reg.root, e, comma)
}

// appendMembers writes the members of object n that hold shown values, each
// where its first value stands, after a comma when comma is set. It
// reports whether the next member needs a comma.
func (enc *encoder) appendMembers(buf []byte, n *node, e *Entry, comma bool) ([]byte, bool) {
	for i, it := range enc.items {
		c := childToward(n, e.values[it].f.node)
		if c == nil || enc.seen(n, c, e, i) {
			continue
		}
		if enc.request && c.elems != nil && c.elems[0].leaf != nil && !enc.showsAll(c, e) {
			// A request cannot skip a position of an array of text without
			// setting it: name the positions set ("card[1]").
			for k, el := range c.elems {
				if enc.shows(el, e) {
					buf = appendComma(buf, comma)
					comma = true
					buf = appendJSONString(buf, c.name+"["+strconv.Itoa(k)+"]")
					buf = append(buf, ':')
					buf = e.value(el.leaf).appendJSON(buf)
				}
			}
			continue
		}
		buf = appendComma(buf, comma)
		comma = true
		buf = appendJSONString(buf, c.name)
		buf = append(buf, ':')
		buf = enc.appendNode(buf, c, e)
	}
	return buf, comma
}

// seen reports whether a value shown before the i-th lies under c, a
// member of n.
func (enc *encoder) seen(n, c *node, e *Entry, i int) bool {
	for _, it := range enc.items[:i] {
		if childToward(n, e.values[it].f.node) == c {
			return true
		}
	}
	return false
}

// shows reports whether n is, or holds, a field shown: one selected (all
// or named), or one whose value is shown (fields omitted).
func (enc *encoder) shows(n *node, e *Entry) bool {
	if enc.want != nil {
		return enc.sub[n.id]
	}
	for _, it := range enc.items {
		for x := e.values[it].f.node; x != nil; x = x.parent {
			if x == n {
				return true
			}
		}
	}
	return false
}

// showsAll reports whether every element of array n holds a shown value.
func (enc *encoder) showsAll(n *node, e *Entry) bool {
	for _, el := range n.elems {
		if !enc.shows(el, e) {
			return false
		}
	}
	return true
}

// childToward returns the member of n on the way from n down to leaf, or
// nil when leaf is not under n.
func childToward(n, leaf *node) *node {
	for x := leaf; x != nil; x = x.parent {
		if x.parent == n {
			return x
		}
	}
	return nil
}

// appendJSONString writes s as encoding/json would: strings of plain
// printable ASCII (no quote, backslash or HTML character) directly,
// anything else through json.Marshal.
func appendJSONString(buf []byte, s string) []byte {
	if plainJSONString(s) {
		buf = append(buf, '"')
		buf = append(buf, s...)
		return append(buf, '"')
	}
	b, _ := json.Marshal(s)
	return append(buf, b...)
}

func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
