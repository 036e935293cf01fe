package timeprofile_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lintelhq/lintel/timeprofile"
)

// FuzzProfile feeds arbitrary JSON through decoding, validation,
// compilation and evaluation: none of them may panic, and each must finish
// quickly whatever the input (the fuzzer's own timeout catches a hang).
func FuzzProfile(f *testing.F) {
	f.Add([]byte(profileJSON(`{"repeat_type":"day","repeat_end":{"format":"never"}}`)), int64(1767300000))
	f.Add([]byte(profileJSON(custom("week", 2, `["MON","FRI"]`))), int64(1800000000))
	f.Add([]byte(profileJSON(custom("month", 1, `{"format":"dayNumbers","range":[1,15,31]}`))), int64(1900000000))
	f.Add([]byte(profileJSON(custom("year", 1000, `{"months":[2],"range":{"week_order":"fifth","day_type":"DAY_OFF"}}`))), int64(2000000000))
	f.Add([]byte(`{"time_options":{"is_all_day":true,"date_from":0,"date_to":0},"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"year","repeat_end":{"format":"date","date":7258118399}}}}`), int64(0))
	// An 8-day window every Friday: windows overlap (issue: NextChange
	// stopped where Active does not change).
	f.Add([]byte(`{"time_options":{"date_to":700000},"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"custom","repeat_end":{"format":"date","date":2000000},"repeat_custom":{"repeat_point_type":"week","repeat_looper":1,"repeat_options":["FRI"]}}}}`), int64(1000000))
	// Fridays in Apia around the skipped 2011-12-30.
	f.Add([]byte(`{"time_options":{"date_from":1324663200,"date_to":1324677600},"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"week","repeat_end":{"format":"never"}}}}`), int64(1325260800))
	zones := []*time.Location{time.UTC}
	for _, name := range []string{"America/Santiago", "Australia/Lord_Howe", "America/New_York", "Pacific/Apia"} {
		zones = append(zones, mustLoad(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte, at int64) {
		var p timeprofile.Profile
		if json.Unmarshal(data, &p) != nil {
			return
		}
		if p.Validate() != nil {
			return
		}
		for _, loc := range zones {
			s, err := timeprofile.Compile(p, loc)
			if err != nil {
				continue
			}
			// RRule panics on options out of rrule-go's bounds, which
			// Compile must rule out.
			s.RRule()
			x := time.Unix(at%(1<<34), 0)
			active := s.Active(x)
			if next, ok := s.NextChange(x); ok {
				if !next.After(x) {
					t.Fatalf("NextChange(%v) = %v, not after it", x, next)
				}
				if s.Active(next) == active {
					t.Fatalf("Active does not change at NextChange(%v) = %v", x, next)
				}
				// Nothing changes before next: from anywhere in [x, next) the
				// answer is the same.
				for _, y := range []time.Time{x.Add(next.Sub(x) / 2).Truncate(time.Second), next.Add(-time.Second)} {
					if !y.After(x) {
						continue
					}
					if s.Active(y) != active {
						t.Fatalf("Active changes at %v, before NextChange(%v) = %v", y, x, next)
					}
					if again, ok := s.NextChange(y); !ok || !again.Equal(next) {
						t.Fatalf("NextChange(%v) = %v, %v; NextChange(%v) = %v", y, again, ok, x, next)
					}
				}
			}
		}
	})
}

// FuzzAgainstReference builds profiles from a few numbers, in the zones of
// the property tests, and holds Active and NextChange to the reference
// (reference_test.go) at the instant asked about and at every window edge
// nearby.
func FuzzAgainstReference(f *testing.F) {
	// zone, date_from, length-1, all day, kind, looper, options, repeat_end, instant
	f.Add(uint8(0), int64(1767348000), int64(8*86400-1), false, uint8(7), uint16(1), uint64(1<<4), int64(14*86400), int64(7*86400-3600))
	f.Add(uint8(1), int64(1793512800), int64(5399), false, uint8(1), uint16(1), uint64(0), int64(86400), int64(0))         // New York, date_from 01:30 EST
	f.Add(uint8(1), int64(1772782200), int64(2399), false, uint8(1), uint16(1), uint64(0), int64(3*86400), int64(2*86400)) // New York, 02:30-03:10
	f.Add(uint8(7), int64(1324663200), int64(14399), false, uint8(2), uint16(1), uint64(0), int64(0), int64(7*86400))      // Apia, Fridays
	f.Add(uint8(1), int64(1793513400), int64(1199), false, uint8(1), uint16(1), uint64(0), int64(86400), int64(86400))     // New York, 01:50 EDT to 01:10 EST
	f.Add(uint8(3), int64(1767254400), int64(3599), true, uint8(10), uint16(2), uint64(0x5f)<<50, int64(0), int64(400*86400))
	locs := make([]*time.Location, len(propertyZones))
	for i, name := range propertyZones {
		locs[i] = mustLoad(f, name)
	}
	f.Fuzz(func(t *testing.T, zone uint8, from, length int64, allDay bool, kind uint8, looper uint16, options uint64, until, at int64) {
		loc := locs[int(zone)%len(locs)]
		p, ok := fuzzProfile(floorModI(from, 7258118400-40*86400), 1+floorModI(length, 32*86400), allDay, kind, looper, options, until)
		if !ok {
			return
		}
		s, err := timeprofile.Compile(p, loc)
		if err != nil {
			return
		}
		ref, err := newRef(p, loc)
		if err != nil {
			t.Fatal(err)
		}
		x := p.TimeOptions.DateFrom - 3*86400 + floorModI(at, 2*366*86400)
		lo, hi := time.Unix(x-40*86400, 0), time.Unix(x+40*86400, 0)
		c := &checker{t: t, zone: loc.String(), p: p, s: s, u: ref.union(lo, hi)}
		c.at(x, 0)
		for _, e := range c.u.edges() {
			if e > x-2*86400 && e < x+2*86400 {
				c.at(e-1, 0)
				c.at(e, 0)
			}
		}
	})
}

func floorModI(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// fuzzProfile makes a profile from the fuzzer's numbers; kind picks the
// repeat form, options holds its choices in bit fields.
func fuzzProfile(from, length int64, allDay bool, kind uint8, looper uint16, options uint64, until int64) (timeprofile.Profile, bool) {
	p := timeprofile.Profile{Name: "fuzz", TimeOptions: timeprofile.TimeOptions{IsAllDay: allDay, DateFrom: from, DateTo: from + length}}
	if allDay {
		p.TimeOptions.DateTo = from + length%(3*86400)
	}
	kind %= 12
	if kind == 0 {
		return p, p.Validate() == nil
	}
	p.RepeatOptions.RepeatEnable = true
	f := &p.RepeatOptions.RepeatFormat
	f.RepeatEnd = timeprofile.RepeatEnd{Format: timeprofile.EndNever}
	if until%3 != 0 {
		f.RepeatEnd = timeprofile.RepeatEnd{Format: timeprofile.EndDate, Date: from + floorModI(until, 600*86400)}
	}
	weekdays := []timeprofile.Weekday{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}
	orders := []timeprofile.WeekOrder{"first", "second", "third", "fourth", "fifth", "last"}
	dayTypes := []timeprofile.DayType{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN", "WEEK_DAY", "DAY_OFF"}
	ordinal := &timeprofile.OrdinalDay{WeekOrder: orders[(options>>40)%6], DayType: dayTypes[(options>>44)%9]}
	c := &timeprofile.RepeatCustom{RepeatLooper: 1 + int(looper)%12}
	switch kind {
	case 1, 2, 3, 4, 5:
		f.RepeatType = []timeprofile.RepeatType{"day", "week", "twoWeeks", "month", "year"}[kind-1]
		return p, p.Validate() == nil
	case 6:
		c.RepeatPointType = timeprofile.PointDay
	case 7:
		c.RepeatPointType = timeprofile.PointWeek
		for i, w := range weekdays {
			if options&(1<<i) != 0 {
				c.RepeatOptions.Weekdays = append(c.RepeatOptions.Weekdays, w)
			}
		}
	case 8:
		c.RepeatPointType = timeprofile.PointMonth
		m := &timeprofile.MonthOptions{Format: timeprofile.DayNumbers}
		for d := 1; d <= 31; d++ {
			if options&(1<<(d+7)) != 0 {
				m.DayNumbers = append(m.DayNumbers, d)
			}
		}
		c.RepeatOptions.Month = m
	case 9:
		c.RepeatPointType = timeprofile.PointMonth
		c.RepeatOptions.Month = &timeprofile.MonthOptions{Format: timeprofile.ParameterizedDay, Day: ordinal}
	default:
		c.RepeatPointType = timeprofile.PointYear
		y := &timeprofile.YearOptions{Range: ordinal}
		for m := 1; m <= 12; m++ {
			if options&(1<<(m+49)) != 0 {
				y.Months = append(y.Months, m)
			}
		}
		c.RepeatOptions.Year = y
	}
	f.RepeatType = timeprofile.RepeatCustomType
	f.RepeatCustom = c
	return p, p.Validate() == nil
}
