package listquery

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

var orderAllowed = []string{"name", "floor", "building", "created_at", "active", "desc"}

func TestParseOrder(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Order
	}{
		// The vendor's examples.
		{"name, floor desc", Order{Keys: []string{"name", "floor"}, Desc: true}},
		{"created_at asc", Order{Keys: []string{"created_at"}}},
		{"desc", Order{Desc: true}},

		{"", Order{}},
		{"  ", Order{}},
		{"asc", Order{}},
		{"DESC", Order{Desc: true}},
		{"name,floor,building Desc", Order{Keys: []string{"name", "floor", "building"}, Desc: true}},
		{" name ,\tfloor  ASC ", Order{Keys: []string{"name", "floor"}}},
		{"name", Order{Keys: []string{"name"}}},
		{"desc, name", Order{Keys: []string{"desc", "name"}}}, // followed by a comma: a field
		{"name, desc", Order{Keys: []string{"name", "desc"}}},
		{"name, desc desc", Order{Keys: []string{"name", "desc"}, Desc: true}},
		{"name, name", Order{Keys: []string{"name", "name"}}},
		{strings.Repeat("name,", MaxOrderKeys-1) + "name", Order{Keys: slices.Repeat([]string{"name"}, MaxOrderKeys)}},
	} {
		got, err := ParseOrder(tc.in, orderAllowed)
		if err != nil {
			t.Errorf("ParseOrder(%q): %v", tc.in, err)
			continue
		}
		if !slices.Equal(got.Keys, tc.want.Keys) || got.Desc != tc.want.Desc {
			t.Errorf("ParseOrder(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if again, err := ParseOrder(got.String(), orderAllowed); err != nil || !slices.Equal(again.Keys, got.Keys) || again.Desc != got.Desc {
			t.Errorf("ParseOrder(%q) = %+v, %v, want %+v", got.String(), again, err, got)
		}
	}
}

func TestParseOrderErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		pos int
		msg string
	}{
		{"flor", 0, `unknown field "flor"`},
		{"name, Floor", 6, `unknown field "Floor"`},
		{",name", 0, "empty key"},
		{"name,,floor", 5, "empty key"},
		{"name,", 5, "empty key"},
		{"name, asc", 6, `unknown field "asc"`},
		{"name floor", 5, `unexpected "floor", want a comma, asc, desc, or the end`},
		{"name desc,", 5, `unexpected "desc", want a comma, asc, desc, or the end`},
		{"name desc floor", 10, `unexpected "floor" after the direction`},
		{"desc asc", 5, `unexpected "asc" after the direction`},
		{"name up", 5, `unexpected "up", want a comma, asc, desc, or the end`},
		{strings.Repeat("name, ", MaxOrderKeys) + "name", 6 * MaxOrderKeys, "more than 8 keys"},
		{strings.Repeat(" ", MaxOrderLen) + "name", MaxOrderLen, "longer than 256 bytes"},
	} {
		_, err := ParseOrder(tc.in, orderAllowed)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseOrder(%q): %v, want a *SyntaxError", tc.in, err)
			continue
		}
		if se.Param != "order_by" || se.Pos != tc.pos || se.Msg != tc.msg {
			t.Errorf("ParseOrder(%q): %+v, want Pos %d Msg %q", tc.in, *se, tc.pos, tc.msg)
		}
		if want := "order_by: " + tc.msg + " at "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
		}
	}
}

func sortedIDs(o Order) string {
	rs := slices.Clone(residents)
	slices.SortStableFunc(rs, func(a, b struct {
		id  string
		rec Map
	}) int {
		return o.Compare(a.rec, b.rec)
	})
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.id
	}
	return strings.Join(ids, " ")
}

func TestOrderCompare(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"name, floor desc", "holmes obrien mycroft hudson watson moriarty"},
		{"name", "moriarty watson hudson mycroft obrien holmes"},
		{"building, floor desc", "holmes watson moriarty obrien hudson mycroft"},
		{"building, floor", "mycroft hudson obrien moriarty watson holmes"},
		{"created_at asc", "moriarty obrien mycroft holmes watson hudson"},
		{"created_at desc", "hudson watson holmes moriarty obrien mycroft"},
		{"active", "hudson obrien mycroft watson holmes moriarty"},
		{"desc", "holmes watson hudson moriarty obrien mycroft"}, // no keys: as given
	} {
		o, err := ParseOrder(tc.in, orderAllowed)
		if err != nil {
			t.Fatal(err)
		}
		if got := sortedIDs(o); got != tc.want {
			t.Errorf("ParseOrder(%q) sorts %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOrderCompareValues(t *testing.T) {
	o := Order{Keys: []string{"k"}}
	vals := []Record{
		nil,
		Map{},
		Map{"k": StringValue("")},
		Map{"k": StringValue("a")},
		Map{"k": StringValue("b")},
		Map{"k": IntValue(-5)},
		Map{"k": IntValue(3)},
		Map{"k": BoolValue(false)},
		Map{"k": BoolValue(true)},
	}
	for i, a := range vals {
		for j, b := range vals {
			want := 0
			switch {
			case max(i, 1) < max(j, 1):
				want = -1
			case max(i, 1) > max(j, 1):
				want = 1
			}
			if got := o.Compare(a, b); got != want {
				t.Errorf("Compare(%v, %v) = %d, want %d", a, b, got, want)
			}
			if got := (Order{Keys: o.Keys, Desc: true}).Compare(a, b); got != -want {
				t.Errorf("desc Compare(%v, %v) = %d, want %d", a, b, got, -want)
			}
		}
	}
	if (Order{}).Compare(vals[3], vals[4]) != 0 {
		t.Error("an order without keys tells records apart")
	}
}
