package timeprofile_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/timeprofile"
)

// One regression test per class of wrong answer found against an
// independent recurrence engine, and per profile that used to be refused
// although it means something.

// utc is a shorthand for an instant written in UTC.
func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func customWeek(from, to time.Time, days ...timeprofile.Weekday) timeprofile.Profile {
	p := weekly(from, to, timeprofile.RepeatCustomType)
	p.RepeatOptions.RepeatFormat.RepeatCustom = &timeprofile.RepeatCustom{
		RepeatPointType: timeprofile.PointWeek, RepeatLooper: 1,
		RepeatOptions: timeprofile.CustomOptions{Weekdays: days},
	}
	return p
}

func endOn(p timeprofile.Profile, day time.Time) timeprofile.Profile {
	p.RepeatOptions.RepeatFormat.RepeatEnd = timeprofile.RepeatEnd{Format: timeprofile.EndDate, Date: day.Unix()}
	return p
}

// requireNext asserts NextChange(x) = want (want zero: no change).
func requireNext(t *testing.T, s *timeprofile.Schedule, x, want time.Time) {
	t.Helper()
	got, ok := s.NextChange(x)
	if want.IsZero() {
		require.False(t, ok, "NextChange(%v) = %v, want none", x, got)
		return
	}
	require.True(t, ok, "NextChange(%v): none, want %v", x, want)
	require.Equal(t, want.Unix(), got.Unix(), "NextChange(%v) = %v, want %v", x, got.UTC(), want.UTC())
}

// Class 1: NextChange ignored a window that starts later on the same local
// day while an earlier window still covers t, so it stopped where Active
// does not change.
func TestRegressionNextChangeFollowsOverlappingWindows(t *testing.T) {
	t.Run("8-day weekly window (the fuzzer's find)", func(t *testing.T) {
		// Every Friday 10:00 UTC for 8 days, the last one starting 2026-01-16.
		p := endOn(customWeek(utc(2026, 1, 2, 10, 0), utc(2026, 1, 10, 10, 0), timeprofile.FRI), utc(2026, 1, 16, 12, 0))
		s, err := timeprofile.Compile(p, time.UTC)
		require.NoError(t, err)
		x := utc(2026, 1, 9, 9, 0) // covered by the first window; the next starts at 10:00
		require.True(t, s.Active(x))
		requireNext(t, s, x, utc(2026, 1, 24, 10, 0))
		assert.True(t, s.Active(utc(2026, 1, 10, 10, 0)), "the old answer, where Active does not change")
	})
	t.Run("daily windows of 26 hours", func(t *testing.T) {
		ny := mustLoad(t, "America/New_York")
		p := endOn(weekly(at(ny, 2026, 5, 4, 8, 0), at(ny, 2026, 5, 5, 10, 0), timeprofile.RepeatDay), at(ny, 2026, 5, 6, 0, 0))
		s, err := timeprofile.Compile(p, ny)
		require.NoError(t, err)
		requireNext(t, s, at(ny, 2026, 5, 5, 7, 0), at(ny, 2026, 5, 7, 10, 0))
	})
	t.Run("windows that touch", func(t *testing.T) {
		// Monday 00:00 to the next Monday 00:00, every week: always active.
		p := weekly(utc(2026, 1, 5, 0, 0), utc(2026, 1, 12, 0, 0), timeprofile.RepeatWeek)
		s, err := timeprofile.Compile(endOn(p, utc(2026, 2, 2, 0, 0)), time.UTC)
		require.NoError(t, err)
		requireNext(t, s, utc(2026, 1, 11, 23, 0), utc(2026, 2, 9, 0, 0))
	})
}

// Class 2: a date_from or date_to inside the repeated hour after clocks go
// back was read as a wall-clock time and resolved to the first pass.
func TestRegressionFirstWindowIsInstantsInRepeatedHour(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	firstPass := utc(2026, 11, 1, 5, 30)  // 01:30 EDT
	secondPass := utc(2026, 11, 1, 6, 30) // 01:30 EST
	t.Run("date_from on the second pass", func(t *testing.T) {
		p := weekly(secondPass, utc(2026, 11, 1, 8, 0), timeprofile.RepeatDay) // to 03:00 EST
		s, err := timeprofile.Compile(p, ny)
		require.NoError(t, err)
		assert.False(t, s.Active(firstPass), "an hour before date_from")
		assert.False(t, s.Active(secondPass.Add(-time.Second)))
		assert.True(t, s.Active(secondPass))
		requireNext(t, s, firstPass, secondPass)
		assert.True(t, s.Active(at(ny, 2026, 11, 2, 1, 30)), "the repetitions keep the wall clock")
	})
	t.Run("date_to on the second pass", func(t *testing.T) {
		p := weekly(at(ny, 2026, 11, 1, 0, 0), secondPass, timeprofile.RepeatDay)
		s, err := timeprofile.Compile(p, ny)
		require.NoError(t, err)
		assert.True(t, s.Active(secondPass.Add(-time.Second)), "an hour after the first pass of 01:30")
		assert.False(t, s.Active(secondPass))
		requireNext(t, s, firstPass, secondPass)
		assert.False(t, s.Active(at(ny, 2026, 11, 2, 1, 30)), "the repetitions end at 01:30 wall clock")
	})
}

// Class 3: a repetition whose start lands after its end across a
// spring-forward gap is empty, but NextChange stopped at its start.
func TestRegressionEmptyWindowInGap(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	// Daily 02:30-03:10. On 2026-03-08 02:30 is read as 03:30 EDT, after 03:10 EDT.
	s, err := timeprofile.Compile(weekly(at(ny, 2026, 3, 1, 2, 30), at(ny, 2026, 3, 1, 3, 10), timeprofile.RepeatDay), ny)
	require.NoError(t, err)
	for _, x := range []time.Time{utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 7, 10), utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 7, 40)} {
		assert.False(t, s.Active(x), "%v", x)
	}
	requireNext(t, s, at(ny, 2026, 3, 8, 0, 0), at(ny, 2026, 3, 9, 2, 30))
}

// Class 4: in a zone that skipped a whole local day, a window whose start
// or end falls on the skipped day is resolved to the next day, where Active
// and NextChange must both find it.
func TestRegressionSkippedDay(t *testing.T) {
	apia := mustLoad(t, "Pacific/Apia") // 2011-12-29 24:00 -10 became 2011-12-31 00:00 +14
	t.Run("start on the skipped day", func(t *testing.T) {
		// Fridays 08:00-12:00; Friday 2011-12-30 did not happen in Apia.
		s, err := timeprofile.Compile(customWeek(at(apia, 2011, 12, 23, 8, 0), at(apia, 2011, 12, 23, 12, 0), timeprofile.FRI), apia)
		require.NoError(t, err)
		start, end := at(apia, 2011, 12, 31, 8, 0), at(apia, 2011, 12, 31, 12, 0) // +14
		assert.True(t, s.Active(start))
		assert.True(t, s.Active(end.Add(-time.Second)))
		assert.False(t, s.Active(end))
		requireNext(t, s, at(apia, 2011, 12, 29, 20, 0), start)
		requireNext(t, s, start, end)
		requireNext(t, s, end, at(apia, 2012, 1, 6, 8, 0))
	})
	t.Run("end on the skipped day", func(t *testing.T) {
		// Thursdays 20:00 to Friday 06:00.
		s, err := timeprofile.Compile(customWeek(at(apia, 2011, 12, 22, 20, 0), at(apia, 2011, 12, 23, 6, 0), timeprofile.THU), apia)
		require.NoError(t, err)
		end := at(apia, 2011, 12, 31, 6, 0)
		assert.True(t, s.Active(at(apia, 2011, 12, 31, 3, 0)))
		assert.False(t, s.Active(end))
		requireNext(t, s, at(apia, 2011, 12, 29, 21, 0), end)
	})
}

// Accepted: repeat_end leaves only the first window. The profile is its
// first window alone.
func TestAcceptRepeatEndLeavingOnlyTheFirstWindow(t *testing.T) {
	// Weekly from Monday 2026-01-05, ending on Wednesday 2026-01-07.
	p := endOn(weekly(utc(2026, 1, 5, 8, 0), utc(2026, 1, 5, 10, 0), timeprofile.RepeatWeek), utc(2026, 1, 7, 12, 0))
	s, err := timeprofile.Compile(p, time.UTC)
	require.NoError(t, err)
	assert.True(t, s.Active(utc(2026, 1, 5, 9, 0)))
	assert.False(t, s.Active(utc(2026, 1, 12, 9, 0)))
	requireNext(t, s, utc(2026, 1, 5, 9, 0), utc(2026, 1, 5, 10, 0))
	requireNext(t, s, utc(2026, 1, 5, 10, 0), time.Time{})

	// The repeat options themselves must still match some date.
	never := endOn(weekly(utc(2026, 2, 1, 8, 0), utc(2026, 2, 1, 10, 0), timeprofile.RepeatCustomType), utc(2030, 1, 1, 0, 0))
	never.RepeatOptions.RepeatFormat.RepeatCustom = &timeprofile.RepeatCustom{
		RepeatPointType: timeprofile.PointMonth, RepeatLooper: 12,
		RepeatOptions: timeprofile.CustomOptions{Month: &timeprofile.MonthOptions{Format: timeprofile.DayNumbers, DayNumbers: []int{30}}},
	}
	_, err = timeprofile.Compile(never, time.UTC)
	require.ErrorIs(t, err, timeprofile.ErrNeverRepeats)
}

// Accepted: a repeating window from 01:50 daylight time to 01:10 standard
// time on the fall-back night, 20 minutes long. The first window is those
// 20 minutes; each repetition starts at 01:50 wall clock and lasts the
// first window's 20 minutes of wall clock, to 02:10.
func TestAcceptWindowEndingInRepeatedHourBeforeItsWallClockStart(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	from, to := utc(2026, 11, 1, 5, 50), utc(2026, 11, 1, 6, 10) // 01:50 EDT, 01:10 EST
	s, err := timeprofile.Compile(weekly(from, to, timeprofile.RepeatDay), ny)
	require.NoError(t, err)
	assert.False(t, s.Active(from.Add(-time.Second)))
	assert.True(t, s.Active(from))
	assert.True(t, s.Active(to.Add(-time.Second)))
	assert.False(t, s.Active(to))
	requireNext(t, s, from, to)
	requireNext(t, s, to, at(ny, 2026, 11, 2, 1, 50))
	requireNext(t, s, at(ny, 2026, 11, 2, 1, 50), at(ny, 2026, 11, 2, 2, 10))
}
