package listquery

import (
	"errors"
	"slices"
	"testing"
)

// FuzzParseFilter: any input either parses, into a Filter whose Match,
// Fields and Equals answer without panicking for an empty and for a full
// record, or is refused with a *SyntaxError whose position lies within the
// input; an input beyond MaxFilterLen is always refused.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"name eq 'Sherlock Holmes'", "building gt 10", "name nq 'Sherlock Holmes'", "floor ge 5",
		"floor le 10 and floor gt 3", "floor le 3 or floor gt 10", "not floor le 3",
		"(name eq 'Sherlock Holmes' or building eq 221) and floor gt 10",
		"name eq 'O''Brien'", `type eq "say ""hi"""`, "type eq card", "active eq TRUE", "not eq 1",
		"((floor eq 1)", "floor eq 1)", "()", "and", "name eq 'x", "floor gt abc", "",
	} {
		f.Add(s)
	}
	full := Map{"name": StringValue("Sherlock Holmes"), "building": IntValue(221), "floor": IntValue(12),
		"type": StringValue("card"), "active": BoolValue(true), "created_at": IntValue(1), "link_id": StringValue("x")}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s, residentFields)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseFilter(%q): %T %v, not a *SyntaxError", s, err, err)
			}
			if se.Pos < 0 || se.Pos > len(s) || se.Msg == "" {
				t.Fatalf("ParseFilter(%q): %+v", s, *se)
			}
			return
		}
		if len(s) > MaxFilterLen {
			t.Fatalf("ParseFilter accepted %d bytes", len(s))
		}
		_ = flt.Match(Map{})
		_ = flt.Match(nil)
		_ = flt.Match(full)
		for _, name := range flt.Fields() {
			if _, ok := residentFields[name]; !ok {
				t.Fatalf("ParseFilter(%q).Fields() has %q", s, name)
			}
		}
		for name := range residentFields {
			if v, ok := flt.Equals(name); ok && !slices.Contains(flt.Fields(), name) {
				t.Fatalf("ParseFilter(%q).Equals(%q) = %q for a field it does not use", s, name, v)
			}
		}
	})
}

// FuzzParseOrder: any input either parses, into at most MaxOrderKeys
// allowed keys whose Compare is antisymmetric on sample records, or is
// refused with a *SyntaxError whose position lies within the input.
func FuzzParseOrder(f *testing.F) {
	for _, s := range []string{"name, floor desc", "created_at asc", "desc", "", "desc, name", "name,,floor",
		"name floor", "name desc floor", "NAME", "name, building, floor, created_at, active, name, name, name, name"} {
		f.Add(s)
	}
	recs := []Record{nil, residents[0].rec, residents[1].rec, residents[5].rec,
		Map{"name": IntValue(3), "floor": StringValue("x")}}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrder(s, orderAllowed)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Param != "order_by" || se.Pos < 0 || se.Pos > len(s) || se.Msg == "" {
				t.Fatalf("ParseOrder(%q): %#v", s, err)
			}
			return
		}
		if len(s) > MaxOrderLen || len(o.Keys) > MaxOrderKeys {
			t.Fatalf("ParseOrder(%q) = %+v", s, o)
		}
		for _, k := range o.Keys {
			if !slices.Contains(orderAllowed, k) {
				t.Fatalf("ParseOrder(%q) = %+v: key %q not allowed", s, o, k)
			}
		}
		for _, a := range recs {
			for _, b := range recs {
				if o.Compare(a, b) != -o.Compare(b, a) {
					t.Fatalf("ParseOrder(%q): Compare not antisymmetric", s)
				}
			}
		}
	})
}
