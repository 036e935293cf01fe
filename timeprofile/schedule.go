package timeprofile

import (
	"fmt"
	"math"
	"time"

	"github.com/teambition/rrule-go"
)

// Schedule is a compiled, immutable profile: it answers Active and
// NextChange by calendar arithmetic, without walking occurrences, so its
// cost does not grow with the age of the profile. It is safe for concurrent
// use.
type Schedule struct {
	loc *time.Location

	// The first window, [from, to) in unix seconds: date_from's own
	// occurrence, and the whole profile when it does not repeat.
	from, to int64
	repeat   bool

	// A repeating profile: a later occurrence starts on day d at startSec
	// seconds of wall-clock time and ends on day d+spanDays at endSec.
	startDay, untilDay int64 // civil day numbers; untilDay is the last day an occurrence may start
	startSec, endSec   int64
	spanDays           int64
	startYear          int64 // of startDay
	startMonth         int64 // of startDay, counted from year 0 (year*12 + month-1)

	kind     PointType
	interval int64
	weekMask uint8  // week: weekdays (bit 0 Monday)
	dayMask  uint32 // month/year: days of the month (bit d), or 0 for an ordinal day
	monthMsk uint16 // year: months (bit m)
	ordinal  int64  // ordinal day: 1..5, or -1 for the last
	ordMask  uint8  // ordinal day: the kind of day (bit 0 Monday)
}

// Compile validates p and compiles it for a panel in loc (nil means UTC).
//
// Semantics. The first window is [date_from, date_to): instants, or, with
// is_all_day, the whole days from date_from's day to date_to's day, both
// included. With repeat_enable, the same wall-clock window repeats on every
// later day the rule selects: day, week (the weekday of date_from),
// twoWeeks, month (the day of the month of date_from; months without it are
// skipped, as in RFC 5545), year (the month and day of date_from; 29
// February only in leap years) or custom (every repeat_looper days, weeks,
// months or years, counted from date_from's, restricted to the listed
// weekdays, days of the month, or ordinal day of the listed months). Weeks
// run Monday to Sunday. date_from's own window is always the first
// occurrence, whether or not the rule selects its day. With repeat_end
// format date, no occurrence starts after the end of repeat_end.date's day;
// when that leaves no day after date_from's, the profile is its first
// window alone. A window that runs past midnight (22:00 to 06:00) belongs
// to the day it starts on. Windows may touch or overlap (a weekly window
// eight days long): the profile is active in their union.
//
// Wall-clock times stay put across daylight saving changes: a window from
// 08:00 to 18:00 is 08:00 to 18:00 local time on every day. Following RFC
// 5545 3.3.5, a time that falls in a spring-forward gap is read with the
// offset in force before the gap (02:30 in a gap from 02:00 to 03:00 is
// 03:30; in a zone that skipped a whole day, 08:00 on the skipped day is
// 08:00 on the next), and a time that occurs twice in a fall-back overlap
// means its first occurrence. A repetition whose start, so read, is not
// before its end (02:30 to 03:10 on the night 02:00 becomes 03:00) is empty
// that day. Only the repetitions are read from the wall clock: date_from and
// date_to are instants, so a first window that starts or ends inside a
// repeated hour starts or ends exactly there.
//
// date_to's wall-clock reading can come before date_from's only when the
// first window ends inside a repeated hour, after clocks go back (01:50
// daylight time to 01:10 standard time, 20 minutes). Such a window repeats
// from date_from's wall-clock time for the first window's length, measured
// on the wall clock (01:50 to 02:10).
func Compile(p Profile, loc *time.Location) (*Schedule, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	s := &Schedule{loc: loc}
	to := p.TimeOptions
	fromDay, fromSec := s.civil(to.DateFrom)
	toDay, toSec := s.civil(to.DateTo)
	s.from, s.to = to.DateFrom, to.DateTo
	if to.IsAllDay {
		if toDay < fromDay {
			return nil, ErrDateOrder
		}
		fromSec, toSec, toDay = 0, 0, toDay+1
		s.from, s.to = s.resolve(fromDay*secondsPerDay), s.resolve(toDay*secondsPerDay)
	}
	if !p.RepeatOptions.RepeatEnable {
		return s, nil
	}

	s.repeat = true
	s.startDay, s.startSec = fromDay, fromSec
	length := (toDay-fromDay)*secondsPerDay + toSec - fromSec
	if length <= 0 {
		// date_to lies in a repeated hour, before date_from on the wall
		// clock: repeat the first window's length (see above).
		length = to.DateTo - to.DateFrom
	}
	if length > MaxRepeatWindowDays*secondsPerDay {
		return nil, ErrWindowTooLong
	}
	s.spanDays, s.endSec = floorDiv(fromSec+length, secondsPerDay), floorMod(fromSec+length, secondsPerDay)
	f := p.RepeatOptions.RepeatFormat
	untilDay := int64(math.MaxInt64)
	if f.RepeatEnd.Format == EndDate {
		untilDay, _ = s.civil(f.RepeatEnd.Date)
		if untilDay < s.startDay {
			return nil, ErrEndBeforeStart
		}
	}
	s.compileRule(f)
	s.untilDay = math.MaxInt64 // the options must match some later date, whatever repeat_end says
	if _, ok := s.nextMatch(s.startDay+1, math.MaxInt64); !ok {
		return nil, ErrNeverRepeats
	}
	s.untilDay = untilDay
	return s, nil
}

// compileRule turns the validated repeat format into the day matcher.
func (s *Schedule) compileRule(f RepeatFormat) {
	y0, m0, d0 := civilFromDays(s.startDay)
	s.startYear, s.startMonth = y0, y0*12+m0-1
	s.interval = 1
	switch f.RepeatType {
	case RepeatDay:
		s.kind = PointDay
	case RepeatWeek, RepeatTwoWeeks:
		s.kind = PointWeek
		s.weekMask = 1 << weekdayOf(s.startDay)
		if f.RepeatType == RepeatTwoWeeks {
			s.interval = 2
		}
	case RepeatMonth:
		s.kind = PointMonth
		s.dayMask = 1 << d0
	case RepeatYear:
		s.kind = PointYear
		s.monthMsk = 1 << m0
		s.dayMask = 1 << d0
	case RepeatCustomType:
		c := f.RepeatCustom
		s.kind = c.RepeatPointType
		s.interval = int64(c.RepeatLooper)
		o := c.RepeatOptions
		for _, w := range o.Weekdays {
			i, _ := weekdayIndex(w)
			s.weekMask |= 1 << i
		}
		if o.Month != nil {
			for _, d := range o.Month.DayNumbers {
				s.dayMask |= 1 << d
			}
			s.setOrdinal(o.Month.Day)
		}
		if o.Year != nil {
			for _, m := range o.Year.Months {
				s.monthMsk |= 1 << m
			}
			s.setOrdinal(o.Year.Range)
		}
	}
}

func (s *Schedule) setOrdinal(d *OrdinalDay) {
	if d == nil {
		return
	}
	k, _ := weekOrderIndex(d.WeekOrder)
	mask, _ := dayTypeMask(d.DayType)
	s.ordinal, s.ordMask = int64(k), mask
}

// civil returns the civil day number and seconds of day of unix time u in
// the schedule's zone.
func (s *Schedule) civil(u int64) (day, sec int64) {
	_, off := time.Unix(u, 0).In(s.loc).Zone()
	local := u + int64(off)
	return floorDiv(local, secondsPerDay), floorMod(local, secondsPerDay)
}

// offsetAt returns the zone's UTC offset at unix time u, in seconds.
func (s *Schedule) offsetAt(u int64) int64 {
	_, off := time.Unix(u, 0).In(s.loc).Zone()
	return int64(off)
}

// resolve turns a wall-clock time (seconds since 1970-01-01 00:00 local,
// "floating") into unix seconds, by the RFC 5545 rule of Compile's doc.
func (s *Schedule) resolve(local int64) int64 {
	before := s.offsetAt(local - secondsPerDay) // in force before any nearby change
	after := s.offsetAt(local + secondsPerDay)
	if before == after {
		return local - before
	}
	u1, u2 := local-before, local-after
	ok1, ok2 := s.offsetAt(u1) == before, s.offsetAt(u2) == after
	switch {
	case ok1 && ok2: // an overlap: the first of the two
		return min(u1, u2)
	case ok2:
		return u2
	default: // only the earlier offset reads it right, or a gap: the offset before
		return u1
	}
}

// near is what one zone lookup at an instant tells resolve: the offset in
// force there, and the instants x in [lo, hi) far enough inside the same
// zone span (two days) that resolve(x + off) is x without another lookup:
// resolve samples the offset at x + off +/- 1 day, which lies in the span
// since no offset exceeds a day. A span that time.Time.ZoneBounds reports
// too short (it can, past the end of the zone table) only costs lookups.
type near struct {
	off, lo, hi int64
}

// nearAt looks the zone up at u; it returns what near says and u's civil day.
func (s *Schedule) nearAt(u int64) (n near, day int64) {
	t := time.Unix(u, 0).In(s.loc)
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	n = near{off: int64(off), lo: math.MinInt64, hi: math.MaxInt64}
	if !start.IsZero() {
		n.lo = start.Unix() + 2*secondsPerDay
	}
	if !end.IsZero() {
		n.hi = end.Unix() - 2*secondsPerDay
	}
	return n, floorDiv(u+n.off, secondsPerDay)
}

// resolveNear is resolve(local), answered from n when it can be: resolve
// looks the offset up a day either side of local, which n shows to be off.
func (s *Schedule) resolveNear(n *near, local int64) int64 {
	if x := local - n.off; x >= n.lo && x < n.hi {
		return x
	}
	return s.resolve(local)
}

// window returns the instants of the repetition that starts on day d (a
// day after startDay); it is empty when start >= end.
func (s *Schedule) window(n *near, d int64) (start, end int64) {
	return s.resolveNear(n, d*secondsPerDay+s.startSec), s.resolveNear(n, (d+s.spanDays)*secondsPerDay+s.endSec)
}

// firstDay returns the first day whose repetition could cover an instant
// of civil day day. A repetition of day d starts on the wall clock of day d
// and ends on day d+spanDays; a spring-forward gap moves either instant
// later, by no more than a day, so its civil day is at most one more.
func (s *Schedule) firstDay(day int64) int64 {
	return max(day-s.spanDays-1, s.startDay+1)
}

// Active reports whether t falls inside a window of the profile. It does
// no allocation and looks at no more than MaxRepeatWindowDays+2 days.
func (s *Schedule) Active(t time.Time) bool {
	u := t.Unix()
	if u >= s.from && u < s.to {
		return true
	}
	if !s.repeat {
		return false
	}
	n, day := s.nearAt(u)
	for d := s.firstDay(day); d <= day; d++ {
		// The window first: it is cheaper than the rule.
		if start, end := s.window(&n, d); start <= u && u < end && s.matches(d) {
			return true
		}
	}
	return false
}

// matches reports whether an occurrence starts on day d.
func (s *Schedule) matches(d int64) bool {
	if d < s.startDay || d > s.untilDay {
		return false
	}
	if d == s.startDay {
		return true
	}
	switch s.kind {
	case PointDay:
		return floorMod(d-s.startDay, s.interval) == 0
	case PointWeek:
		return s.weekMask&(1<<weekdayOf(d)) != 0 && floorMod(weekOf(d)-weekOf(s.startDay), s.interval) == 0
	}
	y, m, dom := civilFromDays(d)
	if s.kind == PointMonth {
		if floorMod(y*12+m-1-s.startMonth, s.interval) != 0 {
			return false
		}
	} else if floorMod(y-s.startYear, s.interval) != 0 || s.monthMsk&(1<<m) == 0 {
		return false
	}
	return s.dayOfMonthMatches(d, y, m, dom)
}

// dayOfMonthMatches applies the day-of-month part of a month or year rule.
func (s *Schedule) dayOfMonthMatches(d, y, m, dom int64) bool {
	if s.dayMask != 0 {
		return s.dayMask&(1<<dom) != 0
	}
	if s.ordMask&(1<<weekdayOf(d)) == 0 {
		return false
	}
	// Count the days of this kind from the start (or to the end) of the month.
	if s.ordinal > 0 {
		return s.countKind(d-dom+1, d) == s.ordinal
	}
	return s.countKind(d, d-dom+daysInMonth(y, m)) == 1
}

// countKind counts the days in [a, b] whose weekday is of the ordinal's kind.
func (s *Schedule) countKind(a, b int64) int64 {
	weeks := (b - a + 1) / 7
	n := weeks * int64(bitsSet(s.ordMask))
	for x := a + weeks*7; x <= b; x++ {
		if s.ordMask&(1<<weekdayOf(x)) != 0 {
			n++
		}
	}
	return n
}

func bitsSet(m uint8) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// Search bounds of nextMatch, in periods of the rule: 400 years cover
// every arrangement of the Gregorian calendar.
const (
	maxYearPeriods  = 400
	maxMonthPeriods = 400 * 12
	maxWeekPeriods  = 2
)

// nextMatch returns the first day >= from, and <= limit, on which an
// occurrence starts. It steps whole periods of the rule (days, weeks,
// months, years) and gives up after the bounds above.
func (s *Schedule) nextMatch(from, limit int64) (int64, bool) {
	from = max(from, s.startDay)
	limit = min(limit, s.untilDay)
	if from > limit {
		return 0, false
	}
	if s.matches(from) {
		return from, true
	}
	// first is from's period (or the next one of the rule); step(p) gives
	// the first and last day of the p-th period of the rule after it.
	var first, periods int64
	var step func(p int64) (lo, hi int64)
	switch s.kind {
	case PointDay:
		d := s.startDay + (floorDiv(from-s.startDay-1, s.interval)+1)*s.interval
		if d > limit {
			return 0, false
		}
		return d, true
	case PointWeek:
		w0 := weekOf(s.startDay)
		w := w0 + floorDiv(weekOf(from)-w0+s.interval-1, s.interval)*s.interval
		first, periods = w, maxWeekPeriods
		step = func(p int64) (int64, int64) {
			lo := (first+p*s.interval)*7 - 3
			return lo, lo + 6
		}
	case PointMonth:
		y0, m0, _ := civilFromDays(s.startDay)
		y, m, _ := civilFromDays(from)
		i0 := y0*12 + m0 - 1
		i := i0 + floorDiv(y*12+m-1-i0+s.interval-1, s.interval)*s.interval
		first, periods = i, maxMonthPeriods
		step = func(p int64) (int64, int64) {
			mi := first + p*s.interval
			yy, mm := floorDiv(mi, 12), floorMod(mi, 12)+1
			lo := daysFromCivil(yy, mm, 1)
			return lo, lo + daysInMonth(yy, mm) - 1
		}
	case PointYear:
		y0, _, _ := civilFromDays(s.startDay)
		y, _, _ := civilFromDays(from)
		first = y0 + floorDiv(y-y0+s.interval-1, s.interval)*s.interval
		periods = maxYearPeriods
		step = func(p int64) (int64, int64) {
			yy := first + p*s.interval
			return daysFromCivil(yy, 1, 1), daysFromCivil(yy, 12, 31)
		}
	}
	for p := int64(0); p < periods; p++ {
		lo, hi := step(p)
		if lo > limit {
			return 0, false
		}
		for d := max(lo, from); d <= min(hi, limit); d++ {
			if s.matches(d) {
				return d, true
			}
		}
	}
	return 0, false
}

// maxRunDays bounds how far NextChange follows windows that touch or
// overlap one another (a profile active all day, every day, never changes).
const maxRunDays = 2 * 366

// maxEmptySkips bounds how many empty repetitions (see Compile) NextChange
// steps over while looking for the next window: a rule can select only days
// whose window a spring-forward gap empties.
const maxEmptySkips = 1000

// NextChange returns the first instant after t at which Active changes its
// answer, and false when there is none: the profile has ended, it never
// changes again (always active), or the change lies beyond the search
// horizon (400 years of the rule's periods from one repetition to the
// next; maxRunDays of continuous activity; maxEmptySkips empty
// repetitions). The answer is truncated to whole seconds. It does no
// allocation.
//
// It relies on one property of the wall-clock reading of Compile's doc: the
// later a repetition's day, the later (or the same) its start instant, since
// a gap or an overlap moves a wall-clock time by no more than a day.
func (s *Schedule) NextChange(t time.Time) (time.Time, bool) {
	u := t.Unix()
	at := func(x int64) (time.Time, bool) { return time.Unix(x, 0).In(s.loc), true }
	if !s.repeat {
		switch {
		case u < s.from:
			return at(s.from)
		case u < s.to:
			return at(s.to)
		}
		return time.Time{}, false
	}
	n, day := s.nearAt(u)
	if !s.Active(t) {
		// The first window that starts after u: date_from's, or the first
		// non-empty repetition in day order.
		next, found := s.from, u < s.from
		skips := 0
		for d := s.firstDay(day); skips < maxEmptySkips; d++ {
			var ok bool
			if d, ok = s.nextMatch(d, math.MaxInt64); !ok {
				break
			}
			start, end := s.window(&n, d)
			if start <= u {
				continue // ended before u, or empty
			}
			if start < end {
				if !found || start < next {
					next, found = start, true
				}
				break
			}
			skips++
		}
		if !found {
			return time.Time{}, false
		}
		return at(next)
	}
	// Active: follow the run of windows that cover u, touch or overlap, in
	// the order of their starts, to its end.
	end := u
	if s.from <= u && u < s.to {
		end = s.to
	}
	for d := s.firstDay(day); ; d++ {
		next, ok := s.nextMatch(d, math.MaxInt64)
		if !ok {
			break
		}
		d = next
		start, e := s.window(&n, next)
		if start > end {
			break // and so do all later windows
		}
		if start >= e {
			continue // empty
		}
		if next > day+maxRunDays {
			return time.Time{}, false
		}
		end = max(end, e)
	}
	return at(end)
}

// RRule returns the rrule-go rules whose occurrences are the days and
// wall-clock starts of the profile's repetitions, those after date_from's
// day: the equivalent of the compiled rule in rrule-go's terms; nil for a
// profile that does not repeat. It is one rule, except for a year form
// whose day is WEEK_DAY or DAY_OFF, which takes one rule per listed month,
// because BYSETPOS counts within a rule's whole period (a year) and an
// rrule-go Set holds a single rule.
//
// RRule is a view for comparing with rrule-go or exporting the profile, not
// part of the decision: Compile builds no rrule-go value, and Active and
// NextChange never use one. Each call builds new rules, which the caller
// owns.
//
// The rules' times are wall-clock times of the schedule's zone labelled UTC
// ("floating" times, RFC 5545 3.3.5), so that daylight saving changes do not
// disturb rrule-go's arithmetic; an occurrence means the instant that
// Compile's doc gives its wall-clock reading (a time in a spring-forward gap
// takes the offset before the gap, a repeated time its first pass), and its
// window ends the window's wall-clock length later, read the same way.
// date_from's own window, [date_from, date_to) as instants, is not an
// occurrence of the rules: it is the rules' DTSTART, which rrule-go yields
// only when the rule selects its day, at its wall-clock reading, which
// differs from date_from when date_from lies in the second pass of a
// repeated hour.
func (s *Schedule) RRule() []*rrule.RRule {
	if !s.repeat {
		return nil
	}
	rules, err := s.buildRRule()
	if err != nil {
		// Compile guarantees options within rrule-go's bounds: days of the
		// month 1..31, months 1..12, ordinals 1..5 or -1, an interval >= 1;
		// a month or year rule with no day never repeats and is refused.
		panic(fmt.Sprintf("timeprofile: a compiled schedule's rule is out of rrule-go's bounds: %v", err))
	}
	return rules
}

var rruleWeekdays = [7]rrule.Weekday{rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU}

func maskDays(mask uint8) []rrule.Weekday {
	var out []rrule.Weekday
	for i, w := range rruleWeekdays {
		if mask&(1<<i) != 0 {
			out = append(out, w)
		}
	}
	return out
}

func bits[T uint16 | uint32](mask T, lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		if mask&(1<<i) != 0 {
			out = append(out, i)
		}
	}
	return out
}

func (s *Schedule) buildRRule() ([]*rrule.RRule, error) {
	dtstart := time.Unix(s.startDay*secondsPerDay+s.startSec, 0).UTC()
	base := rrule.ROption{Dtstart: dtstart, Interval: int(s.interval), Wkst: rrule.MO}
	if s.untilDay != math.MaxInt64 {
		base.Until = time.Unix(s.untilDay*secondsPerDay+secondsPerDay-1, 0).UTC()
	}
	var opts []rrule.ROption
	switch s.kind {
	case PointDay:
		base.Freq = rrule.DAILY
		opts = append(opts, base)
	case PointWeek:
		base.Freq = rrule.WEEKLY
		base.Byweekday = maskDays(s.weekMask)
		opts = append(opts, base)
	case PointMonth:
		base.Freq = rrule.MONTHLY
		opts = append(opts, s.withDays(base))
	case PointYear:
		base.Freq = rrule.YEARLY
		months := bits(s.monthMsk, 1, 12)
		if s.dayMask != 0 || len(maskDays(s.ordMask)) == 1 {
			base.Bymonth = months
			opts = append(opts, s.withDays(base))
			break
		}
		for _, m := range months { // BYSETPOS must count within one month
			o := base
			o.Bymonth = []int{m}
			opts = append(opts, s.withDays(o))
		}
	}
	rules := make([]*rrule.RRule, 0, len(opts))
	for _, o := range opts {
		r, err := rrule.NewRRule(o)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// withDays adds the day-of-month part of a month or year rule.
func (s *Schedule) withDays(o rrule.ROption) rrule.ROption {
	if s.dayMask != 0 {
		o.Bymonthday = bits(s.dayMask, 1, 31)
		return o
	}
	days := maskDays(s.ordMask)
	if len(days) == 1 {
		o.Byweekday = []rrule.Weekday{days[0].Nth(int(s.ordinal))}
		return o
	}
	o.Byweekday = days
	o.Bysetpos = []int{int(s.ordinal)}
	return o
}
