package timeprofile

import "time"

// Resolve turns a wall-clock time of the schedule's zone, given as a
// time.Time whose fields are read in UTC ("floating", as the occurrences
// of RRule are), into the instant it means, by the rule of Compile's doc.
func (s *Schedule) Resolve(floating time.Time) time.Time {
	return time.Unix(s.resolve(floating.Unix()), 0).In(s.loc)
}

// Location returns the zone the schedule was compiled for.
func (s *Schedule) Location() *time.Location { return s.loc }
