package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
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

// EntryError is one error of an entry: a code and, for field errors, the
// field's path as the request named it.
type EntryError struct {
	Code  ErrorCode `json:"code"`
	Field string    `json:"field,omitempty"`
}

// maxEntryDepth bounds the nesting of an entry object (entry, access,
// accessPoints, element, value).
const maxEntryDepth = 5

// input is a decoded entry of a request.
type input struct {
	uuid    string
	hasUUID bool
	values  map[string]any // canonical path -> string or bool
	errs    []EntryError
}

// decodeEntry reads one entry object. Nested objects, arrays and dotted
// keys ("access.pin", "callPos[1].grouped") address the same fields.
// Problems with fields are collected in in.errs, in the order met; an
// error is returned only when raw is not a JSON object at all.
func (r *registry) decodeEntry(raw []byte, m Model) (*input, error) {
	in := &input{values: map[string]any{}}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("directory: an entry must be a JSON object")
	}
	if err := r.decodeObject(dec, "", m, in, 1); err != nil {
		return nil, fmt.Errorf("directory: entry: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("directory: data after the entry object")
	}
	return in, nil
}

// decodeObject reads the members of an object at prefix, after its '{'.
func (r *registry) decodeObject(dec *json.Decoder, prefix string, m Model, in *input, depth int) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if err := r.decodeValue(dec, join(prefix, key), m, in, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// decodeValue reads the value at path.
func (r *registry) decodeValue(dec *json.Decoder, path string, m Model, in *input, depth int) error {
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
		}
		return nil
	case path == "deleted" || path == "timestamp":
		var discard json.RawMessage // managed by the directory: ignored
		return dec.Decode(&discard)
	case !knownPath(r, path):
		return skip(FieldNameUnknown)
	case !m.hasPath(path):
		return skip(FieldNotAvailable)
	}
	if f := r.byPath[path]; f != nil {
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		switch val := v.(type) {
		case string:
			if f.kind == kindString && f.valid(val) {
				in.values[path] = val
				return nil
			}
		case bool:
			if f.kind == kindBool {
				in.values[path] = val
				return nil
			}
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
		return r.decodeObject(dec, path, m, in, depth+1)
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
			if err := r.decodeValue(dec, fmt.Sprintf("%s[%d]", path, i), m, in, depth+1); err != nil {
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

func knownPath(r *registry, path string) bool {
	return r.byPath[path] != nil || r.objects[path] || r.arrays[path] > 0
}

// hasPath reports whether the model has the field (or group) at path.
func (m Model) hasPath(path string) bool {
	top := path
	if i := strings.IndexAny(path, ".["); i >= 0 {
		top = path[:i]
	}
	return !slices.Contains(m.Without, top)
}

// record is an entry as stored: only values that differ from defaults.
type record struct {
	UUID      string         `json:"uuid"`
	Deleted   bool           `json:"deleted,omitempty"`
	Timestamp int64          `json:"timestamp"`
	Values    map[string]any `json:"values,omitempty"`
}

// value returns the field's value in the record, or its default.
func (rec *record) value(f *field) any {
	if v, ok := rec.Values[f.path]; ok {
		return v
	}
	return f.def
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

// wants reports whether a field is selected for a record.
func (s selection) wants(f *field, rec *record) bool {
	switch {
	case s.all:
		return true
	case !s.custom:
		v, ok := rec.Values[f.path]
		return ok && v != f.def
	}
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

// encode writes a record as a JSON object in template order, with uuid and
// timestamp always, deleted when true, and the selected fields of the model.
// A tombstone carries no fields.
func (r *registry) encode(buf *bytes.Buffer, rec *record, m Model, sel selection) {
	if rec.Deleted {
		sel = selection{custom: true} // selects nothing
	}
	r.encodeNode(buf, r.root, rec, m, sel)
}

func (r *registry) encodeNode(buf *bytes.Buffer, n *node, rec *record, m Model, sel selection) bool {
	switch {
	case n.leaf != nil:
		f := n.leaf
		var v any
		switch {
		case f.path == "uuid":
			v = rec.UUID
		case f.path == "deleted":
			// A tombstone says so; a live entry says deleted:false when
			// all fields or "deleted" itself are asked for.
			if !rec.Deleted && !sel.all && !(sel.custom && sel.wants(f, rec)) {
				return false
			}
			v = rec.Deleted
		case !m.hasPath(f.path) || !sel.wants(f, rec):
			return false
		default:
			v = rec.value(f)
		}
		writeJSONValue(buf, v)
		return true
	case n.elems != nil:
		if !r.anySelected(n, rec, m, sel) {
			return false
		}
		buf.WriteByte('[')
		for i, e := range n.elems {
			if i > 0 {
				buf.WriteByte(',')
			}
			switch {
			case r.encodeNode(buf, e, rec, m, sel):
			case e.leaf != nil: // a position of a scalar array keeps its value
				writeJSONValue(buf, rec.value(e.leaf))
			default:
				buf.WriteString("{}")
			}
		}
		buf.WriteByte(']')
		return true
	}
	if n.name != "" && !r.anySelected(n, rec, m, sel) {
		return false
	}
	buf.WriteByte('{')
	first := true
	for _, c := range n.children {
		mark := buf.Len()
		if !first {
			buf.WriteByte(',')
		}
		writeJSONValue(buf, c.name)
		buf.WriteByte(':')
		if c.name == "timestamp" && n == r.root {
			fmt.Fprintf(buf, "%d", rec.Timestamp)
		} else if !r.encodeNode(buf, c, rec, m, sel) {
			buf.Truncate(mark)
			continue
		}
		first = false
	}
	buf.WriteByte('}')
	return true
}

// anySelected reports whether a subtree has a selected field.
func (r *registry) anySelected(n *node, rec *record, m Model, sel selection) bool {
	if n.leaf != nil {
		return m.hasPath(n.leaf.path) && sel.wants(n.leaf, rec)
	}
	for _, c := range n.children {
		if r.anySelected(c, rec, m, sel) {
			return true
		}
	}
	for _, c := range n.elems {
		if r.anySelected(c, rec, m, sel) {
			return true
		}
	}
	return false
}

// writeJSONValue writes v as encoding/json would: strings of plain
// printable ASCII (no quote, backslash or HTML character) and booleans
// directly, anything else through json.Marshal.
func writeJSONValue(buf *bytes.Buffer, v any) {
	switch v := v.(type) {
	case bool:
		if v {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
		return
	case string:
		if plainJSONString(v) {
			buf.WriteByte('"')
			buf.WriteString(v)
			buf.WriteByte('"')
			return
		}
	}
	b, _ := json.Marshal(v)
	buf.Write(b)
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
