// Package timeprofile is the panel's time profile: its JSON model,
// validation with the vendor's own messages, and a compiled schedule that
// says whether an instant falls inside the profile.
//
// A Profile decodes from the wire JSON of the panel's link API
// (name, time_options, repeat_options). (*Profile).Validate returns the
// first rule the profile breaks as a Message whose text is exactly what the
// panel answers ("Wrong repeat_type", "Set in WeekOptions can't be empty",
// ...); each constant's comment names the rule it guards. A few rules of our
// own (ErrDateOrder, ErrEndDateMissing, ErrWindowTooLong, ErrNeverRepeats,
// ...) refuse profiles whose evaluation would be meaningless or unbounded.
//
// Compile turns a valid profile into a Schedule for the panel's time zone.
// Its Active and NextChange work by calendar arithmetic on civil days:
// Active looks at the few days whose window could cover the instant, so a
// profile started ten years ago costs the same as one started yesterday,
// and it does not allocate. RRule exposes the equivalent rules of
// github.com/teambition/rrule-go, the reference against which the tests
// hold the fast path. Compile's doc states the semantics, including the
// RFC 5545 rule for wall-clock times that daylight saving skips or repeats.
//
// Everything is bounded: dates lie between 1970 and 2199, a repeating
// window is at most MaxRepeatWindowDays long, and searches for the next
// occurrence stop after 400 years of the rule's periods.
package timeprofile
