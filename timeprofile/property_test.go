package timeprofile_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/timeprofile"
)

// The property tests: Active against the reference (reference_test.go),
// and NextChange(t) as the first instant after t at which Active changes,
// at every window edge and every zone transition in a range, in every zone
// of propertyZones.
//
// The default run looks at 150 profiles a zone over three years (about a
// million instants, a second), -short at 10 over 400 days. Set
// TIMEPROFILE_SWEEP=n for n profiles a zone over three years (n=3000 checks
// about 19 million instants in 20 seconds).

// randomEdgeProfile makes a valid profile aimed at the edges: starts and
// ends near the zone's transitions (as instants, so on either pass of a
// repeated hour, or as the same wall-clock time days before, so that a
// repetition meets the transition), windows that touch or overlap, short
// windows that a gap can empty, and repeat_end on or near date_from's day.
func randomEdgeProfile(rng *rand.Rand, loc *time.Location, trs []time.Time) timeprofile.Profile {
	var from, to time.Time
	if len(trs) > 0 && rng.IntN(3) > 0 {
		tr := trs[rng.IntN(len(trs))]
		near := tr.Add(time.Duration(rng.IntN(37)-18) * 10 * time.Minute)
		switch rng.IntN(3) {
		case 0:
			from = near
		case 1:
			w := near.In(loc)
			back := []int{1, 2, 6, 7, 14, 28, 30, 31, 365}[rng.IntN(9)]
			from = time.Date(w.Year(), w.Month(), w.Day()-back, w.Hour(), w.Minute(), 0, 0, loc)
		default:
			to = near
		}
	} else {
		day := time.Date(2024+rng.IntN(4), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, loc)
		hours := []int{0, 0, 1, 2, 3, 8, 12, 22, 23}
		from = time.Date(day.Year(), day.Month(), day.Day(), hours[rng.IntN(len(hours))], 15*rng.IntN(4), 0, 0, loc)
	}
	var length time.Duration
	switch rng.IntN(6) {
	case 0:
		length = time.Duration(1+rng.IntN(720)) * time.Minute
	case 1:
		length = time.Duration(1+rng.IntN(12)) * 10 * time.Minute
	case 2:
		length = time.Duration([]int{1, 2, 7, 8, 14}[rng.IntN(5)]) * 24 * time.Hour
	case 3:
		length = time.Duration(1+rng.IntN(72)) * time.Hour
	case 4:
		length = time.Duration(1+rng.IntN(31*24)) * time.Hour
	default:
		length = time.Duration(1+rng.IntN(3*60)) * time.Minute
	}
	if to.IsZero() {
		to = from.Add(length)
	} else {
		from = to.Add(-length)
	}
	allDay := rng.IntN(6) == 0
	if allDay {
		to = from.AddDate(0, 0, rng.IntN(3))
	}
	p := timeprofile.Profile{
		Name:        "edge",
		TimeOptions: timeprofile.TimeOptions{IsAllDay: allDay, DateFrom: from.Unix(), DateTo: to.Unix()},
	}
	if rng.IntN(10) == 0 {
		return p
	}
	p.RepeatOptions.RepeatEnable = true
	f := &p.RepeatOptions.RepeatFormat
	f.RepeatEnd = timeprofile.RepeatEnd{Format: timeprofile.EndNever}
	if rng.IntN(3) == 0 {
		days := []int{0, 1, 2, rng.IntN(60), rng.IntN(540)}[rng.IntN(5)]
		f.RepeatEnd = timeprofile.RepeatEnd{Format: timeprofile.EndDate, Date: from.AddDate(0, 0, days).Unix()}
	}
	randomRepeat(rng, f)
	return p
}

// maxRunSlack is how long a run of windows may be before NextChange may
// give up on it (maxRunDays in the package, less a margin).
const maxRunSlack = 700 * 24 * 3600

// checker compares one compiled profile with the reference.
type checker struct {
	t      *testing.T
	zone   string
	p      timeprofile.Profile
	s      *timeprofile.Schedule
	u      refUnion
	checks int
}

func (c *checker) at(x int64, nanos int64) {
	c.checks++
	xt := time.Unix(x, nanos)
	if got, want := c.s.Active(xt), c.u.active(x); got != want {
		c.fail(x, "Active = %v, the reference says %v", got, want)
	}
	got, ok := c.s.NextChange(xt)
	want, found := c.u.next(x)
	switch {
	case found && ok && got.Unix() != want:
		c.fail(x, "NextChange = %v, Active changes first at %v", got.In(c.s.Location()), time.Unix(want, 0).In(c.s.Location()))
	case found && !ok && !(c.u.active(x) && want-x > maxRunSlack):
		c.fail(x, "NextChange: none, Active changes at %v", time.Unix(want, 0).In(c.s.Location()))
	case !found && ok && got.Unix() <= c.u.hi:
		c.fail(x, "NextChange = %v, Active does not change up to %v", got.In(c.s.Location()), time.Unix(c.u.hi, 0).In(c.s.Location()))
	}
}

func (c *checker) fail(x int64, format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("zone %s, profile %s\nat %v (%d): "+format, append([]any{c.zone, mustJSON(c.p), time.Unix(x, 0).In(c.s.Location()), x}, args...)...)
}

func TestPropertyAgainstReference(t *testing.T) {
	perZone, horizon := 150, 3*365*24*time.Hour
	if testing.Short() {
		perZone, horizon = 10, 400*24*time.Hour
	}
	if n, err := strconv.Atoi(os.Getenv("TIMEPROFILE_SWEEP")); err == nil && n > 0 {
		perZone, horizon = n, 3*365*24*time.Hour
	}
	rng := rand.New(rand.NewPCG(5, 2026))
	total, profiles := 0, 0
	for _, zone := range propertyZones {
		loc := mustLoad(t, zone)
		trs := transitions(loc, time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC))
		for range perZone {
			p := randomEdgeProfile(rng, loc, trs)
			s, err := timeprofile.Compile(p, loc)
			if err != nil {
				// The only refusals a random edge profile can meet.
				require.True(t, errors.Is(err, timeprofile.ErrNeverRepeats) || errors.Is(err, timeprofile.ErrWindowTooLong), "%v: %s", err, mustJSON(p))
				continue
			}
			ref, err := newRef(p, loc)
			require.NoError(t, err)
			lo := time.Unix(p.TimeOptions.DateFrom, 0).Add(-72 * time.Hour)
			hi := lo.Add(horizon)
			c := &checker{t: t, zone: zone, p: p, s: s, u: ref.union(lo, hi)}
			var xs []int64
			for _, e := range c.u.edges() {
				xs = append(xs, e-1, e, e+1)
			}
			for _, tr := range transitions(loc, lo, hi) {
				x := tr.Unix()
				xs = append(xs, x-3601, x-1, x, x+1, x+1800, x+3600)
			}
			for range 30 {
				xs = append(xs, lo.Unix()+rng.Int64N(hi.Unix()-lo.Unix()))
			}
			for _, x := range xs {
				if x >= c.u.lo && x < c.u.hi {
					c.at(x, 0)
				}
			}
			c.at(xs[rng.IntN(len(xs))], 999_999_999) // a time between two seconds reads as its second
			total += c.checks
			profiles++
		}
	}
	t.Logf("%d instants of %d profiles checked against the reference", total, profiles)
}

// The package's own rrule-go rules (RRule) select the same days as the
// reference's, which are built from the Profile alone.
func TestRRuleAgreesWithReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 2026))
	for _, zone := range propertyZones {
		loc := mustLoad(t, zone)
		for range 30 {
			p := randomProfile(rng, loc)
			s, err := timeprofile.Compile(p, loc)
			if err != nil {
				require.ErrorIs(t, err, timeprofile.ErrNeverRepeats)
				continue
			}
			ref, err := newRef(p, loc)
			require.NoError(t, err)
			lo, hi := ref.startDay, ref.startDay.AddDate(3, 0, 0)
			want := ref.days(lo, hi)
			var got []time.Time
			for _, r := range s.RRule() {
				for _, occ := range r.Between(lo, hi.Add(24*time.Hour), true) { // occurrences carry a time of day
					if d := midnight(occ); d.After(ref.startDay) && !d.After(hi) {
						got = append(got, d)
					}
				}
			}
			slices.SortFunc(got, time.Time.Compare)
			slices.SortFunc(want, time.Time.Compare)
			require.Equal(t, want, slices.Compact(got), "zone %s, profile %s", zone, mustJSON(p))
		}
	}
}

// Past the end of the zone table, time.Time.ZoneBounds can report a zone end
// that is no transition, and at that instant an end equal to it (Troll,
// 31 December 2040, a leap year). The schedule's shortcut through
// ZoneBounds must still answer as the reference does.
func TestZoneBoundsPastTheTable(t *testing.T) {
	troll := mustLoad(t, "Antarctica/Troll")
	odd := time.Date(2040, 12, 31, 0, 0, 0, 0, time.UTC)
	_, end := odd.In(troll).ZoneBounds()
	if !end.Equal(odd) {
		t.Logf("ZoneBounds at %v ends at %v: the quirk is gone from this Go version", odd, end)
	}
	for _, p := range []timeprofile.Profile{
		weekly(at(troll, 2040, 12, 1, 0, 0), at(troll, 2040, 12, 1, 1, 0), timeprofile.RepeatDay),
		weekly(at(troll, 2040, 12, 1, 23, 30), at(troll, 2040, 12, 2, 0, 30), timeprofile.RepeatDay),
	} {
		s, err := timeprofile.Compile(p, troll)
		require.NoError(t, err)
		ref, err := newRef(p, troll)
		require.NoError(t, err)
		lo, hi := odd.AddDate(0, 0, -3), odd.AddDate(0, 0, 3)
		c := &checker{t: t, zone: "Antarctica/Troll", p: p, s: s, u: ref.union(lo.AddDate(0, 0, -5), hi.AddDate(0, 0, 5))}
		for x := lo.Unix(); x < hi.Unix(); x += 600 {
			c.at(x, 0)
			c.at(x-1, 0)
		}
	}
}
