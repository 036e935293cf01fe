package timeprofile_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on machines without a zoneinfo database

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/timeprofile"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func at(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

func weekly(from, to time.Time, rt timeprofile.RepeatType) timeprofile.Profile {
	return timeprofile.Profile{
		Name:        "office",
		TimeOptions: timeprofile.TimeOptions{DateFrom: from.Unix(), DateTo: to.Unix()},
		RepeatOptions: timeprofile.RepeatOptions{RepeatEnable: true, RepeatFormat: timeprofile.RepeatFormat{
			RepeatType: rt, RepeatEnd: timeprofile.RepeatEnd{Format: timeprofile.EndNever},
		}},
	}
}

func TestActiveKeepsWallClockAcrossDST(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	// Every day 08:00-18:00 New York time, from 2026-03-01 (DST starts 03-08).
	s, err := timeprofile.Compile(weekly(at(ny, 2026, 3, 1, 8, 0), at(ny, 2026, 3, 1, 18, 0), timeprofile.RepeatDay), ny)
	require.NoError(t, err)
	for _, day := range []int{1, 7, 8, 9, 20} {
		assert.False(t, s.Active(at(ny, 2026, 3, day, 7, 59)), "03-%02d 07:59", day)
		assert.True(t, s.Active(at(ny, 2026, 3, day, 8, 0)), "03-%02d 08:00", day)
		assert.True(t, s.Active(at(ny, 2026, 3, day, 17, 59)), "03-%02d 17:59", day)
		assert.False(t, s.Active(at(ny, 2026, 3, day, 18, 0)), "03-%02d 18:00", day)
	}
	assert.False(t, s.Active(at(ny, 2026, 2, 28, 12, 0)), "before date_from")
}

func TestGapAndOverlapFollowRFC5545(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	// Daily 02:30-04:00: on 2026-03-08 02:30 does not exist and means 03:30 EDT.
	s, err := timeprofile.Compile(weekly(at(ny, 2026, 3, 1, 2, 30), at(ny, 2026, 3, 1, 4, 0), timeprofile.RepeatDay), ny)
	require.NoError(t, err)
	gapDayStart := time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC) // 03:30 EDT
	assert.False(t, s.Active(gapDayStart.Add(-time.Second)))
	assert.True(t, s.Active(gapDayStart))
	next, ok := s.NextChange(time.Date(2026, 3, 8, 0, 0, 0, 0, ny))
	require.True(t, ok)
	assert.Equal(t, gapDayStart.Unix(), next.Unix())

	// Daily 01:30-03:00: on 2026-11-01 01:30 happens twice; the first (EDT) counts.
	s, err = timeprofile.Compile(weekly(at(ny, 2026, 10, 1, 1, 30), at(ny, 2026, 10, 1, 3, 0), timeprofile.RepeatDay), ny)
	require.NoError(t, err)
	firstOneThirty := time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC) // 01:30 EDT
	assert.False(t, s.Active(firstOneThirty.Add(-time.Second)))
	assert.True(t, s.Active(firstOneThirty))

	// Santiago springs forward at midnight: on 2026-09-06 the day starts at 01:00.
	scl := mustLoad(t, "America/Santiago")
	allDay := weekly(at(scl, 2026, 9, 1, 0, 0), at(scl, 2026, 9, 1, 0, 0), timeprofile.RepeatDay)
	allDay.TimeOptions.IsAllDay = true
	allDay.RepeatOptions.RepeatFormat.RepeatEnd = timeprofile.RepeatEnd{Format: timeprofile.EndDate, Date: at(scl, 2026, 9, 6, 12, 0).Unix()}
	s, err = timeprofile.Compile(allDay, scl)
	require.NoError(t, err)
	assert.True(t, s.Active(at(scl, 2026, 9, 6, 1, 0)))
	assert.True(t, s.Active(at(scl, 2026, 9, 6, 23, 59)))
	assert.False(t, s.Active(at(scl, 2026, 9, 7, 0, 0)), "after repeat_end's day")
}

func TestNotRepeating(t *testing.T) {
	from, to := time.Unix(1_767_254_400, 0), time.Unix(1_767_265_200, 0)
	s, err := timeprofile.Compile(timeprofile.Profile{TimeOptions: timeprofile.TimeOptions{DateFrom: from.Unix(), DateTo: to.Unix()}}, nil)
	require.NoError(t, err)
	assert.Empty(t, s.RRule())
	assert.False(t, s.Active(from.Add(-time.Second)))
	assert.True(t, s.Active(from))
	assert.False(t, s.Active(to))
	next, ok := s.NextChange(from.Add(-time.Hour))
	assert.True(t, ok)
	assert.Equal(t, from.Unix(), next.Unix())
	next, ok = s.NextChange(from)
	assert.True(t, ok)
	assert.Equal(t, to.Unix(), next.Unix())
	_, ok = s.NextChange(to)
	assert.False(t, ok)
}

func TestNextChangeOfAProfileThatIsAlwaysActive(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := weekly(from, from, timeprofile.RepeatDay)
	p.TimeOptions.IsAllDay = true
	s, err := timeprofile.Compile(p, time.UTC)
	require.NoError(t, err)
	assert.True(t, s.Active(from.AddDate(3, 0, 0)))
	_, ok := s.NextChange(from.AddDate(1, 0, 0))
	assert.False(t, ok, "an every-day all-day profile never changes")
}

// ---- Random profiles; the property tests against the reference are in property_test.go. ----

// propertyZones are the zones of the property tests: UTC, ordinary and
// odd daylight saving (midnight changes in Santiago and Havana, half an
// hour in Lord Howe, two hours in Troll, Ramadan in Casablanca), none
// (Kolkata), and a whole day skipped (Apia 2011, Kwajalein 1993).
var propertyZones = []string{"UTC", "America/New_York", "America/Santiago", "Europe/Berlin", "Australia/Lord_Howe",
	"Asia/Kolkata", "America/Havana", "Pacific/Apia", "Pacific/Kwajalein", "Africa/Casablanca", "Antarctica/Troll"}

// randomProfile makes a valid repeating profile starting in 2024..2027.
func randomProfile(rng *rand.Rand, loc *time.Location) timeprofile.Profile {
	day := time.Date(2024+rng.IntN(4), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, loc)
	// Start times cluster at midnight and the DST hours, where zones misbehave.
	hours := []int{0, 0, 1, 2, 3, 8, 12, 22, 23}
	from := time.Date(day.Year(), day.Month(), day.Day(), hours[rng.IntN(len(hours))], 15*rng.IntN(4), 0, 0, loc)
	var to time.Time
	allDay := rng.IntN(5) == 0
	switch {
	case allDay:
		to = from.AddDate(0, 0, rng.IntN(3))
	case rng.IntN(4) == 0: // runs past midnight, or for days
		to = from.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
	default:
		to = from.Add(time.Duration(1+rng.IntN(12*60)) * time.Minute)
	}
	p := timeprofile.Profile{
		Name:        "random",
		TimeOptions: timeprofile.TimeOptions{IsAllDay: allDay, DateFrom: from.Unix(), DateTo: to.Unix()},
		RepeatOptions: timeprofile.RepeatOptions{RepeatEnable: true, RepeatFormat: timeprofile.RepeatFormat{
			RepeatEnd: timeprofile.RepeatEnd{Format: timeprofile.EndNever},
		}},
	}
	f := &p.RepeatOptions.RepeatFormat
	if rng.IntN(3) == 0 {
		f.RepeatEnd = timeprofile.RepeatEnd{Format: timeprofile.EndDate, Date: from.AddDate(0, rng.IntN(18), rng.IntN(30)).Unix()}
	}
	randomRepeat(rng, f)
	return p
}

// randomRepeat sets a random repeat type and, for custom, a random rule.
func randomRepeat(rng *rand.Rand, f *timeprofile.RepeatFormat) {
	weekdays := []timeprofile.Weekday{timeprofile.MON, timeprofile.TUE, timeprofile.WED, timeprofile.THU, timeprofile.FRI, timeprofile.SAT, timeprofile.SUN}
	orders := []timeprofile.WeekOrder{timeprofile.First, timeprofile.Second, timeprofile.Third, timeprofile.Fourth, timeprofile.Fifth, timeprofile.Last}
	dayTypes := []timeprofile.DayType{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN", timeprofile.WeekDay, timeprofile.DayOff}
	ordinal := func() *timeprofile.OrdinalDay {
		return &timeprofile.OrdinalDay{WeekOrder: orders[rng.IntN(len(orders))], DayType: dayTypes[rng.IntN(len(dayTypes))]}
	}
	types := []timeprofile.RepeatType{timeprofile.RepeatDay, timeprofile.RepeatWeek, timeprofile.RepeatTwoWeeks, timeprofile.RepeatMonth, timeprofile.RepeatYear}
	if rng.IntN(2) == 0 {
		f.RepeatType = types[rng.IntN(len(types))]
		return
	}
	f.RepeatType = timeprofile.RepeatCustomType
	c := &timeprofile.RepeatCustom{RepeatLooper: 1 + rng.IntN(4)}
	switch rng.IntN(4) {
	case 0:
		c.RepeatPointType = timeprofile.PointDay
	case 1:
		c.RepeatPointType = timeprofile.PointWeek
		for _, w := range weekdays {
			if rng.IntN(3) == 0 {
				c.RepeatOptions.Weekdays = append(c.RepeatOptions.Weekdays, w)
			}
		}
		if len(c.RepeatOptions.Weekdays) == 0 {
			c.RepeatOptions.Weekdays = []timeprofile.Weekday{weekdays[rng.IntN(7)]}
		}
	case 2:
		c.RepeatPointType = timeprofile.PointMonth
		if rng.IntN(2) == 0 {
			m := &timeprofile.MonthOptions{Format: timeprofile.DayNumbers}
			for range 1 + rng.IntN(3) {
				m.DayNumbers = append(m.DayNumbers, 1+rng.IntN(31))
			}
			c.RepeatOptions.Month = m
		} else {
			c.RepeatOptions.Month = &timeprofile.MonthOptions{Format: timeprofile.ParameterizedDay, Day: ordinal()}
		}
	case 3:
		c.RepeatPointType = timeprofile.PointYear
		y := &timeprofile.YearOptions{Range: ordinal()}
		for range 1 + rng.IntN(3) {
			y.Months = append(y.Months, 1+rng.IntN(12))
		}
		c.RepeatOptions.Year = y
	}
	f.RepeatCustom = c
}

// transitions returns the instants in [from, to) at which loc's offset
// changes. ZoneBounds past the end of the zone table can report an end that
// is no change, or that equals the instant asked about: such ends are
// stepped over.
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for x := from; x.Before(to); {
		_, end := x.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			break
		}
		if !end.After(x) {
			x = x.Add(time.Hour)
			continue
		}
		_, before := end.Add(-time.Second).In(loc).Zone()
		if _, after := end.In(loc).Zone(); before != after {
			out = append(out, end)
		}
		x = end
	}
	return out
}

func mustJSON(p timeprofile.Profile) string {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Sprintf("%+v", p)
	}
	return string(b)
}

func TestNextChangeAgreesWithActive(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2026))
	for _, zone := range propertyZones {
		loc := mustLoad(t, zone)
		for range 15 {
			p := randomProfile(rng, loc)
			s, err := timeprofile.Compile(p, loc)
			if err != nil {
				continue
			}
			x := time.Unix(p.TimeOptions.DateFrom, 0).Add(time.Duration(rng.Int64N(int64(400*24*time.Hour))) - 48*time.Hour)
			next, ok := s.NextChange(x)
			if !ok {
				continue
			}
			require.True(t, next.After(x))
			assert.NotEqual(t, s.Active(x), s.Active(next), "NextChange(%v)=%v must flip Active", x, next)
			// No change in between: sample the interval.
			for i := 1; i < 20; i++ {
				y := x.Add(next.Sub(x) * time.Duration(i) / 20)
				if y.Before(next) && y.Unix() > x.Unix() {
					require.Equal(t, s.Active(x), s.Active(y), "Active changed at %v, before NextChange %v (from %v)", y, next, x)
				}
			}
		}
	}
}

// TestRRuleOnDemand: Compile keeps no rrule-go value; each RRule call builds
// rules of its own, equal to those of the last call.
func TestRRuleOnDemand(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	s, err := timeprofile.Compile(weekly(at(ny, 2026, 1, 5, 8, 0), at(ny, 2026, 1, 5, 18, 0), timeprofile.RepeatWeek), ny)
	require.NoError(t, err)
	a, b := s.RRule(), s.RRule()
	require.Len(t, a, 1)
	require.Len(t, b, 1)
	assert.NotSame(t, a[0], b[0])
	assert.Equal(t, a[0].String(), b[0].String())
	assert.Equal(t, "DTSTART:20260105T080000Z\nRRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO", a[0].String())
}
