package listquery

import (
	"slices"
	"strconv"
	"strings"
)

// Bounds on an order_by parameter; an input beyond either is refused with
// a *SyntaxError.
const (
	// MaxOrderLen is the longest order_by accepted, in bytes.
	MaxOrderLen = 256
	// MaxOrderKeys is the most keys in an order_by.
	MaxOrderKeys = 8
)

// Order is a parsed order_by parameter: the keys to sort by, in turn, and
// one direction for all of them. The zero Order (from "") has no keys and
// is ascending; one from "desc" has no keys and is descending. A list
// applies its default key when there are none.
type Order struct {
	// Keys are the field names to compare by, most significant first.
	Keys []string
	// Desc reverses the order (of every key).
	Desc bool
}

// ParseOrder parses the order_by parameter s: field names separated by
// commas, then optionally asc or desc (in any case) after a blank, as in
// "name, floor desc", "created_at asc" or "desc". Every key must be one of
// allowed (case-sensitive). Any error is a *SyntaxError with Param
// "order_by".
func ParseOrder(s string, allowed []string) (Order, error) {
	if len(s) > MaxOrderLen {
		return Order{}, orderErr(MaxOrderLen, "longer than "+strconv.Itoa(MaxOrderLen)+" bytes")
	}
	toks := lexOrder(s)
	var o Order
	i := 0
	// isDir: a direction is asc or desc not followed by a comma (so that
	// "desc, name" names a field desc).
	isDir := func(i int) bool {
		t := toks[i]
		return t.kind == tokWord && (t.isWord("asc") || t.isWord("desc")) &&
			(i+1 == len(toks) || toks[i+1].kind == tokWord)
	}
	if len(toks) > 0 && !isDir(0) {
		for {
			if i == len(toks) || toks[i].kind != tokWord {
				return Order{}, orderErr(posAt(s, toks, i), "empty key")
			}
			t := toks[i]
			if len(o.Keys) == MaxOrderKeys {
				return Order{}, orderErr(t.pos, "more than "+strconv.Itoa(MaxOrderKeys)+" keys")
			}
			if !slices.Contains(allowed, t.text) {
				return Order{}, orderErr(t.pos, "unknown field "+strconv.Quote(t.text))
			}
			o.Keys = append(o.Keys, t.text)
			i++
			if i == len(toks) || toks[i].kind != tokComma {
				break
			}
			i++
		}
	}
	if i < len(toks) {
		if !isDir(i) {
			return Order{}, orderErr(toks[i].pos, "unexpected "+toks[i].describe()+", want a comma, asc, desc, or the end")
		}
		o.Desc = toks[i].isWord("desc")
		i++
	}
	if i < len(toks) {
		return Order{}, orderErr(toks[i].pos, "unexpected "+toks[i].describe()+" after the direction")
	}
	return o, nil
}

func orderErr(pos int, msg string) *SyntaxError {
	return &SyntaxError{Param: "order_by", Pos: pos, Msg: msg}
}

func posAt(s string, toks []token, i int) int {
	if i < len(toks) {
		return toks[i].pos
	}
	return len(s)
}

// lexOrder splits s into words and commas.
func lexOrder(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case isSpace(c):
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, text: ",", pos: i})
			i++
		default:
			j := i + 1
			for j < len(s) && !isSpace(s[j]) && s[j] != ',' {
				j++
			}
			toks = append(toks, token{kind: tokWord, text: s[i:j], pos: i})
			i = j
		}
	}
	return toks
}

// Compare compares records a and b by the keys in turn, returning -1, 0 or
// +1 as for slices.SortFunc. Strings compare bytewise, integers
// numerically, false before true; a record lacking a key sorts before one
// that has it; values of different types sort strings, then integers, then
// bools. Desc negates the result, so that missing values come last. A nil
// record has no fields. With no keys, every pair is equal.
func (o Order) Compare(a, b Record) int {
	if a == nil {
		a = Map(nil)
	}
	if b == nil {
		b = Map(nil)
	}
	for _, k := range o.Keys {
		va, oka := a.Field(k)
		vb, okb := b.Field(k)
		var c int
		switch {
		case !oka && !okb:
			continue
		case !oka:
			c = -1
		case !okb:
			c = 1
		default:
			c = compareValues(va, vb)
		}
		if c != 0 {
			if o.Desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// String returns the order in the syntax ParseOrder reads, as
// "name, floor desc"; "" for the zero Order.
func (o Order) String() string {
	s := strings.Join(o.Keys, ", ")
	if o.Desc {
		if s != "" {
			s += " "
		}
		s += "desc"
	}
	return s
}
