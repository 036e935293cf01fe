package listquery

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// residents are the sample records the vendor's examples are evaluated on.
var residents = []struct {
	id  string
	rec Map
}{
	{"holmes", Map{"name": StringValue("Sherlock Holmes"), "building": IntValue(221), "floor": IntValue(12), "type": StringValue("card"), "active": BoolValue(true), "created_at": IntValue(1000)}},
	{"watson", Map{"name": StringValue("John Watson"), "building": IntValue(221), "floor": IntValue(2), "type": StringValue("pin"), "active": BoolValue(false), "created_at": IntValue(2000)}},
	{"hudson", Map{"name": StringValue("Mrs Hudson"), "building": IntValue(5), "floor": IntValue(4), "type": StringValue("card"), "created_at": IntValue(3000)}},
	{"moriarty", Map{"name": StringValue("James Moriarty"), "building": IntValue(15), "floor": IntValue(20), "type": StringValue("face"), "active": BoolValue(true)}},
	{"obrien", Map{"name": StringValue("O'Brien"), "building": IntValue(10), "floor": IntValue(3), "type": StringValue(`say "hi"`)}},
	{"mycroft", Map{"name": StringValue("Mycroft Holmes")}}, // no building, floor, type
}

var residentFields = Fields{
	"name":       String,
	"building":   Integer,
	"floor":      Integer,
	"type":       String,
	"active":     Bool,
	"created_at": Timestamp,
	"link_id":    String,
	"not":        Integer, // a field that spells a keyword
}

func matching(t *testing.T, f *Filter) string {
	t.Helper()
	var ids []string
	for _, r := range residents {
		if f.Match(r.rec) {
			ids = append(ids, r.id)
		}
	}
	return strings.Join(ids, " ")
}

func TestFilterMatch(t *testing.T) {
	all := "holmes watson hudson moriarty obrien mycroft"
	for _, tc := range []struct {
		name, filter, want string
	}{
		// The vendor's examples, as documented.
		{"vendor eq", "name eq 'Sherlock Holmes'", "holmes"},
		{"vendor gt", "building gt 10", "holmes watson moriarty"},
		{"vendor nq", "name nq 'Sherlock Holmes'", "watson hudson moriarty obrien mycroft"},
		{"vendor ge", "floor ge 5", "holmes moriarty"},
		{"vendor and", "floor le 10 and floor gt 3", "hudson"},
		{"vendor or", "floor le 3 or floor gt 10", "holmes watson moriarty obrien"},
		{"vendor not", "not floor le 3", "holmes hudson moriarty mycroft"},
		{"vendor parens", "(name eq 'Sherlock Holmes' or building eq 221) and floor gt 10", "holmes"},
		{"lt", "floor lt 4", "watson obrien"},
		{"le", "building le 10", "hudson obrien"},

		{"empty", "", all},
		{"blank", " \t\r\n ", all},

		// Precedence: not, then and, then or.
		{"and over or", "floor eq 20 or building eq 221 and floor eq 2", "watson moriarty"},
		{"and over or, grouped", "(floor eq 20 or building eq 221) and floor eq 2", "watson"},
		{"or then and", "building eq 221 and floor eq 2 or floor eq 20", "watson moriarty"},
		{"not over and", "not building eq 221 and floor gt 3", "hudson moriarty"},
		{"not over and, grouped", "not (building eq 221 and floor gt 3)", "watson hudson moriarty obrien mycroft"},
		{"not not", "not not building eq 221", "holmes watson"},
		{"not (not)", "not (not building eq 221)", "holmes watson"},
		{"nested groups", "((building eq 221))", "holmes watson"},
		{"flattened ands", "(floor gt 1 and floor lt 20) and (building ge 10 and type eq card)", "holmes"},

		// Missing fields: false, except nq.
		{"missing eq", "floor eq 0", ""},
		{"missing nq", "floor nq 0", all},
		{"missing gt", "floor gt -100", "holmes watson hudson moriarty obrien"},
		{"missing not eq", "not type eq card", "watson moriarty obrien mycroft"},
		{"missing bool", "active nq true", "watson hudson obrien mycroft"},

		// Values.
		{"single quotes, doubled", "name eq 'O''Brien'", "obrien"},
		{"double quotes", `name eq "Sherlock Holmes"`, "holmes"},
		{"double quotes, doubled", `type eq "say ""hi"""`, "obrien"},
		{"single inside double", `name eq "O'Brien"`, "obrien"},
		{"double inside single", `type eq 'say "hi"'`, "obrien"},
		{"bare word", "type eq card", "holmes hudson"},
		{"bare word with quote", "name eq O'Brien", "obrien"},
		{"negative", "floor gt -1 and building ge -5", "holmes watson hudson moriarty obrien"},
		{"plus sign", "floor eq +12", "holmes"},
		{"quoted integer", "floor eq '12'", "holmes"},
		{"integer on string field", "name eq 221", ""},
		{"empty string", "name eq ''", ""},
		{"empty string nq", "name nq ''", all},
		{"string gt", "name gt 'M'", "holmes hudson obrien mycroft"},
		{"string le", "name le 'John Watson'", "watson moriarty"},
		{"bool", "active eq true", "holmes moriarty"},
		{"bool false", "active eq FALSE", "watson"},
		{"bool quoted", "active nq 'false'", "holmes hudson moriarty obrien mycroft"},
		{"timestamp", "created_at ge 2000", "watson hudson"},
		{"parens without blanks", "(floor eq 2)or(floor eq 3)", "watson obrien"},
		{"string then keyword without blank", "name eq 'John Watson'or floor eq 3", "watson obrien"},
		{"field named not", "not eq 1", ""},
		{"field named not, negated", "not not eq 1", all},
		{"field named not after and", "floor eq 12 and not eq 1", ""},
		{"field named not after and, negated", "floor eq 12 and not not eq 1", "holmes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.filter, residentFields)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tc.filter, err)
			}
			if got := matching(t, f); got != tc.want {
				t.Errorf("ParseFilter(%q) matches %q, want %q", tc.filter, got, tc.want)
			}
		})
	}
}

func TestFilterCaseInsensitiveKeywords(t *testing.T) {
	for _, s := range []string{
		"(name EQ 'Sherlock Holmes' OR building Eq 221) AND floor gT 10",
		"(name eq 'Sherlock Holmes' Or building eq 221) aNd NOT floor Le 10",
		"(name Eq 'Sherlock Holmes' oR building EQ 221) And Not Not floor GE 11",
	} {
		f, err := ParseFilter(s, residentFields)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", s, err)
		}
		if got := matching(t, f); got != "holmes" {
			t.Errorf("ParseFilter(%q) matches %q, want holmes", s, got)
		}
	}
	if _, err := ParseFilter("Floor le 3", residentFields); err == nil || !strings.Contains(err.Error(), `unknown field "Floor"`) {
		t.Errorf("field names are case-sensitive: got %v", err)
	}
}

func TestFilterErrors(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+1) + "floor eq 1" + strings.Repeat(")", MaxDepth+1)
	clauses := strings.Repeat("floor eq 1 and ", MaxClauses) + "floor eq 1"
	for _, tc := range []struct {
		name, filter string
		pos          int
		msg          string
	}{
		{"unknown field", "x eq 1", 0, `unknown field "x"`},
		{"unknown field later", "floor eq 1 or x eq 1", 14, `unknown field "x"`},
		{"unknown operator", "floor xx 1", 6, `unknown operator "xx"`},
		{"operator on bool", "active gt true", 7, `operator gt not allowed for bool field "active"`},
		{"wrong value type", "floor gt abc", 9, `integer field "floor" compared with "abc", want an integer`},
		{"wrong quoted value type", "created_at lt 'x y'", 14, `timestamp field "created_at" compared with string "x y", want an integer`},
		{"wrong bool", "active eq yes", 10, `bool field "active" compared with "yes", want true or false`},
		{"integer out of range", "floor eq 9223372036854775808", 9, `integer "9223372036854775808" out of range`},
		{"missing operator", "floor", 5, `missing operator after "floor"`},
		{"missing operator before paren", "floor (", 6, `missing operator after "floor"`},
		{"missing value", "floor eq", 8, `missing value after "eq"`},
		{"keyword as value", "type eq and floor eq 1", 8, `missing value after "eq"`},
		{"paren as value", "type eq (", 8, `missing value after "eq"`},
		{"unclosed paren", "(floor eq 1", 0, "unclosed ("},
		{"unclosed inner paren", "((floor eq 1) or floor eq 2", 0, "unclosed ("},
		{"unmatched paren", "floor eq 1)", 10, "unmatched )"},
		{"leading paren", ")", 0, "unmatched )"},
		{"dangling and", "floor eq 1 and", 14, `missing clause after "and"`},
		{"dangling or", "floor eq 1 or ", 14, `missing clause after "or"`},
		{"dangling not", "not", 3, `missing clause after "not"`},
		{"leading and", "and floor eq 1", 0, "missing clause"},
		{"field missing after or", "floor eq 1 or eq 2", 14, `unknown field "eq"`},
		{"field missing after and", "floor eq 1 and eq 2", 15, `unknown field "eq"`},
		{"keyword-named field after or", "floor eq 1 or or eq 2", 14, `unknown field "or"`},
		{"double and", "floor eq 1 and and floor eq 2", 15, `missing clause after "and"`},
		{"and before paren", "(floor eq 1 and) or floor eq 2", 15, `missing clause after "and"`},
		{"empty parens", "()", 0, "empty parentheses"},
		{"empty parens in and", "floor eq 1 and ()", 15, "empty parentheses"},
		{"string as field", "'floor' eq 1", 0, `want a field name, not string "floor"`},
		{"trailing tokens", "floor eq 1 floor eq 2", 11, `unexpected "floor", want and, or, or the end`},
		{"trailing in parens", "(floor eq 1 2)", 12, `unexpected "2", want and, or, or )`},
		{"unterminated string", "name eq 'Sherlock", 8, "unterminated string"},
		{"unterminated doubled", "name eq 'O''", 8, "unterminated string"},
		{"unterminated double", `name eq "x`, 8, "unterminated string"},
		{"too long", "name eq '" + strings.Repeat("x", MaxFilterLen) + "'", MaxFilterLen, "longer than 1024 bytes"},
		{"too deep", deep, MaxDepth, "parentheses nested deeper than 16"},
		{"too many clauses", clauses, 15 * MaxClauses, "more than 64 clauses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.filter, residentFields)
			if err == nil {
				t.Fatalf("ParseFilter(%q) = %v, want an error", tc.filter, f)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseFilter(%q): %T %v, want a *SyntaxError", tc.filter, err, err)
			}
			if se.Pos != tc.pos || se.Msg != tc.msg || se.Param != "filter" {
				t.Errorf("ParseFilter(%q): %+v, want Pos %d Msg %q", tc.filter, *se, tc.pos, tc.msg)
			}
			if want := "filter: " + tc.msg + " at "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
		})
	}
}

func TestFilterBoundsAccepted(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth) + "floor eq 12" + strings.Repeat(")", MaxDepth)
	clauses := strings.Repeat("floor eq 12 and ", MaxClauses-1) + "floor eq 12"
	long := "name eq '" + strings.Repeat("x", MaxFilterLen-10) + "'"
	nots := strings.Repeat("not ", 250) + "floor eq 12" // even: no negation
	for _, s := range []string{deep, clauses, long, nots} {
		f, err := ParseFilter(s, residentFields)
		if err != nil {
			t.Fatalf("ParseFilter(%.40q...): %v", s, err)
		}
		if s == long {
			continue
		}
		if got := matching(t, f); got != "holmes" {
			t.Errorf("ParseFilter(%.40q...) matches %q", s, got)
		}
	}
	if len(long) != MaxFilterLen {
		t.Fatalf("len(long) = %d", len(long))
	}
}

func TestFilterFields(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"", nil},
		{"name eq 'Sherlock Holmes'", []string{"name"}},
		{"(name eq 'Sherlock Holmes' or building eq 221) and floor gt 10", []string{"building", "floor", "name"}},
		{"floor le 10 and floor gt 3 and not link_id eq x", []string{"floor", "link_id"}},
	} {
		f, err := ParseFilter(tc.filter, residentFields)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Fields(); !slices.Equal(got, tc.want) {
			t.Errorf("ParseFilter(%q).Fields() = %q, want %q", tc.filter, got, tc.want)
		}
	}
	f, _ := ParseFilter("floor eq 1 and name eq x", residentFields)
	f.Fields()[0] = "changed"
	if got := f.Fields(); got[0] != "floor" {
		t.Errorf("Fields() shares its slice: %q", got)
	}
}

func TestFilterEquals(t *testing.T) {
	for _, tc := range []struct {
		filter, field, want string
		ok                  bool
	}{
		{"link_id eq 'abc'", "link_id", "abc", true},
		{"link_id EQ abc", "link_id", "abc", true},
		{"link_id eq abc and floor gt 3", "link_id", "abc", true},
		{"floor gt 3 and link_id eq abc", "link_id", "abc", true},
		{"floor gt 3 and (link_id eq abc and type eq card)", "link_id", "abc", true},
		{"(link_id eq abc)", "link_id", "abc", true},
		{"not not link_id eq abc", "link_id", "abc", true},
		{"floor eq 007", "floor", "7", true},
		{"active eq TRUE", "active", "true", true},
		{"link_id eq abc and link_id eq def", "link_id", "abc", true},
		{"link_id eq abc or floor gt 3", "link_id", "", false},
		{"link_id nq abc", "link_id", "", false},
		{"not link_id eq abc", "link_id", "", false},
		{"floor gt 3 and (link_id eq abc or type eq card)", "link_id", "", false},
		{"link_id ge abc", "link_id", "", false},
		{"name eq abc", "link_id", "", false},
		{"", "link_id", "", false},
	} {
		f, err := ParseFilter(tc.filter, residentFields)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := f.Equals(tc.field)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseFilter(%q).Equals(%q) = %q, %v, want %q, %v", tc.filter, tc.field, got, ok, tc.want, tc.ok)
		}
	}
	var nilFilter *Filter
	if _, ok := nilFilter.Equals("x"); ok || !nilFilter.Match(nil) || nilFilter.Fields() != nil {
		t.Error("the nil *Filter is not the empty filter")
	}
}

func TestMatchRecordKinds(t *testing.T) {
	f, err := ParseFilter("created_at ge 1700000000 and floor gt 1", residentFields)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Unix(1700000000, 0)
	rec := RecordFunc(func(name string) (Value, bool) {
		switch name {
		case "created_at":
			return TimeValue(when), true
		case "floor":
			return IntValue(2), true
		}
		return Value{}, false
	})
	if !f.Match(rec) {
		t.Error("a RecordFunc with a TimeValue does not match")
	}
	// A value of another type than the field's counts as missing.
	wrong := Map{"created_at": StringValue("1700000000"), "floor": IntValue(2)}
	if f.Match(wrong) {
		t.Error("a string value matches an integer comparison")
	}
	g, _ := ParseFilter("created_at nq 5", residentFields)
	if !g.Match(wrong) || !g.Match(nil) {
		t.Error("nq with a wrongly typed or missing value is not true")
	}
}

func TestFilterConcurrent(t *testing.T) {
	f, err := ParseFilter("(name eq 'Sherlock Holmes' or building eq 221) and floor gt 10", residentFields)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if got := matching(t, f); got != "holmes" {
					t.Errorf("matches %q", got)
					return
				}
				_, _ = f.Equals("name")
				_ = f.Fields()
			}
		})
	}
	wg.Wait()
}

func TestValueAndType(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		typ  Type
		text string
	}{
		{Value{}, String, ""},
		{StringValue("a b"), String, "a b"},
		{IntValue(-7), Integer, "-7"},
		{TimeValue(time.Unix(42, 5)), Integer, "42"},
		{BoolValue(true), Bool, "true"},
		{BoolValue(false), Bool, "false"},
	} {
		if tc.v.Type() != tc.typ || tc.v.String() != tc.text {
			t.Errorf("%#v: Type %v String %q, want %v %q", tc.v, tc.v.Type(), tc.v.String(), tc.typ, tc.text)
		}
	}
	for typ, want := range map[Type]string{String: "string", Integer: "integer", Timestamp: "timestamp", Bool: "bool", Type(9): "Type(9)"} {
		if typ.String() != want {
			t.Errorf("Type %d String %q, want %q", int(typ), typ.String(), want)
		}
	}
	// A Type outside the constants behaves as String.
	f, err := ParseFilter("x eq 5", Fields{"x": Type(9)})
	if err != nil || !f.Match(Map{"x": StringValue("5")}) {
		t.Errorf("unknown Type: %v", err)
	}
}

// TestDocErrors checks the errors the package documentation shows.
func TestDocErrors(t *testing.T) {
	for in, want := range map[string]string{
		"flor eq 1":         `filter: unknown field "flor" at 0`,
		"created_at gt abc": `filter: timestamp field "created_at" compared with "abc", want an integer at 14`,
		"active gt true":    `filter: operator gt not allowed for bool field "active" at 7`,
		"floor le 10 and":   `filter: missing clause after "and" at 15`,
		"(floor le 10":      `filter: unclosed ( at 0`,
	} {
		if _, err := ParseFilter(in, residentFields); err == nil || err.Error() != want {
			t.Errorf("ParseFilter(%q): %v, want %s", in, err, want)
		}
	}
	if _, err := ParseOrder("name, floor up", orderAllowed); err == nil || err.Error() != `order_by: unexpected "up", want a comma, asc, desc, or the end at 12` {
		t.Errorf("ParseOrder: %v", err)
	}
}
