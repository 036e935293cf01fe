package listquery

import "testing"

const vendorParens = "(name eq 'Sherlock Holmes' or building eq 221) and floor gt 10"

func BenchmarkParseFilter(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFilter(vendorParens, residentFields); err != nil {
			b.Fatal(err)
		}
	}
}

// resident is a record held in a struct, as a list's items usually are.
type resident struct {
	name            string
	building, floor int64
}

func (r *resident) Field(name string) (Value, bool) {
	switch name {
	case "name":
		return StringValue(r.name), true
	case "building":
		return IntValue(r.building), true
	case "floor":
		return IntValue(r.floor), true
	}
	return Value{}, false
}

func BenchmarkMatch(b *testing.B) {
	f, err := ParseFilter(vendorParens, residentFields)
	if err != nil {
		b.Fatal(err)
	}
	recs := []*resident{{"Sherlock Holmes", 221, 12}, {"John Watson", 221, 2}, {"Mrs Hudson", 5, 4}}
	b.Run("struct", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			for _, r := range recs {
				if f.Match(r) {
					n++
				}
			}
		}
		if n == 0 {
			b.Fatal("no match")
		}
	})
	maps := []Map{residents[0].rec, residents[1].rec, residents[2].rec}
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range maps {
				f.Match(r)
			}
		}
	})
}
