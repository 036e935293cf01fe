package directory

import (
	"context"
	"iter"
	"slices"

	"github.com/lintelhq/lintel/store"
)

// Entry is a directory entry as Go values, for a program that embeds the
// directory and would rather not write the 2N JSON: build one with Set,
// write it with Directory.CreateEntries or Directory.UpdateEntries, read
// one back with Directory.Entry or Directory.QueryEntries. The zero Entry
// is an entry that sets nothing.
//
// Fields are named by the paths of the JSON API, written out to a single
// value: "name", "email", "access.pin", "access.card[1]",
// "callPos[0].peer", "access.accessPoints[1].enabled" (spaces around a
// path are ignored). A text field holds a string and a flag a bool. The
// methods answer with an EntryError, which errors.Is matches with its
// code:
//   - FieldNameUnknown: the template has no such path. "callPos.peer"
//     names every position's peer when selecting fields for Get, but no
//     one value, so it is unknown here; so is "timestamp" (see Timestamp).
//   - FieldValueError: the path names an object or array ("access",
//     "callPos[1]", "access.card"), or the value is of the other kind or
//     breaks the field's rule (a PIN of 2 to 15 digits, ...).
//
// "uuid" is the UUID member, and "deleted" the tombstone flag, which Get
// reads and Set refuses (FieldValueError): Directory.Delete makes
// tombstones. Whether the device model has a field is the directory's to
// say: a write answers FieldNotAvailable for it in the entry's result.
//
// An entry remembers the order in which its fields were first set: an
// Entry that Set a field keeps it in its place when set again, and a
// field set for the first time comes last. The directory keeps that order
// too: a field an update sets again keeps its place, a new one comes last,
// and one set back to its default leaves the entry (set later, it comes
// last). Get and Query without fields, QueryEntries and Directory.Entry
// show an entry's fields in that order.
//
// Entry is a small value: copying it shares its fields until either copy
// sets one, so use Clone for a copy to change on its own.
type Entry struct {
	// UUID names the entry (XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX, hex, in
	// either case). Empty in CreateEntries: the directory makes one.
	// Entries read from the directory carry it in upper case.
	UUID string

	values    []value // in the order first set
	deleted   bool
	timestamp int64
}

// lookup resolves a path to its field; uuid and deleted are fields too.
func lookup(path string) (*field, error) {
	r := templateRegistry()
	path = canonical(path)
	if f := r.byPath[path]; f != nil {
		return f, nil
	}
	if knownPath(r, path) {
		return nil, EntryError{Code: FieldValueError, Field: path}
	}
	return nil, EntryError{Code: FieldNameUnknown, Field: path}
}

// Set sets the field at path to v, a string for a text field and a bool
// for a flag. A value equal to the field's default is kept too: written by
// UpdateEntries, it sets the field back to its default. On error the entry
// is unchanged.
func (e *Entry) Set(path string, v any) error {
	f, err := lookup(path)
	if err != nil {
		return err
	}
	if f.path == "deleted" {
		return EntryError{Code: FieldValueError, Field: f.path}
	}
	if f.path == "uuid" {
		s, ok := v.(string)
		if !ok {
			return EntryError{Code: FieldValueError, Field: f.path}
		}
		e.UUID = s
		return nil
	}
	val, ok := f.parse(v)
	if !ok {
		return EntryError{Code: FieldValueError, Field: f.path}
	}
	e.put(val)
	return nil
}

// SetString sets a text field.
func (e *Entry) SetString(path, v string) error { return e.Set(path, v) }

// SetBool sets a flag.
func (e *Entry) SetBool(path string, v bool) error { return e.Set(path, v) }

// Unset removes the field at path from the entry, so that UpdateEntries
// leaves it as it is. ("uuid" empties UUID.)
func (e *Entry) Unset(path string) error {
	f, err := lookup(path)
	switch {
	case err != nil:
		return err
	case f.path == "uuid":
		e.UUID = ""
	case f.path == "deleted":
		return EntryError{Code: FieldValueError, Field: f.path}
	default:
		if i := e.index(f); i >= 0 {
			e.values = slices.Delete(slices.Clone(e.values), i, i+1)
		}
	}
	return nil
}

// Get returns the value of the field at path, a string or a bool: the
// value set, or the field's default.
func (e Entry) Get(path string) (any, error) {
	f, err := lookup(path)
	switch {
	case err != nil:
		return nil, err
	case f.path == "uuid":
		return e.UUID, nil
	case f.path == "deleted":
		return e.deleted, nil
	}
	return e.value(f).any(), nil
}

// GetString returns the value of a text field (FieldValueError for a
// flag).
func (e Entry) GetString(path string) (string, error) {
	v, err := e.Get(path)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", EntryError{Code: FieldValueError, Field: canonical(path)}
	}
	return s, nil
}

// GetBool returns the value of a flag (FieldValueError for a text field).
func (e Entry) GetBool(path string) (bool, error) {
	v, err := e.Get(path)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, EntryError{Code: FieldValueError, Field: canonical(path)}
	}
	return b, nil
}

// Has reports whether the entry sets the field at path (false for a path
// that names no field).
func (e Entry) Has(path string) bool {
	f, err := lookup(path)
	return err == nil && e.index(f) >= 0
}

// All yields the paths and values of the fields the entry sets, in the
// order they were first set.
func (e Entry) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for _, v := range e.values {
			if !yield(v.f.path, v.any()) {
				return
			}
		}
	}
}

// Deleted reports whether the entry, read from the directory, is a
// tombstone.
func (e Entry) Deleted() bool { return e.deleted }

// Timestamp returns the timestamp of the entry's last change, for an entry
// read from the directory (0 otherwise).
func (e Entry) Timestamp() int64 { return e.timestamp }

// Clone returns a copy of e that shares nothing with it.
func (e Entry) Clone() Entry {
	e.values = slices.Clone(e.values)
	return e
}

// MarshalJSON writes the entry as an object of the 2N API, its fields
// nested ({"access":{"pin":"1234"}}) in the order they were set: uuid
// first unless empty, deleted for a tombstone, timestamp last unless 0.
// The object is a valid entry of a create or update request, and
// UnmarshalJSON reads back the same entry, but for the order of fields
// set apart from others of their object.
func (e Entry) MarshalJSON() ([]byte, error) {
	return newRequestEncoder().append(nil, &e), nil
}

// UnmarshalJSON reads an entry object of the 2N API: a request's, or one
// that Get or Query returned, so deleted and timestamp are read too. The
// fields may be nested, dotted or indexed, as in a request. An object with
// a field that is unknown, or has a bad value, is refused with the first
// such EntryError, and e is left unchanged.
func (e *Entry) UnmarshalJSON(b []byte) error {
	in, err := templateRegistry().decodeInto(b, allView(), &input{meta: true})
	if err != nil {
		return err
	}
	if len(in.errs) > 0 {
		return in.errs[0]
	}
	*e = Entry{UUID: in.uuid, values: in.values, deleted: in.deleted, timestamp: in.timestamp}
	return nil
}

func (e *Entry) index(f *field) int {
	for i := range e.values {
		if e.values[i].f == f {
			return i
		}
	}
	return -1
}

func (e *Entry) has(f *field) bool { return e.index(f) >= 0 }

// value returns the field's value in the entry, or its default.
func (e *Entry) value(f *field) value {
	if i := e.index(f); i >= 0 {
		return e.values[i]
	}
	return f.def
}

// put sets one value in place, or last; it never writes to an array that
// a copy of the Entry may share.
func (e *Entry) put(v value) {
	if i := e.index(v.f); i >= 0 {
		e.values = slices.Clone(e.values)
		e.values[i] = v
		return
	}
	e.values = append(e.values[:len(e.values):len(e.values)], v)
}

// merge applies a request's values to a stored entry: a value equal to
// its field's default removes the field, one already there keeps its
// place, a new one comes last. It works on a copy of e's values, so a
// copy of e made before (the old record) keeps what it saw.
func (e *Entry) merge(vals []value) {
	e.values = slices.Clone(e.values)
	for _, v := range vals {
		i := e.index(v.f)
		switch {
		case v.isDefault():
			if i >= 0 {
				e.values = slices.Delete(e.values, i, i+1)
			}
		case i >= 0:
			e.values[i] = v
		default:
			e.values = append(e.values, v)
		}
	}
}

// text returns a text field's value by path, "" when unset.
func (e *Entry) text(path string) string {
	for _, v := range e.values {
		if v.f.path == path {
			return v.s
		}
	}
	return ""
}

// newRequestEncoder writes entries as MarshalJSON does: every value set,
// defaults too, of any model.
func newRequestEncoder() *encoder {
	r := templateRegistry()
	enc := newEncoder(r, nil, selection{})
	enc.request = true
	return enc
}

// input turns an Entry into a request's entry for the directory's model.
func (d *Directory) input(e *Entry) *input {
	in := &input{uuid: e.UUID, hasUUID: e.UUID != "", values: make([]value, 0, len(e.values))}
	for _, v := range e.values {
		switch {
		case !d.view.avail[v.f.idx]:
			in.errs = append(in.errs, EntryError{Code: FieldNotAvailable, Field: v.f.path})
		case v.f.kind == kindString && !v.f.valid(v.s):
			in.errs = append(in.errs, EntryError{Code: FieldValueError, Field: v.f.path})
		default:
			in.values = append(in.values, v)
		}
	}
	return in
}

func (d *Directory) inputs(entries []Entry) []*input {
	out := make([]*input, len(entries))
	for i := range entries {
		out[i] = d.input(&entries[i])
	}
	return out
}

// CreateEntries is Create for entries built in Go, with the same
// semantics and results: an entry with an empty UUID gets a new one, and
// a field the model lacks is FieldNotAvailable in the entry's result.
func (d *Directory) CreateEntries(ctx context.Context, entries []Entry, force bool) (ChangeResult, error) {
	if err := d.checkRequest(len(entries)); err != nil {
		return ChangeResult{}, err
	}
	return d.create(ctx, d.inputs(entries), force)
}

// UpdateEntries is Update for entries built in Go: each sets the fields
// it has (Has) and keeps the others.
func (d *Directory) UpdateEntries(ctx context.Context, entries []Entry) (ChangeResult, error) {
	if err := d.checkRequest(len(entries)); err != nil {
		return ChangeResult{}, err
	}
	return d.update(ctx, d.inputs(entries))
}

// Entry returns the entry of uuid with the fields that differ from their
// defaults, in the order they were written; a tombstone (Deleted) has
// none. A malformed uuid is an EntryError with UUIDInvalidFormat, and one
// that names no entry UUIDDoesNotExist.
func (d *Directory) Entry(ctx context.Context, uuid string) (Entry, error) {
	key, ok := parseUUID(uuid)
	if !ok {
		return Entry{}, EntryError{Code: UUIDInvalidFormat}
	}
	var e Entry
	var found bool
	err := d.st.View(ctx, func(tx store.Tx) error {
		var err error
		found, err = d.readRecord(tx, []byte(key), &e)
		return err
	})
	switch {
	case err != nil:
		return Entry{}, err
	case !found:
		return Entry{}, EntryError{Code: UUIDDoesNotExist}
	}
	d.shown(&e)
	return e, nil
}

// QueryEntries is QueryEach for a program in Go: it calls each with every
// changed entry (or every live one, for another series) as Entry returns
// it, in timestamp order, and returns the directory's series.
func (d *Directory) QueryEntries(ctx context.Context, series string, since int64, each func(series string, e Entry) error) (string, error) {
	return query(d, ctx, series, since, func(e *Entry) (Entry, int) {
		c := e.Clone()
		d.shown(&c)
		size := len(c.UUID)
		for _, v := range c.values {
			size += len(v.f.path) + len(v.s)
		}
		return c, size
	}, each)
}

// shown keeps the values that Get without fields shows.
func (d *Directory) shown(e *Entry) {
	e.values = slices.DeleteFunc(e.values, func(v value) bool { return !d.view.avail[v.f.idx] || v.isDefault() })
}
