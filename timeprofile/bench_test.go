package timeprofile_test

import (
	"testing"
	"time"

	"github.com/lintelhq/lintel/timeprofile"
)

// benchProfiles are a daily and a custom monthly profile whose date_from is
// ten years before the instants asked about.
func benchProfiles(b testing.TB) map[string]timeprofile.Profile {
	loc := mustLoad(b, "Europe/Berlin")
	from := time.Date(2016, 11, 21, 8, 0, 0, 0, loc)
	daily := weekly(from, from.Add(10*time.Hour), timeprofile.RepeatDay)
	monthly := weekly(from, from.Add(10*time.Hour), timeprofile.RepeatCustomType)
	monthly.RepeatOptions.RepeatFormat.RepeatCustom = &timeprofile.RepeatCustom{
		RepeatPointType: timeprofile.PointMonth, RepeatLooper: 1,
		RepeatOptions: timeprofile.CustomOptions{Month: &timeprofile.MonthOptions{
			Format: timeprofile.ParameterizedDay, Day: &timeprofile.OrdinalDay{WeekOrder: timeprofile.Last, DayType: timeprofile.WeekDay},
		}},
	}
	return map[string]timeprofile.Profile{"Daily": daily, "CustomMonthly": monthly}
}

// activeSink keeps the compiler from dropping the calls measured.
var activeSink bool

// BenchmarkActive compares the fast path with the rrule-go reference check
// (Before(t, true) and the window) on the same profiles, ten years on.
func BenchmarkActive(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	for _, name := range []string{"Daily", "CustomMonthly"} {
		p := benchProfiles(b)[name]
		s, err := timeprofile.Compile(p, loc)
		if err != nil {
			b.Fatal(err)
		}
		// Instants spread over a day, ten years after date_from.
		base := time.Date(2026, 11, 27, 0, 0, 0, 0, loc)
		instants := make([]time.Time, 96)
		for i := range instants {
			instants[i] = base.Add(time.Duration(i) * 15 * time.Minute)
		}
		b.Run(name+"/Fast", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				activeSink = s.Active(instants[i%len(instants)])
				i++
			}
		})
		b.Run(name+"/RRuleGoReference", func(b *testing.B) {
			rule := s.RRule()[0]
			length := time.Duration(p.TimeOptions.DateTo-p.TimeOptions.DateFrom) * time.Second
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				t := instants[i%len(instants)]
				i++
				x := t.In(loc)
				ft := time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), 0, time.UTC)
				occ := rule.Before(ft, true)
				activeSink = !occ.IsZero() && !s.Resolve(occ).After(t) && s.Resolve(occ.Add(length)).After(t)
			}
		})
	}
}

func BenchmarkNextChange(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	s, err := timeprofile.Compile(benchProfiles(b)["CustomMonthly"], loc)
	if err != nil {
		b.Fatal(err)
	}
	t := time.Date(2026, 11, 27, 12, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		s.NextChange(t)
	}
}

func BenchmarkCompile(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	p := benchProfiles(b)["CustomMonthly"]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := timeprofile.Compile(p, loc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestActiveDoesNotAllocate holds the zero-allocation promise in the tests
// too, not only in benchmark output.
func TestActiveDoesNotAllocate(t *testing.T) {
	loc := mustLoad(t, "Europe/Berlin")
	for name, p := range benchProfiles(t) {
		s, err := timeprofile.Compile(p, loc)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 27, 9, 0, 0, 0, loc)
		if n := testing.AllocsPerRun(100, func() { s.Active(at) }); n != 0 {
			t.Errorf("%s: Active allocates %v times per call", name, n)
		}
	}
}

// TestNextChangeDoesNotAllocate holds NextChange to the same promise, inside
// and outside a window.
func TestNextChangeDoesNotAllocate(t *testing.T) {
	loc := mustLoad(t, "Europe/Berlin")
	for name, p := range benchProfiles(t) {
		s, err := timeprofile.Compile(p, loc)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{time.Date(2026, 11, 27, 9, 0, 0, 0, loc), time.Date(2026, 11, 28, 9, 0, 0, 0, loc)} {
			if n := testing.AllocsPerRun(100, func() { s.NextChange(at) }); n != 0 {
				t.Errorf("%s: NextChange(%v) allocates %v times per call", name, at, n)
			}
		}
	}
}
