package device

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lintelhq/lintel/store"
)

// Limits of holiday lists.
const (
	// MaxHolidays is the most dates one list may hold.
	MaxHolidays = 365
	// MinHolidayYear is the earliest year a dated holiday may have.
	MinHolidayYear = 1970
)

// Holiday is one date of the holiday list: a day of every year (Year 0)
// or of one year.
type Holiday struct {
	Day   int
	Month time.Month
	Year  int // 0: every year
}

// String returns the date as 2N writes it: DD/MM or DD/MM/YYYY.
func (h Holiday) String() string {
	if h.Year == 0 {
		return fmt.Sprintf("%02d/%02d", h.Day, int(h.Month))
	}
	return fmt.Sprintf("%02d/%02d/%04d", h.Day, int(h.Month), h.Year)
}

// DateError is a holiday date that is not valid. It matches
// ErrInvalidDate (errors.Is).
type DateError struct {
	Index  int    // the date's position in the list, -1 when there is none
	Date   string // the date as given
	Reason string
}

func (e *DateError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("device: invalid holiday date %q: %s", e.Date, e.Reason)
	}
	return fmt.Sprintf("device: invalid holiday date dates[%d] %q: %s", e.Index, e.Date, e.Reason)
}

// Unwrap returns ErrInvalidDate.
func (e *DateError) Unwrap() error { return ErrInvalidDate }

// ParseHoliday reads a date written DD/MM (every year) or DD/MM/YYYY:
// digits only, two for the day and the month and four for the year (from
// MinHolidayYear), and a day that the month has: 29/02 is accepted
// without a year, and with one only in a leap year. An invalid date is a
// *DateError (Index -1).
func ParseHoliday(s string) (Holiday, error) {
	h, reason := parseHoliday(s)
	if reason != "" {
		return Holiday{}, &DateError{Index: -1, Date: s, Reason: reason}
	}
	return h, nil
}

func parseHoliday(s string) (Holiday, string) {
	const form = "not DD/MM or DD/MM/YYYY"
	if (len(s) != 5 && len(s) != 10) || s[2] != '/' || (len(s) == 10 && s[5] != '/') {
		return Holiday{}, form
	}
	day, ok1 := digits(s[0:2])
	month, ok2 := digits(s[3:5])
	year, ok3 := 0, true
	if len(s) == 10 {
		year, ok3 = digits(s[6:10])
	}
	if !ok1 || !ok2 || !ok3 {
		return Holiday{}, form
	}
	if month < 1 || month > 12 {
		return Holiday{}, fmt.Sprintf("month %02d is not 1 to 12", month)
	}
	if len(s) == 10 && year < MinHolidayYear {
		return Holiday{}, fmt.Sprintf("year %04d is before %d", year, MinHolidayYear)
	}
	h := Holiday{Day: day, Month: time.Month(month), Year: year}
	if n := daysIn(h.Month, year); day < 1 || day > n {
		in := h.Month.String()
		if year != 0 {
			in += fmt.Sprintf(" %d", year)
		}
		return Holiday{}, fmt.Sprintf("day %02d is not in %s (1 to %d)", day, in, n)
	}
	return h, ""
}

// digits reads a string of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// daysIn returns the days of month in year; year 0 (every year) gives
// February 29.
func daysIn(month time.Month, year int) int {
	if year == 0 {
		year = 2000 // a leap year
	}
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// HolidayList is the result of GET /api/config/holidays, and the shape of
// the blob-json of its PUT.
type HolidayList struct {
	Dates []string `json:"dates"`
}

// Holidays returns the holiday list, as stored: in the order it was given,
// each date once. It also refreshes the snapshot IsHoliday answers from.
func (d *Device) Holidays(ctx context.Context) (HolidayList, error) {
	h, err := d.loadHolidays(ctx)
	if err != nil {
		return HolidayList{}, err
	}
	return HolidayList{Dates: slices.Clone(h.dates)}, nil
}

// SetHolidays replaces the holiday list with dates (an empty list clears
// it). Every date is checked first: the first invalid one is a *DateError
// (matching ErrInvalidDate) that says which, more than MaxHolidays dates
// are ErrTooManyDates, and either way nothing is written. A date listed
// twice is kept once, where it first appears.
func (d *Device) SetHolidays(ctx context.Context, dates []string) error {
	if len(dates) > MaxHolidays {
		return fmt.Errorf("%w: %d dates, at most %d", ErrTooManyDates, len(dates), MaxHolidays)
	}
	list := make([]string, 0, len(dates))
	for i, s := range dates {
		if _, reason := parseHoliday(s); reason != "" {
			return &DateError{Index: i, Date: s, Reason: reason}
		}
		if !slices.Contains(list, s) { // valid dates have one spelling
			list = append(list, s)
		}
	}
	var gen uint64
	err := d.st.Update(ctx, func(tx store.Tx) error {
		g, err := store.GetUint64(tx, bucketMeta, keyHolidaysGen)
		if err != nil {
			return err
		}
		gen = g + 1
		if err := tx.Put(bucketHolidays, keyDates, []byte(strings.Join(list, ","))); err != nil {
			return err
		}
		return store.PutUint64(tx, bucketMeta, keyHolidaysGen, gen)
	})
	if err != nil {
		return err
	}
	d.publish(newHolidaySet(gen, list))
	d.log.Debug("holidays set", "dates", len(list))
	return nil
}

// Refresh reads the holiday list again if it changed in the store (by
// another Device on the same store) since IsHoliday's snapshot was taken.
// It costs one read transaction, and decoding the list when it changed.
func (d *Device) Refresh(ctx context.Context) error {
	_, err := d.loadHolidays(ctx)
	return err
}

// IsHoliday reports whether t, read in the device's location
// (WithLocation), falls on a holiday. It answers from a snapshot of the
// list, without a transaction: the list as this Device last wrote or read
// it (SetHolidays, Holidays, Refresh, Open). A change made through another
// Device on the same store is seen after this one's next Holidays or
// Refresh call; a program with several servers calls Refresh from a ticker.
func (d *Device) IsHoliday(t time.Time) bool {
	y, m, day := t.In(d.loc).Date()
	return d.holidays.Load().contains(y, m, day)
}

// loadHolidays reads the list in a transaction, decoding it only when its
// generation differs from the snapshot's, and publishes it.
func (d *Device) loadHolidays(ctx context.Context) (*holidaySet, error) {
	var h *holidaySet
	err := d.st.View(ctx, func(tx store.Tx) error {
		gen, err := store.GetUint64(tx, bucketMeta, keyHolidaysGen)
		if err != nil {
			return err
		}
		if cur := d.holidays.Load(); cur != nil && cur.gen == gen {
			h = cur
			return nil
		}
		raw, err := tx.Get(bucketHolidays, keyDates)
		switch {
		case errors.Is(err, store.ErrNotFound):
			h = newHolidaySet(gen, nil)
			return nil
		case err != nil:
			return err
		}
		var list []string
		if len(raw) > 0 {
			list = strings.Split(string(raw), ",")
		}
		for _, s := range list {
			if _, reason := parseHoliday(s); reason != "" {
				return fmt.Errorf("%w: holiday %q: %s", ErrCorrupt, s, reason)
			}
		}
		h = newHolidaySet(gen, list)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.publish(h)
	return h, nil
}

// publish makes h the snapshot unless a newer one is there already.
func (d *Device) publish(h *holidaySet) {
	for {
		cur := d.holidays.Load()
		if cur != nil && cur.gen >= h.gen {
			return
		}
		if d.holidays.CompareAndSwap(cur, h) {
			return
		}
	}
}

// holidaySet is a holiday list ready to answer IsHoliday: a bit per day of
// every month for the yearly dates, and the dated ones sorted.
type holidaySet struct {
	gen    uint64 // the list's generation in the store
	dates  []string
	yearly [13]uint32 // bit d of yearly[m]: d/m is a holiday every year
	dated  []uint32   // datedKey of each dated holiday, sorted
}

func datedKey(year int, month time.Month, day int) uint32 {
	return uint32(year)<<9 | uint32(month)<<5 | uint32(day)
}

// newHolidaySet builds the set of valid dates.
func newHolidaySet(gen uint64, dates []string) *holidaySet {
	h := &holidaySet{gen: gen, dates: dates}
	if h.dates == nil {
		h.dates = []string{}
	}
	for _, s := range dates {
		d, _ := parseHoliday(s)
		if d.Year == 0 {
			h.yearly[d.Month] |= 1 << d.Day
		} else {
			h.dated = append(h.dated, datedKey(d.Year, d.Month, d.Day))
		}
	}
	slices.Sort(h.dated)
	return h
}

func (h *holidaySet) contains(year int, month time.Month, day int) bool {
	if h.yearly[month]&(1<<day) != 0 {
		return true
	}
	if len(h.dated) == 0 || year < MinHolidayYear || year > 9999 {
		return false
	}
	_, ok := slices.BinarySearch(h.dated, datedKey(year, month, day))
	return ok
}
