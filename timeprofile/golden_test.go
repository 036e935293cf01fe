package timeprofile_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/timeprofile"
)

// golden is a profile with its windows worked out by hand.
type golden struct {
	name, zone string
	from, to   string // date_from, date_to: wall clock, with an offset where the wall clock is ambiguous
	allDay     bool
	repeat     string // repeat_format as on the wire, without repeat_end; "" does not repeat
	until      string // repeat_end.date; "" is never
	lo, hi     string // the range looked at; Active is false at both
	want       []string
}

const goldenLayout = "2006-01-02 15:04 -0700"

// goldenTime reads "2006-01-02 15:04" in loc, or "2006-01-02 15:04 -0700".
func goldenTime(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	if len(s) > len("2006-01-02 15:04") {
		x, err := time.Parse(goldenLayout, s)
		require.NoError(t, err)
		return x
	}
	x, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	require.NoError(t, err)
	return x
}

func (g golden) profile(t *testing.T, loc *time.Location) timeprofile.Profile {
	p := timeprofile.Profile{Name: g.name, TimeOptions: timeprofile.TimeOptions{
		IsAllDay: g.allDay, DateFrom: goldenTime(t, loc, g.from).Unix(), DateTo: goldenTime(t, loc, g.to).Unix(),
	}}
	if g.repeat == "" {
		return p
	}
	p.RepeatOptions.RepeatEnable = true
	f := &p.RepeatOptions.RepeatFormat
	require.NoError(t, json.Unmarshal([]byte(g.repeat), f))
	f.RepeatEnd = timeprofile.RepeatEnd{Format: timeprofile.EndNever}
	if g.until != "" {
		f.RepeatEnd = timeprofile.RepeatEnd{Format: timeprofile.EndDate, Date: goldenTime(t, loc, g.until).Unix()}
	}
	return p
}

func customJSON(point string, looper int, options string) string {
	return `{"repeat_type":"custom","repeat_custom":{"repeat_point_type":"` + point + `","repeat_looper":` +
		string(must(json.Marshal(looper))) + `,"repeat_options":` + options + `}}`
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ordinalJSON(order, day string) string {
	return `{"format":"parameterizedDay","range":{"week_order":"` + order + `","day_type":"` + day + `"}}`
}

var goldens = []golden{
	// Days of the month that short months lack.
	{name: "month on the 31st skips the months without one", zone: "UTC",
		from: "2026-01-31 08:00", to: "2026-01-31 09:00", repeat: `{"repeat_type":"month"}`,
		lo: "2026-01-30 00:00", hi: "2026-08-01 00:00", want: []string{
			"2026-01-31 08:00 +0000 .. 2026-01-31 09:00 +0000",
			"2026-03-31 08:00 +0000 .. 2026-03-31 09:00 +0000",
			"2026-05-31 08:00 +0000 .. 2026-05-31 09:00 +0000",
			"2026-07-31 08:00 +0000 .. 2026-07-31 09:00 +0000",
		}},
	{name: "month on the 30th skips February", zone: "UTC",
		from: "2027-01-30 10:00", to: "2027-01-30 11:00", repeat: `{"repeat_type":"month"}`,
		lo: "2027-01-29 00:00", hi: "2027-04-01 00:00", want: []string{
			"2027-01-30 10:00 +0000 .. 2027-01-30 11:00 +0000",
			"2027-03-30 10:00 +0000 .. 2027-03-30 11:00 +0000",
		}},
	{name: "days 29, 30, 31 in a common February", zone: "UTC",
		from: "2027-01-29 10:00", to: "2027-01-29 11:00", repeat: customJSON("month", 1, `{"format":"dayNumbers","range":[29,30,31]}`),
		lo: "2027-01-28 00:00", hi: "2027-03-29 00:00", want: []string{
			"2027-01-29 10:00 +0000 .. 2027-01-29 11:00 +0000",
			"2027-01-30 10:00 +0000 .. 2027-01-30 11:00 +0000",
			"2027-01-31 10:00 +0000 .. 2027-01-31 11:00 +0000",
		}},
	{name: "days 29, 30, 31 in a leap February", zone: "UTC",
		from: "2028-01-30 10:00", to: "2028-01-30 11:00", repeat: customJSON("month", 1, `{"format":"dayNumbers","range":[29,30,31]}`),
		lo: "2028-01-30 12:00", hi: "2028-03-29 00:00", want: []string{
			"2028-01-31 10:00 +0000 .. 2028-01-31 11:00 +0000",
			"2028-02-29 10:00 +0000 .. 2028-02-29 11:00 +0000",
		}},
	{name: "the 31st of every second month", zone: "UTC",
		from: "2026-01-31 10:00", to: "2026-01-31 11:00", repeat: customJSON("month", 2, `{"format":"dayNumbers","range":[31]}`),
		lo: "2026-01-30 00:00", hi: "2027-02-01 00:00", want: []string{
			"2026-01-31 10:00 +0000 .. 2026-01-31 11:00 +0000",
			"2026-03-31 10:00 +0000 .. 2026-03-31 11:00 +0000",
			"2026-05-31 10:00 +0000 .. 2026-05-31 11:00 +0000",
			"2026-07-31 10:00 +0000 .. 2026-07-31 11:00 +0000",
			// September and November have no 31st.
			"2027-01-31 10:00 +0000 .. 2027-01-31 11:00 +0000",
		}},

	// 29 February in the year forms.
	{name: "year from 29 February: leap years only", zone: "UTC",
		from: "2024-02-29 09:00", to: "2024-02-29 17:00", repeat: `{"repeat_type":"year"}`,
		lo: "2024-03-01 00:00", hi: "2032-03-01 00:00", want: []string{
			"2028-02-29 09:00 +0000 .. 2028-02-29 17:00 +0000",
			"2032-02-29 09:00 +0000 .. 2032-02-29 17:00 +0000",
		}},
	{name: "fifth Thursday of February: 29 February when February starts on a Thursday", zone: "UTC",
		from: "2024-02-29 09:00", to: "2024-02-29 17:00", repeat: customJSON("year", 1, `{"months":[2],"range":{"week_order":"fifth","day_type":"THU"}}`),
		lo: "2024-03-01 00:00", hi: "2053-01-01 00:00", want: []string{
			"2052-02-29 09:00 +0000 .. 2052-02-29 17:00 +0000",
		}},

	// Weeks run Monday to Sunday; parity counts from date_from's week.
	{name: "twoWeeks from a Wednesday", zone: "UTC",
		from: "2026-01-07 08:00", to: "2026-01-07 09:00", repeat: `{"repeat_type":"twoWeeks"}`,
		lo: "2026-01-06 00:00", hi: "2026-02-12 00:00", want: []string{
			"2026-01-07 08:00 +0000 .. 2026-01-07 09:00 +0000",
			"2026-01-21 08:00 +0000 .. 2026-01-21 09:00 +0000",
			"2026-02-04 08:00 +0000 .. 2026-02-04 09:00 +0000",
		}},
	{name: "every second week on MON and FRI, from a Wednesday", zone: "UTC",
		from: "2026-01-07 08:00", to: "2026-01-07 09:00", repeat: customJSON("week", 2, `["MON","FRI"]`),
		lo: "2026-01-06 00:00", hi: "2026-02-07 00:00", want: []string{
			"2026-01-07 08:00 +0000 .. 2026-01-07 09:00 +0000",
			"2026-01-09 08:00 +0000 .. 2026-01-09 09:00 +0000",
			"2026-01-19 08:00 +0000 .. 2026-01-19 09:00 +0000",
			"2026-01-23 08:00 +0000 .. 2026-01-23 09:00 +0000",
			"2026-02-02 08:00 +0000 .. 2026-02-02 09:00 +0000",
			"2026-02-06 08:00 +0000 .. 2026-02-06 09:00 +0000",
		}},
	{name: "every second week on SUN and MON, from a Sunday: Sunday ends its week", zone: "UTC",
		from: "2026-01-11 08:00", to: "2026-01-11 09:00", repeat: customJSON("week", 2, `["SUN","MON"]`),
		lo: "2026-01-10 00:00", hi: "2026-02-10 00:00", want: []string{
			"2026-01-11 08:00 +0000 .. 2026-01-11 09:00 +0000",
			"2026-01-19 08:00 +0000 .. 2026-01-19 09:00 +0000",
			"2026-01-25 08:00 +0000 .. 2026-01-25 09:00 +0000",
			"2026-02-02 08:00 +0000 .. 2026-02-02 09:00 +0000",
			"2026-02-08 08:00 +0000 .. 2026-02-08 09:00 +0000",
		}},

	// last and fifth, of a weekday, WEEK_DAY and DAY_OFF.
	{name: "last WEEK_DAY", zone: "UTC",
		from: "2026-01-01 08:00", to: "2026-01-01 09:00", repeat: customJSON("month", 1, ordinalJSON("last", "WEEK_DAY")),
		lo: "2025-12-31 00:00", hi: "2026-06-01 00:00", want: []string{
			"2026-01-01 08:00 +0000 .. 2026-01-01 09:00 +0000", // date_from's own window
			"2026-01-30 08:00 +0000 .. 2026-01-30 09:00 +0000",
			"2026-02-27 08:00 +0000 .. 2026-02-27 09:00 +0000",
			"2026-03-31 08:00 +0000 .. 2026-03-31 09:00 +0000",
			"2026-04-30 08:00 +0000 .. 2026-04-30 09:00 +0000",
			"2026-05-29 08:00 +0000 .. 2026-05-29 09:00 +0000",
		}},
	{name: "fifth WEEK_DAY", zone: "UTC",
		from: "2026-01-01 08:00", to: "2026-01-01 09:00", repeat: customJSON("month", 1, ordinalJSON("fifth", "WEEK_DAY")),
		lo: "2025-12-31 00:00", hi: "2026-04-01 00:00", want: []string{
			"2026-01-01 08:00 +0000 .. 2026-01-01 09:00 +0000",
			"2026-01-07 08:00 +0000 .. 2026-01-07 09:00 +0000",
			"2026-02-06 08:00 +0000 .. 2026-02-06 09:00 +0000",
			"2026-03-06 08:00 +0000 .. 2026-03-06 09:00 +0000",
		}},
	{name: "last DAY_OFF", zone: "UTC",
		from: "2026-01-01 08:00", to: "2026-01-01 09:00", repeat: customJSON("month", 1, ordinalJSON("last", "DAY_OFF")),
		lo: "2025-12-31 00:00", hi: "2026-04-01 00:00", want: []string{
			"2026-01-01 08:00 +0000 .. 2026-01-01 09:00 +0000",
			"2026-01-31 08:00 +0000 .. 2026-01-31 09:00 +0000",
			"2026-02-28 08:00 +0000 .. 2026-02-28 09:00 +0000",
			"2026-03-29 08:00 +0000 .. 2026-03-29 09:00 +0000",
		}},
	{name: "fifth DAY_OFF", zone: "UTC",
		from: "2026-01-01 08:00", to: "2026-01-01 09:00", repeat: customJSON("month", 1, ordinalJSON("fifth", "DAY_OFF")),
		lo: "2025-12-31 00:00", hi: "2026-04-01 00:00", want: []string{
			"2026-01-01 08:00 +0000 .. 2026-01-01 09:00 +0000",
			"2026-01-17 08:00 +0000 .. 2026-01-17 09:00 +0000",
			"2026-02-15 08:00 +0000 .. 2026-02-15 09:00 +0000",
			"2026-03-15 08:00 +0000 .. 2026-03-15 09:00 +0000",
		}},
	{name: "fifth MON: only months with five Mondays", zone: "UTC",
		from: "2026-01-01 08:00", to: "2026-01-01 09:00", repeat: customJSON("month", 1, ordinalJSON("fifth", "MON")),
		lo: "2025-12-31 00:00", hi: "2026-09-01 00:00", want: []string{
			"2026-01-01 08:00 +0000 .. 2026-01-01 09:00 +0000",
			"2026-03-30 08:00 +0000 .. 2026-03-30 09:00 +0000",
			"2026-06-29 08:00 +0000 .. 2026-06-29 09:00 +0000",
			"2026-08-31 08:00 +0000 .. 2026-08-31 09:00 +0000",
		}},
	{name: "fifth DAY_OFF of January and March, every second year", zone: "UTC",
		from: "2026-01-01 08:00", to: "2026-01-01 09:00", repeat: customJSON("year", 2, `{"months":[1,3],"range":{"week_order":"fifth","day_type":"DAY_OFF"}}`),
		lo: "2025-12-31 00:00", hi: "2028-04-01 00:00", want: []string{
			"2026-01-01 08:00 +0000 .. 2026-01-01 09:00 +0000",
			"2026-01-17 08:00 +0000 .. 2026-01-17 09:00 +0000",
			"2026-03-15 08:00 +0000 .. 2026-03-15 09:00 +0000",
			"2028-01-15 08:00 +0000 .. 2028-01-15 09:00 +0000",
			"2028-03-18 08:00 +0000 .. 2028-03-18 09:00 +0000",
		}},
	{name: "last WEEK_DAY of February and November", zone: "UTC",
		from: "2026-01-01 08:00", to: "2026-01-01 09:00", repeat: customJSON("year", 1, `{"months":[2,11],"range":{"week_order":"last","day_type":"WEEK_DAY"}}`),
		lo: "2025-12-31 00:00", hi: "2027-03-01 00:00", want: []string{
			"2026-01-01 08:00 +0000 .. 2026-01-01 09:00 +0000",
			"2026-02-27 08:00 +0000 .. 2026-02-27 09:00 +0000",
			"2026-11-30 08:00 +0000 .. 2026-11-30 09:00 +0000",
			"2027-02-26 08:00 +0000 .. 2027-02-26 09:00 +0000",
		}},

	// repeat_end: its whole day, in the panel's zone.
	{name: "repeat_end's day still starts a window, past midnight", zone: "UTC",
		from: "2026-01-01 22:00", to: "2026-01-02 02:00", repeat: `{"repeat_type":"day"}`, until: "2026-01-03 12:00",
		lo: "2026-01-01 00:00", hi: "2026-01-10 00:00", want: []string{
			"2026-01-01 22:00 +0000 .. 2026-01-02 02:00 +0000",
			"2026-01-02 22:00 +0000 .. 2026-01-03 02:00 +0000",
			"2026-01-03 22:00 +0000 .. 2026-01-04 02:00 +0000",
		}},
	{name: "repeat_end's day is read in the panel's zone", zone: "America/New_York",
		from: "2026-01-01 08:00", to: "2026-01-01 09:00", repeat: `{"repeat_type":"day"}`, until: "2026-01-04 03:00 +0000",
		lo: "2026-01-01 00:00", hi: "2026-01-10 00:00", want: []string{
			"2026-01-01 08:00 -0500 .. 2026-01-01 09:00 -0500",
			"2026-01-02 08:00 -0500 .. 2026-01-02 09:00 -0500",
			"2026-01-03 08:00 -0500 .. 2026-01-03 09:00 -0500",
		}},
	{name: "repeat_end on the rule's last day", zone: "Europe/Berlin",
		from: "2026-01-05 08:00", to: "2026-01-05 09:00", repeat: `{"repeat_type":"week"}`, until: "2026-01-19 23:59",
		lo: "2026-01-01 00:00", hi: "2026-02-01 00:00", want: []string{
			"2026-01-05 08:00 +0100 .. 2026-01-05 09:00 +0100",
			"2026-01-12 08:00 +0100 .. 2026-01-12 09:00 +0100",
			"2026-01-19 08:00 +0100 .. 2026-01-19 09:00 +0100",
		}},

	// All-day profiles across daylight saving changes: a day is 23 or 25 hours.
	{name: "all day, every day, across spring forward: one run", zone: "America/New_York",
		from: "2026-03-07 00:00", to: "2026-03-07 00:00", allDay: true, repeat: `{"repeat_type":"day"}`, until: "2026-03-09 00:00",
		lo: "2026-03-06 12:00", hi: "2026-03-12 00:00", want: []string{
			"2026-03-07 00:00 -0500 .. 2026-03-10 00:00 -0400",
		}},
	{name: "all day Sundays: 23 and 25 hours", zone: "America/New_York",
		from: "2026-03-01 00:00", to: "2026-03-01 00:00", allDay: true, repeat: `{"repeat_type":"week"}`,
		lo: "2026-03-07 12:00", hi: "2026-03-14 12:00", want: []string{
			"2026-03-08 00:00 -0500 .. 2026-03-09 00:00 -0400",
		}},
	{name: "all day Sunday on the fall-back day", zone: "America/New_York",
		from: "2026-03-01 00:00", to: "2026-03-01 00:00", allDay: true, repeat: `{"repeat_type":"week"}`,
		lo: "2026-10-31 12:00", hi: "2026-11-07 12:00", want: []string{
			"2026-11-01 00:00 -0400 .. 2026-11-02 00:00 -0500",
		}},
	{name: "all day on a day that starts at 01:00", zone: "America/Santiago",
		from: "2026-08-30 00:00", to: "2026-08-30 00:00", allDay: true, repeat: `{"repeat_type":"week"}`,
		lo: "2026-09-05 12:00", hi: "2026-09-12 12:00", want: []string{
			"2026-09-06 01:00 -0300 .. 2026-09-07 00:00 -0300",
		}},
	{name: "all day on a day whose last hour repeats", zone: "America/Santiago",
		from: "2026-03-28 00:00", to: "2026-03-28 00:00", allDay: true, repeat: `{"repeat_type":"week"}`,
		lo: "2026-04-03 12:00", hi: "2026-04-10 12:00", want: []string{
			"2026-04-04 00:00 -0300 .. 2026-04-05 00:00 -0400",
		}},
	{name: "all day on a skipped day is empty", zone: "Pacific/Apia",
		from: "2011-12-23 00:00", to: "2011-12-23 00:00", allDay: true, repeat: customJSON("week", 1, `["FRI"]`),
		lo: "2011-12-22 12:00", hi: "2012-01-07 12:00", want: []string{
			"2011-12-23 00:00 -1000 .. 2011-12-24 00:00 -1000",
			"2012-01-06 00:00 +1400 .. 2012-01-07 00:00 +1400",
		}},

	// Class 1: windows that touch or overlap make one run.
	{name: "eight-day window every Friday", zone: "UTC",
		from: "2026-01-02 10:00", to: "2026-01-10 10:00", repeat: customJSON("week", 1, `["FRI"]`), until: "2026-01-16 00:00",
		lo: "2026-01-01 00:00", hi: "2026-02-01 00:00", want: []string{
			"2026-01-02 10:00 +0000 .. 2026-01-24 10:00 +0000",
		}},
	{name: "26-hour window every day", zone: "Australia/Lord_Howe",
		from: "2026-05-04 08:00", to: "2026-05-05 10:00", repeat: `{"repeat_type":"day"}`, until: "2026-05-06 00:00",
		lo: "2026-05-01 00:00", hi: "2026-05-10 00:00", want: []string{
			"2026-05-04 08:00 +1030 .. 2026-05-07 10:00 +1030",
		}},
	{name: "a week-long window that touches the next", zone: "Europe/Berlin",
		from: "2026-03-23 00:00", to: "2026-03-30 00:00", repeat: `{"repeat_type":"week"}`, until: "2026-04-06 00:00",
		lo: "2026-03-20 00:00", hi: "2026-04-20 00:00", want: []string{
			"2026-03-23 00:00 +0100 .. 2026-04-13 00:00 +0200",
		}},

	// Class 2: date_from and date_to are instants, even in a repeated hour.
	{name: "date_from on the second 01:30", zone: "America/New_York",
		from: "2026-11-01 01:30 -0500", to: "2026-11-01 03:00", repeat: `{"repeat_type":"day"}`, until: "2026-11-02 00:00",
		lo: "2026-10-31 12:00", hi: "2026-11-03 00:00", want: []string{
			"2026-11-01 01:30 -0500 .. 2026-11-01 03:00 -0500",
			"2026-11-02 01:30 -0500 .. 2026-11-02 03:00 -0500",
		}},
	{name: "date_to on the second 01:30", zone: "America/New_York",
		from: "2026-11-01 00:00", to: "2026-11-01 01:30 -0500", repeat: `{"repeat_type":"day"}`, until: "2026-11-02 00:00",
		lo: "2026-10-31 12:00", hi: "2026-11-03 00:00", want: []string{
			"2026-11-01 00:00 -0400 .. 2026-11-01 01:30 -0500",
			"2026-11-02 00:00 -0500 .. 2026-11-02 01:30 -0500",
		}},
	{name: "date_from on the second 02:30", zone: "Europe/Berlin",
		from: "2026-10-25 02:30 +0100", to: "2026-10-25 04:00", repeat: `{"repeat_type":"day"}`, until: "2026-10-26 00:00",
		lo: "2026-10-24 12:00", hi: "2026-10-27 00:00", want: []string{
			"2026-10-25 02:30 +0100 .. 2026-10-25 04:00 +0100",
			"2026-10-26 02:30 +0100 .. 2026-10-26 04:00 +0100",
		}},
	{name: "date_from in Lord Howe's repeated half hour", zone: "Australia/Lord_Howe",
		from: "2026-04-05 01:45 +1030", to: "2026-04-05 03:00", repeat: `{"repeat_type":"day"}`, until: "2026-04-06 00:00",
		lo: "2026-04-04 12:00", hi: "2026-04-07 00:00", want: []string{
			"2026-04-05 01:45 +1030 .. 2026-04-05 03:00 +1030",
			"2026-04-06 01:45 +1030 .. 2026-04-06 03:00 +1030",
		}},
	{name: "repetition on the fall-back night: the first 01:30", zone: "America/New_York",
		from: "2026-10-31 01:30", to: "2026-10-31 03:00", repeat: `{"repeat_type":"day"}`, until: "2026-11-01 00:00",
		lo: "2026-10-31 00:00", hi: "2026-11-02 00:00", want: []string{
			"2026-10-31 01:30 -0400 .. 2026-10-31 03:00 -0400",
			"2026-11-01 01:30 -0400 .. 2026-11-01 03:00 -0500",
		}},

	// Class 3: a repetition that a gap turns inside out is empty.
	{name: "02:30 to 03:10 on the spring-forward night", zone: "America/New_York",
		from: "2026-03-06 02:30", to: "2026-03-06 03:10", repeat: `{"repeat_type":"day"}`, until: "2026-03-09 00:00",
		lo: "2026-03-06 00:00", hi: "2026-03-10 00:00", want: []string{
			"2026-03-06 02:30 -0500 .. 2026-03-06 03:10 -0500",
			"2026-03-07 02:30 -0500 .. 2026-03-07 03:10 -0500",
			"2026-03-09 02:30 -0400 .. 2026-03-09 03:10 -0400",
		}},
	{name: "02:30 to 03:10 on the spring-forward night in Berlin", zone: "Europe/Berlin",
		from: "2026-03-28 02:30", to: "2026-03-28 03:10", repeat: `{"repeat_type":"day"}`, until: "2026-03-30 00:00",
		lo: "2026-03-28 00:00", hi: "2026-03-31 00:00", want: []string{
			"2026-03-28 02:30 +0100 .. 2026-03-28 03:10 +0100",
			"2026-03-30 02:30 +0200 .. 2026-03-30 03:10 +0200",
		}},
	{name: "a window inside Lord Howe's half-hour gap moves with it", zone: "Australia/Lord_Howe",
		from: "2026-10-03 02:10", to: "2026-10-03 02:20", repeat: `{"repeat_type":"day"}`, until: "2026-10-04 00:00",
		lo: "2026-10-03 00:00", hi: "2026-10-05 00:00", want: []string{
			"2026-10-03 02:10 +1030 .. 2026-10-03 02:20 +1030",
			"2026-10-04 02:40 +1100 .. 2026-10-04 02:50 +1100",
		}},
	{name: "a window across Lord Howe's gap end is empty", zone: "Australia/Lord_Howe",
		from: "2026-10-03 02:20", to: "2026-10-03 02:40", repeat: `{"repeat_type":"day"}`, until: "2026-10-05 00:00",
		lo: "2026-10-03 00:00", hi: "2026-10-06 00:00", want: []string{
			"2026-10-03 02:20 +1030 .. 2026-10-03 02:40 +1030",
			"2026-10-05 02:20 +1100 .. 2026-10-05 02:40 +1100",
		}},

	// Class 4: a skipped day's wall-clock times are read on the next day.
	{name: "Fridays in Apia: 2011-12-30 did not happen", zone: "Pacific/Apia",
		from: "2011-12-23 08:00", to: "2011-12-23 12:00", repeat: customJSON("week", 1, `["FRI"]`),
		lo: "2011-12-22 00:00", hi: "2012-01-07 00:00", want: []string{
			"2011-12-23 08:00 -1000 .. 2011-12-23 12:00 -1000",
			"2011-12-31 08:00 +1400 .. 2011-12-31 12:00 +1400",
			"2012-01-06 08:00 +1400 .. 2012-01-06 12:00 +1400",
		}},
	{name: "Thursday nights in Apia end on the skipped Friday", zone: "Pacific/Apia",
		from: "2011-12-22 20:00", to: "2011-12-23 06:00", repeat: customJSON("week", 1, `["THU"]`),
		lo: "2011-12-22 00:00", hi: "2012-01-07 00:00", want: []string{
			"2011-12-22 20:00 -1000 .. 2011-12-23 06:00 -1000",
			"2011-12-29 20:00 -1000 .. 2011-12-31 06:00 +1400",
			"2012-01-05 20:00 +1400 .. 2012-01-06 06:00 +1400",
		}},
	{name: "every day in Apia: the skipped day's window is the next day's", zone: "Pacific/Apia",
		from: "2011-12-28 08:00", to: "2011-12-28 12:00", repeat: `{"repeat_type":"day"}`, until: "2012-01-01 00:00",
		lo: "2011-12-28 00:00", hi: "2012-01-03 00:00", want: []string{
			"2011-12-28 08:00 -1000 .. 2011-12-28 12:00 -1000",
			"2011-12-29 08:00 -1000 .. 2011-12-29 12:00 -1000",
			"2011-12-31 08:00 +1400 .. 2011-12-31 12:00 +1400",
			"2012-01-01 08:00 +1400 .. 2012-01-01 12:00 +1400",
		}},
	{name: "Saturdays in Kwajalein: 1993-08-21 did not happen", zone: "Pacific/Kwajalein",
		from: "1993-08-14 10:00", to: "1993-08-14 11:00", repeat: `{"repeat_type":"week"}`,
		lo: "1993-08-13 00:00", hi: "1993-08-29 00:00", want: []string{
			"1993-08-14 10:00 -1200 .. 1993-08-14 11:00 -1200",
			"1993-08-22 10:00 +1200 .. 1993-08-22 11:00 +1200",
			"1993-08-28 10:00 +1200 .. 1993-08-28 11:00 +1200",
		}},

	// Accepted since: repeat_end leaving only the first window, and a
	// window whose wall-clock end comes before its start.
	{name: "repeat_end before the rule's second day", zone: "UTC",
		from: "2026-01-05 08:00", to: "2026-01-05 10:00", repeat: `{"repeat_type":"week"}`, until: "2026-01-07 12:00",
		lo: "2026-01-01 00:00", hi: "2026-03-01 00:00", want: []string{
			"2026-01-05 08:00 +0000 .. 2026-01-05 10:00 +0000",
		}},
	{name: "01:50 daylight to 01:10 standard time, then 01:50 to 02:10", zone: "America/New_York",
		from: "2026-11-01 01:50 -0400", to: "2026-11-01 01:10 -0500", repeat: `{"repeat_type":"day"}`, until: "2026-11-02 00:00",
		lo: "2026-10-31 12:00", hi: "2026-11-03 00:00", want: []string{
			"2026-11-01 01:50 -0400 .. 2026-11-01 01:10 -0500",
			"2026-11-02 01:50 -0500 .. 2026-11-02 02:10 -0500",
		}},

	// Not repeating: the instants, whatever the wall clock.
	{name: "one window across the fall-back hour", zone: "America/New_York",
		from: "2026-11-01 01:50 -0400", to: "2026-11-01 01:10 -0500",
		lo: "2026-10-31 12:00", hi: "2026-11-03 00:00", want: []string{
			"2026-11-01 01:50 -0400 .. 2026-11-01 01:10 -0500",
		}},
}

func TestGoldenWindows(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			loc := mustLoad(t, g.zone)
			p := g.profile(t, loc)
			lo, hi := goldenTime(t, loc, g.lo), goldenTime(t, loc, g.hi)
			s, err := timeprofile.Compile(p, loc)
			require.NoError(t, err, mustJSON(p))
			format := func(from, to int64) string {
				return time.Unix(from, 0).In(loc).Format(goldenLayout) + " .. " + time.Unix(to, 0).In(loc).Format(goldenLayout)
			}

			// The schedule, walked by NextChange.
			require.False(t, s.Active(lo), "Active at lo")
			require.False(t, s.Active(hi), "Active at hi")
			var got []string
			for x := lo; ; {
				start, ok := s.NextChange(x)
				if !ok || !start.Before(hi) {
					break
				}
				end, ok := s.NextChange(start)
				require.True(t, ok, "a window without an end at %v", start)
				got = append(got, format(start.Unix(), end.Unix()))
				x = end
			}
			assert.Equal(t, g.want, got, "Schedule")

			// Active at both sides of each edge.
			for _, w := range g.want {
				bounds := strings.Split(w, " .. ")
				from, to := goldenTime(t, loc, bounds[0]), goldenTime(t, loc, bounds[1])
				assert.False(t, s.Active(from.Add(-time.Second)), "Active just before %v", w)
				assert.True(t, s.Active(from), "Active at the start of %v", w)
				assert.True(t, s.Active(to.Add(-time.Second)), "Active just before the end of %v", w)
				assert.False(t, s.Active(to), "Active at the end of %v", w)
			}

			// The reference, on the same hand-written answer.
			ref, err := newRef(p, loc)
			require.NoError(t, err)
			var refGot []string
			for _, w := range ref.windows(lo, hi) {
				if w.to > lo.Unix() && w.from < hi.Unix() {
					refGot = append(refGot, format(w.from, w.to))
				}
			}
			assert.Equal(t, g.want, refGot, "reference")
		})
	}
}
