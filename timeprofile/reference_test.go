package timeprofile_test

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/teambition/rrule-go"

	"github.com/lintelhq/lintel/timeprofile"
)

// The reference: the test's own reading of a Profile, written from the
// package doc and the Profile's JSON fields alone. It shares no code with
// the package's compiled schedule: rrule-go picks the days, refResolve
// reads wall-clock times by RFC 5545 3.3.5 from the zone's own transitions,
// and the windows are merged into a sorted list of disjoint intervals. It
// is slow, and meant to be.

// interval is [from, to) in unix seconds.
type interval struct{ from, to int64 }

type refProfile struct {
	loc    *time.Location
	first  interval // date_from's own window, as instants
	repeat bool

	rules      []*rrule.RRule // days on which a repetition starts; DTSTART is date_from's day, 00:00 floating
	everyYears int            // > 0: keep only days of years startDay.Year() + k*everyYears
	startDay   time.Time      // date_from's day, 00:00, floating (a wall-clock time labelled UTC)
	startWall  time.Duration  // the repetitions' wall-clock start, after midnight
	wallLen    time.Duration  // and their wall-clock length
}

// floating returns t's wall-clock reading in loc, labelled UTC.
func floating(t time.Time, loc *time.Location) time.Time {
	x := t.In(loc)
	return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), 0, time.UTC)
}

func midnight(f time.Time) time.Time {
	return time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, time.UTC)
}

// refResolve turns a floating wall-clock time into the instant it means in
// loc: the earliest instant whose reading it is, or, in a gap, the reading
// with the offset in force before the gap. It finds the zone's changes near
// the time itself, from offsets sampled hourly and bisected to the second
// (time.Time.ZoneBounds is not used: past the end of the zone table it can
// report bounds that are not transitions, and an end equal to the instant).
func refResolve(loc *time.Location, f time.Time) int64 {
	w := f.Unix()
	offset := func(x int64) int64 {
		_, o := time.Unix(x, 0).In(loc).Zone()
		return int64(o)
	}
	type change struct{ at, before, after int64 }
	var changes []change
	prev := offset(w - 30*3600)
	for x := w - 29*3600; x <= w+30*3600; x += 3600 {
		cur := offset(x)
		if cur == prev {
			continue
		}
		a, b := x-3600, x // offset(a) = prev, offset(b) = cur
		for b-a > 1 {
			if m := a + (b-a)/2; offset(m) == prev {
				a = m
			} else {
				b = m
			}
		}
		changes = append(changes, change{at: b, before: prev, after: cur})
		prev = cur
	}
	// The instants that read w, one candidate per span between changes.
	best := int64(math.MaxInt64)
	lo := int64(math.MinInt64)
	for i := 0; i <= len(changes); i++ {
		hi, off := int64(math.MaxInt64), prev
		if i < len(changes) {
			hi, off = changes[i].at, changes[i].before
		}
		if x := w - off; lo <= x && x < hi {
			best = min(best, x)
		}
		lo = hi
	}
	if best != math.MaxInt64 {
		return best
	}
	for _, c := range changes {
		if w-c.before >= c.at && w-c.after < c.at {
			return w - c.before
		}
	}
	panic(fmt.Sprintf("refResolve: no reading of %v in %v", f, loc))
}

var refWeekdays = map[timeprofile.Weekday]rrule.Weekday{
	"MON": rrule.MO, "TUE": rrule.TU, "WED": rrule.WE, "THU": rrule.TH, "FRI": rrule.FR, "SAT": rrule.SA, "SUN": rrule.SU,
}

func goWeekday(d time.Weekday) rrule.Weekday {
	return []rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}[d]
}

// withOrdinal restricts o to "the week_order day_type of the month": one
// weekday by its week of the month (first = days 1-7, ..., fifth = 29-31,
// last = the last seven days), a kind of day by BYSETPOS within the month.
func withOrdinal(o rrule.ROption, d *timeprofile.OrdinalDay) rrule.ROption {
	pos := map[timeprofile.WeekOrder]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}[d.WeekOrder]
	switch d.DayType {
	case timeprofile.WeekDay:
		o.Byweekday = []rrule.Weekday{rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR}
		o.Bysetpos = []int{pos}
	case timeprofile.DayOff:
		o.Byweekday = []rrule.Weekday{rrule.SA, rrule.SU}
		o.Bysetpos = []int{pos}
	default:
		o.Byweekday = []rrule.Weekday{refWeekdays[timeprofile.Weekday(d.DayType)]}
		if pos < 0 {
			o.Bymonthday = []int{-7, -6, -5, -4, -3, -2, -1}
		} else {
			for i := 1; i <= 7; i++ {
				if day := (pos-1)*7 + i; day <= 31 {
					o.Bymonthday = append(o.Bymonthday, day)
				}
			}
		}
	}
	return o
}

// newRef reads a profile that Compile accepted.
func newRef(p timeprofile.Profile, loc *time.Location) (*refProfile, error) {
	r := &refProfile{loc: loc, repeat: p.RepeatOptions.RepeatEnable}
	to := p.TimeOptions
	from, until := time.Unix(to.DateFrom, 0).In(loc), time.Unix(to.DateTo, 0).In(loc)
	r.startDay = midnight(floating(from, loc))
	if to.IsAllDay {
		end := midnight(floating(until, loc)).AddDate(0, 0, 1)
		r.first = interval{refResolve(loc, r.startDay), refResolve(loc, end)}
		r.startWall, r.wallLen = 0, end.Sub(r.startDay)
	} else {
		r.first = interval{to.DateFrom, to.DateTo}
		r.startWall = floating(from, loc).Sub(r.startDay)
		r.wallLen = floating(until, loc).Sub(floating(from, loc))
		if r.wallLen <= 0 { // date_to in a repeated hour, before date_from on the wall clock
			r.wallLen = time.Duration(to.DateTo-to.DateFrom) * time.Second
		}
	}
	if !r.repeat {
		return r, nil
	}
	f := p.RepeatOptions.RepeatFormat
	o := rrule.ROption{Dtstart: r.startDay, Wkst: rrule.MO, Interval: 1}
	if f.RepeatEnd.Format == timeprofile.EndDate {
		o.Until = midnight(floating(time.Unix(f.RepeatEnd.Date, 0), loc)).AddDate(0, 0, 1).Add(-time.Second)
	}
	switch f.RepeatType {
	case timeprofile.RepeatDay:
		o.Freq = rrule.DAILY
	case timeprofile.RepeatWeek, timeprofile.RepeatTwoWeeks:
		o.Freq = rrule.WEEKLY
		o.Byweekday = []rrule.Weekday{goWeekday(from.Weekday())}
		if f.RepeatType == timeprofile.RepeatTwoWeeks {
			o.Interval = 2
		}
	case timeprofile.RepeatMonth:
		o.Freq = rrule.MONTHLY
		o.Bymonthday = []int{from.Day()}
	case timeprofile.RepeatYear:
		o.Freq = rrule.YEARLY
		o.Bymonth = []int{int(from.Month())}
		o.Bymonthday = []int{from.Day()}
	case timeprofile.RepeatCustomType:
		c := f.RepeatCustom
		o.Interval = c.RepeatLooper
		switch c.RepeatPointType {
		case timeprofile.PointDay:
			o.Freq = rrule.DAILY
		case timeprofile.PointWeek:
			o.Freq = rrule.WEEKLY
			for _, w := range c.RepeatOptions.Weekdays {
				o.Byweekday = append(o.Byweekday, refWeekdays[w])
			}
		case timeprofile.PointMonth:
			o.Freq = rrule.MONTHLY
			if m := c.RepeatOptions.Month; m.Format == timeprofile.DayNumbers {
				o.Bymonthday = m.DayNumbers
			} else {
				o = withOrdinal(o, m.Day)
			}
		case timeprofile.PointYear:
			// Every month of the listed ones, in every repeat_looper-th year.
			o.Freq, o.Interval, r.everyYears = rrule.MONTHLY, 1, c.RepeatLooper
			o.Bymonth = c.RepeatOptions.Year.Months
			o = withOrdinal(o, c.RepeatOptions.Year.Range)
		}
	}
	rule, err := rrule.NewRRule(o)
	if err != nil {
		return nil, err
	}
	r.rules = []*rrule.RRule{rule}
	return r, nil
}

// days returns the days after date_from's on which a repetition starts,
// between the floating times lo and hi.
func (r *refProfile) days(lo, hi time.Time) []time.Time {
	var out []time.Time
	for _, rule := range r.rules {
		for _, d := range rule.Between(lo, hi, true) {
			if !d.After(r.startDay) {
				continue
			}
			if r.everyYears > 0 && (d.Year()-r.startDay.Year())%r.everyYears != 0 {
				continue
			}
			out = append(out, d)
		}
	}
	return out
}

// windows returns the profile's windows that could meet [lo, hi], the
// empty ones left out, merged into sorted disjoint intervals; windows that
// touch are merged too. The answer is exact inside [lo, hi].
func (r *refProfile) windows(lo, hi time.Time) []interval {
	all := []interval{r.first}
	if r.repeat {
		flo := midnight(floating(lo, r.loc)).Add(-r.wallLen - 72*time.Hour)
		fhi := floating(hi, r.loc).Add(48 * time.Hour)
		for _, d := range r.days(flo, fhi) {
			start := refResolve(r.loc, d.Add(r.startWall))
			end := refResolve(r.loc, d.Add(r.startWall+r.wallLen))
			if start < end {
				all = append(all, interval{start, end})
			}
		}
	}
	slices.SortFunc(all, func(a, b interval) int { return int(a.from - b.from) })
	var merged []interval
	for _, w := range all {
		if n := len(merged); n > 0 && w.from <= merged[n-1].to {
			merged[n-1].to = max(merged[n-1].to, w.to)
			continue
		}
		merged = append(merged, w)
	}
	return merged
}

// refUnion is the reference's answer over [lo, hi].
type refUnion struct {
	lo, hi int64
	ws     []interval
}

func (r *refProfile) union(lo, hi time.Time) refUnion {
	return refUnion{lo: lo.Unix(), hi: hi.Unix(), ws: r.windows(lo, hi)}
}

// active says whether u lies in a window.
func (u refUnion) active(x int64) bool {
	i := sort.Search(len(u.ws), func(i int) bool { return u.ws[i].to > x })
	return i < len(u.ws) && u.ws[i].from <= x
}

// next returns the first instant after x at which active changes, if it
// is at most hi.
func (u refUnion) next(x int64) (int64, bool) {
	i := sort.Search(len(u.ws), func(i int) bool { return u.ws[i].to > x })
	if i == len(u.ws) {
		return 0, false
	}
	b := u.ws[i].from
	if b <= x {
		b = u.ws[i].to
	}
	return b, b <= u.hi
}

// edges returns the windows' edges inside [lo, hi].
func (u refUnion) edges() []int64 {
	var out []int64
	for _, w := range u.ws {
		for _, e := range []int64{w.from, w.to} {
			if e >= u.lo && e <= u.hi {
				out = append(out, e)
			}
		}
	}
	return out
}
