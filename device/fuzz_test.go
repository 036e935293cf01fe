package device_test

import (
	"errors"
	"testing"
	"time"

	"github.com/lintelhq/lintel/device"
)

// FuzzParseHoliday holds ParseHoliday to a reference made of time.Parse
// (which checks digits, ranges and the days of each month): both accept
// the same strings, an accepted date prints as it was written and parses
// back the same, and a refused one is a *DateError that quotes it. Seeds
// are in testdata/fuzz/FuzzParseHoliday.
func FuzzParseHoliday(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		h, err := device.ParseHoliday(s)
		if want := referenceAccepts(s); (err == nil) != want {
			t.Fatalf("ParseHoliday(%q) = %v, %v; the reference accepts: %v", s, h, err, want)
		}
		if err != nil {
			var de *device.DateError
			if !errors.As(err, &de) || !errors.Is(err, device.ErrInvalidDate) || de.Date != s || de.Index != -1 || de.Reason == "" {
				t.Fatalf("ParseHoliday(%q): error %#v", s, err)
			}
			return
		}
		if h.String() != s {
			t.Fatalf("ParseHoliday(%q) prints as %q", s, h.String())
		}
		if again, err := device.ParseHoliday(h.String()); err != nil || again != h {
			t.Fatalf("ParseHoliday(%q) = %v, parsed back as %v, %v", s, h, again, err)
		}
		if h.Year != 0 && h.Year < device.MinHolidayYear || h.Month < time.January || h.Month > time.December || h.Day < 1 || h.Day > 31 {
			t.Fatalf("ParseHoliday(%q) = %+v", s, h)
		}
	})
}

// referenceAccepts says whether s is DD/MM (a day of some year) or
// DD/MM/YYYY from 1970, by time.Parse.
func referenceAccepts(s string) bool {
	switch len(s) {
	case 5:
		_, err := time.Parse("02/01/2006", s+"/2000") // a leap year
		return err == nil
	case 10:
		t, err := time.Parse("02/01/2006", s)
		return err == nil && t.Year() >= device.MinHolidayYear
	}
	return false
}
