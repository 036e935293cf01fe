package directory

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// A record is an entry as stored under its canonical uuid: the uuid, the
// tombstone flag, the timestamp and the values that differ from their
// defaults, in the order they were first written. Version 1 is binary, so
// that a query reads it without building a map:
//
//	0x01                  version
//	flags                 one byte: bit 0 deleted; the others 0
//	uvarint timestamp     at most math.MaxInt64
//	uvarint n, n bytes    uuid
//	then, to the end, per value:
//	uvarint n, n bytes    the field's path ("access.pin")
//	kind                  one byte: 0 text, then uvarint n, n bytes; 1 false; 2 true
//
// Records of earlier versions are JSON objects ({"uuid","deleted",
// "timestamp","values":{path: value}}); they are read, in template order
// since JSON kept no other, and rewritten in version 1 by their next
// change.
const recordVersion = 1

// Value kinds of a version 1 record.
const (
	recText  = 0
	recFalse = 1
	recTrue  = 2
)

// errRecord is wrapped by every error of decodeRecord.
var errRecord = errors.New("directory: malformed record")

// appendRecord writes e as a version 1 record.
func appendRecord(dst []byte, e *Entry) []byte {
	var flags byte
	if e.deleted {
		flags = 1
	}
	dst = append(dst, recordVersion, flags)
	dst = binary.AppendUvarint(dst, uint64(e.timestamp))
	dst = appendBytes(dst, e.UUID)
	for _, v := range e.values {
		dst = appendBytes(dst, v.f.path)
		switch {
		case v.f.kind == kindString:
			dst = appendBytes(append(dst, recText), v.s)
		case v.b:
			dst = append(dst, recTrue)
		default:
			dst = append(dst, recFalse)
		}
	}
	return dst
}

func appendBytes(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// decodeRecord reads a stored record into e, replacing what e held and
// reusing its space. Its strings are copied out of raw (one allocation),
// so e outlives the transaction raw comes from. A value whose path the
// template lacks, or whose kind is not its field's, is dropped (a record
// written by another version of the template), and so is one for uuid or
// deleted, which are not values; anything else a version 1 writer cannot
// have written is an error wrapping errRecord.
func (r *registry) decodeRecord(raw []byte, e *Entry) error {
	e.UUID, e.deleted, e.timestamp, e.values = "", false, 0, e.values[:0]
	if len(raw) > 0 && raw[0] == '{' {
		return r.decodeJSONRecord(raw, e)
	}
	if len(raw) < 2 || raw[0] != recordVersion || raw[1]&^1 != 0 {
		return fmt.Errorf("%w: unknown version or flags", errRecord)
	}
	e.deleted = raw[1] == 1
	d := recordDecoder{s: string(raw), i: 2}
	ts, ok := d.uvarint()
	if !ok || ts > math.MaxInt64 {
		return fmt.Errorf("%w: timestamp", errRecord)
	}
	e.timestamp = int64(ts)
	if e.UUID, ok = d.str(); !ok {
		return fmt.Errorf("%w: uuid", errRecord)
	}
	for d.i < len(d.s) {
		path, ok := d.str()
		if !ok || d.i >= len(d.s) {
			return fmt.Errorf("%w: field path", errRecord)
		}
		kind := d.s[d.i]
		d.i++
		v := value{f: r.byPath[path]}
		switch kind {
		case recText:
			if v.s, ok = d.str(); !ok {
				return fmt.Errorf("%w: value of %q", errRecord, path)
			}
		case recFalse, recTrue:
			v.b = kind == recTrue
		default:
			return fmt.Errorf("%w: kind %d of %q", errRecord, kind, path)
		}
		if v.f == nil || v.f.meta || (v.f.kind == kindString) != (kind == recText) {
			continue
		}
		if e.has(v.f) {
			return fmt.Errorf("%w: %q twice", errRecord, path)
		}
		e.values = append(e.values, v)
	}
	return nil
}

// recordDecoder reads a version 1 record.
type recordDecoder struct {
	s string
	i int
}

func (d *recordDecoder) uvarint() (uint64, bool) {
	var x uint64
	for shift := 0; d.i < len(d.s) && shift < 64; shift += 7 {
		b := d.s[d.i]
		d.i++
		if shift == 63 && b > 1 {
			return 0, false // overflows 64 bits
		}
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x, true
		}
	}
	return 0, false
}

func (d *recordDecoder) str() (string, bool) {
	n, ok := d.uvarint()
	if !ok || n > uint64(len(d.s)-d.i) {
		return "", false
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s, true
}

// jsonRecord is a record as earlier versions stored it.
type jsonRecord struct {
	UUID      string         `json:"uuid"`
	Deleted   bool           `json:"deleted,omitempty"`
	Timestamp int64          `json:"timestamp"`
	Values    map[string]any `json:"values,omitempty"`
}

func (r *registry) decodeJSONRecord(raw []byte, e *Entry) error {
	var rec jsonRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return fmt.Errorf("%w: %w", errRecord, err)
	}
	if rec.Timestamp < 0 {
		return fmt.Errorf("%w: timestamp", errRecord)
	}
	e.UUID, e.deleted, e.timestamp = rec.UUID, rec.Deleted, rec.Timestamp
	for _, f := range r.fields {
		if raw, ok := rec.Values[f.path]; ok && !f.meta {
			// Dropped unless of the field's kind, as in version 1; the
			// value rule is not checked again.
			switch x := raw.(type) {
			case string:
				if f.kind == kindString {
					e.values = append(e.values, value{f: f, s: x})
				}
			case bool:
				if f.kind == kindBool {
					e.values = append(e.values, value{f: f, b: x})
				}
			}
		}
	}
	return nil
}
