package timeprofile

import (
	"slices"

	"github.com/google/uuid"
)

// Message is a validation error whose text is exactly what the panel's API
// answers (in a 400 body {"error": text}). Compare with errors.Is against
// the constants below.
type Message string

// Error returns the message as the API spells it.
func (m Message) Error() string { return string(m) }

// The vendor's validation messages, spelled as the panel spells them. Each
// comment names the rule the message guards.
const (
	// ErrWrongRepeatType: repeat_type is none of day, week, twoWeeks,
	// month, year, custom.
	ErrWrongRepeatType Message = "Wrong repeat_type"
	// ErrWrongFormat: repeat_end.format is neither never nor date, or the
	// month form's format is neither dayNumbers nor parameterizedDay (or is
	// missing).
	ErrWrongFormat Message = "Wrong format enum name"
	// ErrWrongPointType: repeat_point_type is none of day, week, month,
	// year, or repeat_custom is missing with repeat_type custom.
	ErrWrongPointType Message = "Wrong repeat_point_type enum name"
	// ErrWrongOptionsEnum: a weekday, week_order or day_type is not one of
	// its names, or repeat_options has a shape that does not belong to the
	// repeat_point_type (options on a day unit, a list on a month unit).
	ErrWrongOptionsEnum Message = "Wrong repeat_options enum name"
	// ErrWrongLooperRange: repeat_looper is outside 1..1000.
	ErrWrongLooperRange Message = "Wrong repeat_looper range"
	// ErrEmptyWeekOptions: the week form's weekday list is empty or absent.
	ErrEmptyWeekOptions Message = "Set in WeekOptions can't be empty"
	// ErrWrongYearRange: the year form's range is missing, so no day of
	// the listed months is chosen.
	ErrWrongYearRange Message = "Wrong year range"
	// ErrEmptyYearOptions: the year form's months list is empty, or the
	// year form is absent for a year unit.
	ErrEmptyYearOptions Message = "Set in YearOptions can't be empty"
	// ErrWrongDayOfMonth: a dayNumbers entry is outside 1..31.
	ErrWrongDayOfMonth Message = "Wrong DayOfMonth range"
	// ErrWrongMonthsRange: a months entry is outside 1..12.
	ErrWrongMonthsRange Message = "Wrong months range"
	// ErrEmptyDayNumbers: the dayNumbers list is empty, or the
	// parameterizedDay form has no range.
	ErrEmptyDayNumbers Message = "Set in dayNumbers can't be empty"
	// ErrWrongUID: a time profile's uid (its link_id) is not a UUID; see
	// CheckUID.
	ErrWrongUID Message = "Wrong Time Profile Uid"
)

// Our own rules, beyond the vendor's messages: each makes evaluation
// meaningless or unbounded, so such a profile is refused too.
const (
	// ErrDateOrder: date_to is not after date_from, as instants (for
	// all-day profiles: date_to falls on a day before date_from's).
	ErrDateOrder Message = "time_options.date_to must be after date_from"
	// ErrDateRange: a date is outside 1970-01-01..2199-12-31.
	ErrDateRange Message = "date out of range: must be unix seconds between 1970 and 2199"
	// ErrEndDateMissing: repeat_end.format is date and repeat_end.date is
	// missing (0).
	ErrEndDateMissing Message = "repeat_end.date is required when repeat_end.format is date"
	// ErrEndBeforeStart: repeat_end.date falls on a day before date_from.
	ErrEndBeforeStart Message = "repeat_end.date is before date_from"
	// ErrWindowTooLong: a repeating profile's window is longer than
	// MaxRepeatWindowDays days.
	ErrWindowTooLong Message = "time window of a repeating profile is longer than 31 days"
	// ErrNeverRepeats: the repeat options never match a date after
	// date_from's day within the search horizon (for example day 31 of
	// every twelfth month, starting in a February), whatever repeat_end
	// says. Options that do match, but only after repeat_end's day, are
	// accepted: such a profile is its first window alone.
	ErrNeverRepeats Message = "repeat options never match a date"
)

// MaxRepeatWindowDays bounds the length of a repeating profile's window, so
// that Active looks at no more than this many earlier days.
const MaxRepeatWindowDays = 31

// Date bounds: unix seconds of 1970-01-01 and of 2200-01-01 (exclusive).
const (
	minDate = 0
	maxDate = 7258118400
)

// CheckUID returns ErrWrongUID unless s is a UUID in its canonical
// 8-4-4-4-12 hexadecimal form (either case). The panel API calls a time
// profile's link_id its uid.
func CheckUID(s string) error {
	if len(s) != 36 {
		return ErrWrongUID
	}
	if _, err := uuid.Parse(s); err != nil {
		return ErrWrongUID
	}
	return nil
}

// Validate checks the profile and returns the first rule it breaks: one of
// the vendor's messages (ErrWrongRepeatType ...) or one of ours
// (ErrDateOrder ...). The name is not checked here: whether it is required
// is the caller's schema. The repeat format is checked only when
// repeat_enable is true, since the panel ignores it otherwise.
//
// Validate does not know the panel's zone; Compile repeats the checks that
// depend on it (ErrEndBeforeStart, ErrNeverRepeats) with the zone.
func (p *Profile) Validate() error {
	to := p.TimeOptions
	for _, d := range []int64{to.DateFrom, to.DateTo} {
		if d < minDate || d >= maxDate {
			return ErrDateRange
		}
	}
	if to.IsAllDay {
		if to.DateTo < to.DateFrom-secondsPerDay { // compared again by day in Compile
			return ErrDateOrder
		}
	} else if to.DateTo <= to.DateFrom {
		return ErrDateOrder
	}
	if !p.RepeatOptions.RepeatEnable {
		return nil
	}
	f := p.RepeatOptions.RepeatFormat
	switch f.RepeatType {
	case RepeatDay, RepeatWeek, RepeatTwoWeeks, RepeatMonth, RepeatYear:
	case RepeatCustomType:
		if err := f.RepeatCustom.validate(); err != nil {
			return err
		}
	default:
		return ErrWrongRepeatType
	}
	switch f.RepeatEnd.Format {
	case EndNever:
	case EndDate:
		if f.RepeatEnd.Date == 0 {
			return ErrEndDateMissing
		}
		if f.RepeatEnd.Date < minDate || f.RepeatEnd.Date >= maxDate {
			return ErrDateRange
		}
	default:
		return ErrWrongFormat
	}
	return nil
}

func (c *RepeatCustom) validate() error {
	if c == nil {
		return ErrWrongPointType
	}
	o := c.RepeatOptions
	switch c.RepeatPointType {
	case PointDay, PointWeek, PointMonth, PointYear:
	default:
		return ErrWrongPointType
	}
	if c.RepeatLooper < 1 || c.RepeatLooper > 1000 {
		return ErrWrongLooperRange
	}
	switch c.RepeatPointType {
	case PointDay:
		if o.Weekdays != nil || o.Month != nil || o.Year != nil {
			return ErrWrongOptionsEnum
		}
	case PointWeek:
		if o.Month != nil || o.Year != nil {
			return ErrWrongOptionsEnum
		}
		if len(o.Weekdays) == 0 {
			return ErrEmptyWeekOptions
		}
		for _, d := range o.Weekdays {
			if _, ok := weekdayIndex(d); !ok {
				return ErrWrongOptionsEnum
			}
		}
	case PointMonth:
		if o.Weekdays != nil || o.Year != nil {
			return ErrWrongOptionsEnum
		}
		return o.Month.validate()
	case PointYear:
		if o.Weekdays != nil || o.Month != nil {
			return ErrWrongOptionsEnum
		}
		return o.Year.validate()
	}
	return nil
}

func (m *MonthOptions) validate() error {
	if m == nil {
		return ErrWrongFormat
	}
	switch m.Format {
	case DayNumbers:
		if m.Day != nil {
			return ErrWrongOptionsEnum
		}
		if len(m.DayNumbers) == 0 {
			return ErrEmptyDayNumbers
		}
		if slices.ContainsFunc(m.DayNumbers, func(d int) bool { return d < 1 || d > 31 }) {
			return ErrWrongDayOfMonth
		}
	case ParameterizedDay:
		if m.DayNumbers != nil {
			return ErrWrongOptionsEnum
		}
		if m.Day == nil {
			return ErrEmptyDayNumbers
		}
		return m.Day.validate()
	default:
		return ErrWrongFormat
	}
	return nil
}

func (y *YearOptions) validate() error {
	if y == nil || len(y.Months) == 0 {
		return ErrEmptyYearOptions
	}
	if slices.ContainsFunc(y.Months, func(m int) bool { return m < 1 || m > 12 }) {
		return ErrWrongMonthsRange
	}
	if y.Range == nil {
		return ErrWrongYearRange
	}
	return y.Range.validate()
}

func (d *OrdinalDay) validate() error {
	if _, ok := weekOrderIndex(d.WeekOrder); !ok {
		return ErrWrongOptionsEnum
	}
	if _, ok := dayTypeMask(d.DayType); !ok {
		return ErrWrongOptionsEnum
	}
	return nil
}

// weekdayIndex maps MON..SUN to 0..6 (Monday first, as the panel's week).
func weekdayIndex(d Weekday) (int, bool) {
	i := slices.Index([]Weekday{MON, TUE, WED, THU, FRI, SAT, SUN}, d)
	return i, i >= 0
}

// weekOrderIndex maps first..fifth to 1..5 and last to -1.
func weekOrderIndex(o WeekOrder) (int, bool) {
	switch o {
	case Last:
		return -1, true
	case First, Second, Third, Fourth, Fifth:
		return slices.Index([]WeekOrder{First, Second, Third, Fourth, Fifth}, o) + 1, true
	}
	return 0, false
}

// dayTypeMask maps a day type to the set of weekdays it means (bit i is
// weekday index i).
func dayTypeMask(t DayType) (uint8, bool) {
	switch t {
	case WeekDay:
		return 0b0011111, true
	case DayOff:
		return 0b1100000, true
	}
	if i, ok := weekdayIndex(Weekday(t)); ok {
		return 1 << i, true
	}
	return 0, false
}
