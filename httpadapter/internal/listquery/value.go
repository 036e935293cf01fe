package listquery

import (
	"cmp"
	"strconv"
	"time"
)

// Type is the type of a field that a list can be filtered by.
type Type int

const (
	// String fields compare bytewise; all six compare operators apply.
	String Type = iota
	// Integer fields hold an int64 and compare numerically.
	Integer
	// Timestamp fields hold seconds since the Unix epoch and compare as
	// Integer: a filter value is an integer number of seconds, and a
	// record gives its value with IntValue or TimeValue.
	Timestamp
	// Bool fields hold true or false; only eq and nq apply.
	Bool
)

// String returns the type's name: "string", "integer", "timestamp" or
// "bool".
func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Integer:
		return "integer"
	case Timestamp:
		return "timestamp"
	case Bool:
		return "bool"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// valueKind is the kind of Value a field of type t compares with: String,
// Integer (for Integer and Timestamp) or Bool. Types outside the four
// constants behave as String.
func (t Type) valueKind() Type {
	switch t {
	case Integer, Timestamp:
		return Integer
	case Bool:
		return Bool
	}
	return String
}

// Value is one field's value in a Record: a string, an int64 or a bool.
// The zero Value is the empty string.
type Value struct {
	kind Type // String, Integer or Bool
	s    string
	n    int64 // the integer; for a bool, 1 (true) or 0 (false)
}

// StringValue returns the string value s.
func StringValue(s string) Value { return Value{kind: String, s: s} }

// IntValue returns the integer value n, for Integer and Timestamp fields.
func IntValue(n int64) Value { return Value{kind: Integer, n: n} }

// TimeValue returns t as a Timestamp field's value: IntValue(t.Unix()).
func TimeValue(t time.Time) Value { return IntValue(t.Unix()) }

// BoolValue returns the boolean value b.
func BoolValue(b bool) Value {
	if b {
		return Value{kind: Bool, n: 1}
	}
	return Value{kind: Bool}
}

// Type reports what v holds: String, Integer or Bool (never Timestamp; a
// timestamp is held as Integer).
func (v Value) Type() Type { return v.kind }

// String returns v as text: a string as it is, an integer in decimal, a
// bool as "true" or "false".
func (v Value) String() string {
	switch v.kind {
	case Integer:
		return strconv.FormatInt(v.n, 10)
	case Bool:
		return strconv.FormatBool(v.n != 0)
	}
	return v.s
}

// compareValues orders two present values: by kind first (strings, then
// integers, then bools) when they differ, else strings bytewise, integers
// numerically, false before true.
func compareValues(a, b Value) int {
	if a.kind != b.kind {
		return cmp.Compare(int64(a.kind), int64(b.kind))
	}
	if a.kind == String {
		return cmp.Compare(a.s, b.s)
	}
	return cmp.Compare(a.n, b.n)
}

// Record is one item of a list, as the filter and the order see it.
// Field returns the value of the named field and true, or false when the
// item has no such value (a null, an absent key).
type Record interface {
	Field(name string) (Value, bool)
}

// RecordFunc adapts a function to Record.
type RecordFunc func(name string) (Value, bool)

// Field calls f(name).
func (f RecordFunc) Field(name string) (Value, bool) { return f(name) }

// Map is a Record held in a map: a field is present when its key is.
type Map map[string]Value

// Field returns m[name].
func (m Map) Field(name string) (Value, bool) {
	v, ok := m[name]
	return v, ok
}
