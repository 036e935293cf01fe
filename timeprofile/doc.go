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
// and neither allocates. NextChange(t) is exactly the first instant after t
// at which Active changes, across windows that touch or overlap. RRule
// builds, when asked, the equivalent rules of github.com/teambition/rrule-go,
// for comparison and export; Compile builds none, and Active and NextChange
// never use them.
//
// Compile's doc states the semantics. In short: the first window is
// [date_from, date_to) as instants; its repetitions keep the wall-clock
// times of date_from and date_to, read by RFC 5545 3.3.5 (a time in a
// spring-forward gap takes the offset before the gap, so a time on a day a
// zone skipped, such as Pacific/Apia's 2011-12-30, falls on the next day; a
// repeated time means its first pass), and a repetition that a gap turns
// inside out is empty. Two cases follow from these rules and are accepted:
// a repeat_end that leaves no repetition (the profile is its first window
// alone), and a first window that ends in a repeated hour before its
// wall-clock start (01:50 daylight time to 01:10 standard time), whose
// repetitions keep its length on the wall clock (01:50 to 02:10).
//
// The tests hold Active and NextChange to a reference written apart from
// the package, from the Profile's fields, rrule-go and the zone's
// transitions, on hand-written tables and on random profiles aimed at the
// edges, in zones with odd daylight saving rules.
//
// Everything is bounded: dates lie between 1970 and 2199, a repeating
// window is at most MaxRepeatWindowDays long, and searches for the next
// occurrence stop after 400 years of the rule's periods.
package timeprofile
