package httpadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lintelhq/lintel/access"
)

// The request errors of decoding are access's (*access.FieldError,
// access.ErrWrongJSONBody): the panel answers them verbatim, and the 2N
// API takes the JSON path of a FieldError for its error's param.

// decodeObject decodes body, which must be one JSON object, into v. An
// empty body, one that is not JSON or whose top level is not an object
// is access.ErrWrongJSONBody; a value of the wrong type is a FieldError
// with its path.
func decodeObject(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return access.ErrWrongJSONBody
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return access.WrongType(typeErr.Field)
		}
		return access.ErrWrongJSONBody
	}
	return nil
}

// listTooLongError is a list with more elements than a limit allows.
type listTooLongError struct {
	path   string
	n, max int
}

func (e *listTooLongError) Error() string {
	return fmt.Sprintf("%s: %d, at most %d", MsgListTooLong, e.n, e.max)
}

// decodeList decodes raw, the value at path (a member of a body that
// decodeObject accepted, so valid JSON), as a list of at most max
// elements of T. The elements are counted before they are decoded, so a
// long list costs no more than its bytes. Errors name the element's path:
// "list_items[3].valid.time.from" (encoding/json gives the field path
// inside an element, without indexes of nested lists).
func decodeList[T any](raw json.RawMessage, path string, max int) ([]T, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, access.MissingValue(path)
	case raw[0] != '[':
		return nil, access.WrongType(path)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, _ = dec.Token() // '['
	var items []T
	for dec.More() {
		if len(items) == max {
			return nil, &listTooLongError{path: path, n: max + countRest(dec), max: max}
		}
		start := dec.InputOffset()
		var item T
		if err := dec.Decode(&item); err != nil {
			at := fmt.Sprintf("%s[%d]", path, len(items))
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field != "" {
				elem := bytes.TrimLeft(raw[start:dec.InputOffset()], ", \t\r\n")
				at += "." + fieldPath(elem, typeErr.Field)
			}
			return nil, access.WrongType(at)
		}
		items = append(items, item)
	}
	return items, nil
}

// fieldPath turns the Field of a *json.UnmarshalTypeError met while
// decoding item into the field's JSON path. encoding/json names the Go
// type of an embedded struct too ("Profile.name" for the name of an
// access.TimeProfile); such a segment is no key of the JSON object at its
// level, and is left out. Inside a list, where the Field has no index, the
// rest is kept as it is.
func fieldPath(item []byte, field string) string {
	var v any
	_ = json.Unmarshal(item, &v)
	var out []string
	for _, seg := range strings.Split(field, ".") {
		if obj, ok := v.(map[string]any); ok {
			next, found := obj[seg]
			for k, x := range obj { // encoding/json matches keys without regard to case
				if !found && strings.EqualFold(k, seg) {
					next, found = x, true
				}
			}
			if !found {
				continue
			}
			v = next
		} else {
			v = nil
		}
		out = append(out, seg)
	}
	return strings.Join(out, ".")
}

// countRest counts the elements left in a list being decoded.
func countRest(dec *json.Decoder) int {
	n := 0
	for dec.More() {
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
		n++
	}
	return n
}
