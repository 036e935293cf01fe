// Package device is the state a 2N-style device keeps besides its
// directory: who it says it is (/api/system/info), how long it has run
// (/api/system/status), its switches (/api/switch/caps|status|ctrl), its
// I/O ports (/api/io/caps|status), the blocking of its access points
// (/api/accesspoint/blocking/ctrl|status) and its list of holidays
// (/api/config/holidays). It owns the business rules of these functions;
// it knows nothing of HTTP. Its results marshal with encoding/json to the
// "result" object of the 2N HTTP API, so an adapter only wraps them in
// {"success":true,"result":...}.
//
// # What lives where
//
// Identity ([Info]) and the switches' configuration ([SwitchConfig]) come
// from options: they are the program's configuration. The state that
// several servers on one database must agree on (each switch's state, the
// blocking of each access point, the holidays) lives in the store, in
// buckets named device.*, and every call reads it in a transaction, so a
// Device never answers from a stale copy of it; the one exception is
// [Device.IsHoliday], which answers from a snapshot (see there). Every
// change is one store.Update, in which the state is read, checked and
// written: concurrent calls, on one Device or on several Devices on one
// store, are serialised by the store and never lose an update.
//
// # Switches
//
// A device has 1 to [MaxSwitches] switches (default 4), numbered from 1.
// A switch is active or inactive; it may also be locked (deactivated and
// refusing to be turned on) or held (activated and refusing to be turned
// off); a switch both locked and held is inactive, as 2N documents. The
// actions of /api/switch/ctrl ([SwitchAction]):
//
//   - on: a monostable switch is active for its switch-on duration (or for
//     the given timeout), then inactive by itself; a bistable switch stays
//     active until off or trigger (or for the timeout, when one is given).
//   - off: inactive at once.
//   - trigger: a monostable switch is active for its switch-on duration (a
//     trigger while active starts the duration again); a bistable switch
//     toggles.
//   - lock / unlock: locking deactivates the switch and refuses on and
//     trigger (ErrSwitchLocked) until unlock; off on a locked switch
//     succeeds (it is off).
//   - hold / release: holding activates the switch until release (or until
//     the timeout, when one is given) and refuses off (ErrSwitchHeld); on
//     and trigger on a held switch succeed and change nothing.
//
// 2N's manual documents the actions, that a locked switch refuses on with
// error 14, that lock has priority over hold, and that every command to a
// disabled switch fails with error 14 (ErrSwitchDisabled). It does not say
// what on does to a monostable switch, nor what release and unlock leave
// behind: we guessed that on is timed like trigger (a monostable switch
// drives a door lock, and a door must not stay open because a client sent
// on), and that hold and lock forget an activation in progress, so that
// release and unlock leave the switch inactive.
//
// Timed states are not kept by goroutines or timers: the store holds "active
// until T" and every read computes the state at the clock's time (the
// switch is active at t when t < T). So reads are exact at any time and on
// every server. What the journal records is a different matter: a switch
// that becomes inactive by itself (its duration or hold timeout ran out)
// is recorded, with the time it happened, by the next write of the device
// (any ControlSwitch or BlockAccessPoint) or by [Device.Settle], which a
// program that wants such events promptly calls from a ticker.
//
// # I/O ports
//
// Ports are fixed: input1 and input2 (digital inputs; a device in software
// has nothing wired to them, so they read 0) and relay1 (and relay2 when
// there are two switches or more), outputs that follow the switch of the
// same number, as a 2N device's relays do in its default configuration
// (switch 1 drives relay 1). The names and the {"port","type"} and
// {"port","state"} shapes are 2N's.
//
// # Access points
//
// Two access points, 0 (entry) and 1 (exit), as /api/accesspoint/blocking
// numbers them (and as the directory's access.accessPoints[0..1] does).
// Blocking is a flag per access point; setting it to the value it has
// succeeds and records nothing.
//
// # Holidays
//
// Dates are DD/MM (every year) or DD/MM/YYYY (that day only), exactly as
// 2N writes them: two-digit day and month, a four-digit year from 1970,
// and a real calendar date (29/02 is allowed without a year; 29/02/2019
// is not). At most [MaxHolidays] dates per list; a date listed twice is
// kept once, and the list is stored in the order given.
//
// # Journal
//
// With [WithJournal], every change of a switch's state (active/inactive)
// and every change of an access point's blocking is written to the journal
// in the transaction that makes it: an event of kind journal.Switch whose
// Entity is [EntitySwitch] or [EntityAccessPoint], Lock the switch or
// access point id, Granted the new state (active, or blocked), Name the
// action that caused it (a [SwitchAction], [NameExpired], [NameConfigured],
// [NameBlock] or [NameUnblock]), Source from the context
// (journal.WithSource). Changes of locked and held that do not change
// whether the switch is active are not events: 2N's SwitchStateChanged is
// about the active state. The journal must keep its events in the same
// store as the Device.
//
// # Errors
//
// Errors are values: test them with errors.Is. How the 2N API answers
// them (the code and param an adapter puts in its error envelope):
//
//	ErrInvalidSwitch       12 switch        (also for a bad filter id)
//	ErrInvalidAction       12 action
//	ErrInvalidTimeout      12 timeout
//	ErrSwitchDisabled      14               (2N: every command to a disabled switch)
//	ErrSwitchLocked        14               (2N: "action failed", on to a locked switch)
//	ErrSwitchHeld          14               (ours, by symmetry: off to a held switch)
//	ErrInvalidAccessPoint  12 id
//	ErrInvalidPort         12 port
//	ErrInvalidDate         12 blob-json     (a *DateError says which date)
//	ErrTooManyDates        13 blob-json
package device
