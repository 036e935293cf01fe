package httpadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lintelhq/lintel/access"
)

// The request errors of decoding: errBadJSON and *fieldError. The panel
// API answers them with its "Wrong JSON body" messages, the 2N API with
// codes 12 and 11 and the field's path as the param.

// errBadJSON is a body that is empty, not JSON, or not a JSON object.
var errBadJSON = errors.New("httpadapter: body is not a JSON object")

// fieldError is a field of a body, named by its JSON path
// ("list_items[3].valid.time.from"), that is missing or whose value is of
// the wrong type or invalid. Its text is the panel API's message.
type fieldError struct {
	path    string
	missing bool
}

func (e *fieldError) Error() string {
	if e.missing {
		return fmt.Sprintf("%s: no value for `%s`", access.ErrWrongJSONBody, e.path)
	}
	return fmt.Sprintf("%s: value `%s` was of the wrong type", access.ErrWrongJSONBody, e.path)
}

// decodeObject decodes body, which must be one JSON object, into v. An
// empty body, one that is not JSON or whose top level is not an object
// is errBadJSON; a value of the wrong type is a *fieldError with its path.
func decodeObject(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errBadJSON
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return &fieldError{path: typeErr.Field}
		}
		return errBadJSON
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
		return nil, &fieldError{path: path, missing: true}
	case raw[0] != '[':
		return nil, &fieldError{path: path}
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
			return nil, &fieldError{path: at}
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
