package device

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// SwitchMode is how a switch behaves when activated (2N's "mode").
type SwitchMode string

// The switch modes, as /api/switch/caps spells them.
const (
	// Monostable: active for the switch-on duration, then inactive by
	// itself.
	Monostable SwitchMode = "monostable"
	// Bistable: active until deactivated; trigger toggles.
	Bistable SwitchMode = "bistable"
)

// SwitchType is 2N's "type" of a switch: normal, or security (one whose
// output is a 2N Security Relay). To this package it is a label.
type SwitchType string

// The switch types, as /api/switch/caps spells them.
const (
	SwitchNormal   SwitchType = "normal"
	SwitchSecurity SwitchType = "security"
)

// SwitchAction is an action of /api/switch/ctrl.
type SwitchAction string

// The actions of /api/switch/ctrl, as 2N spells them; see the package doc
// for what each does.
const (
	ActionOn      SwitchAction = "on"
	ActionOff     SwitchAction = "off"
	ActionTrigger SwitchAction = "trigger"
	ActionLock    SwitchAction = "lock"
	ActionUnlock  SwitchAction = "unlock"
	ActionHold    SwitchAction = "hold"
	ActionRelease SwitchAction = "release"
)

// SwitchActions returns every SwitchAction, in a new slice.
func SwitchActions() []SwitchAction {
	return []SwitchAction{ActionOn, ActionOff, ActionTrigger, ActionLock, ActionUnlock, ActionHold, ActionRelease}
}

// Journal events of this package: journal.Switch events whose Entity says
// what changed, and whose Name says why.
const (
	// EntitySwitch marks a change of a switch's state: Lock is the switch,
	// Granted whether it is now active. 2N's SwitchStateChanged.
	EntitySwitch = "switch"
	// EntityAccessPoint marks a change of an access point's blocking: Lock
	// is the access point, Granted whether it is now blocked.
	EntityAccessPoint = "accesspoint"

	// NameExpired: a switch became inactive by itself, at the event's
	// Time: its switch-on duration or timeout, or its hold timeout, ran out.
	NameExpired = "expired"
	// NameConfigured: a switch's state changed because the configuration
	// did: an active switch was disabled (a disabled switch reads
	// inactive), or a disabled one that was on was enabled again.
	NameConfigured = "configured"
)

// Limits and defaults of switches.
const (
	DefaultSwitches         = 4
	MaxSwitches             = 16
	DefaultSwitchOnDuration = 5 * time.Second
	// MaxTimeout bounds a switch-on duration and the timeout of
	// ControlSwitchTimeout, as 2N bounds the latter (1 to 86,400 s).
	MaxTimeout = 24 * time.Hour
)

// SwitchConfig is the configuration of one switch; the zero value is an
// enabled, monostable, normal switch with DefaultSwitchOnDuration.
type SwitchConfig struct {
	Disabled   bool          // every command is refused (ErrSwitchDisabled); it reads inactive
	Mode       SwitchMode    // "" means Monostable
	OnDuration time.Duration // monostable only; whole seconds, 1 s to MaxTimeout; 0 means the default
	Type       SwitchType    // "" means SwitchNormal
}

func (c *config) switchConfigs() ([]SwitchConfig, error) {
	if c.switches < 1 || c.switches > MaxSwitches {
		return nil, fmt.Errorf("%w: %d switches (1 to %d)", ErrInvalidConfig, c.switches, MaxSwitches)
	}
	out := make([]SwitchConfig, c.switches)
	for id, sc := range c.perID {
		if id < 1 || id > c.switches {
			return nil, fmt.Errorf("%w: switch %d configured, the device has switches 1 to %d", ErrInvalidConfig, id, c.switches)
		}
		sc.Mode = cmp.Or(sc.Mode, Monostable)
		sc.Type = cmp.Or(sc.Type, SwitchNormal)
		sc.OnDuration = cmp.Or(sc.OnDuration, DefaultSwitchOnDuration)
		switch {
		case sc.Mode != Monostable && sc.Mode != Bistable:
			return nil, fmt.Errorf("%w: switch %d: mode %q", ErrInvalidConfig, id, sc.Mode)
		case sc.Type != SwitchNormal && sc.Type != SwitchSecurity:
			return nil, fmt.Errorf("%w: switch %d: type %q", ErrInvalidConfig, id, sc.Type)
		case sc.OnDuration < time.Second || sc.OnDuration > MaxTimeout || sc.OnDuration%time.Second != 0:
			return nil, fmt.Errorf("%w: switch %d: switch-on duration %v (whole seconds, 1s to %v)", ErrInvalidConfig, id, sc.OnDuration, MaxTimeout)
		}
		out[id-1] = sc
	}
	for i := range out {
		if out[i].Mode == "" {
			out[i] = SwitchConfig{Mode: Monostable, Type: SwitchNormal, OnDuration: DefaultSwitchOnDuration}
		}
	}
	return out, nil
}

// SwitchCap is one switch of /api/switch/caps. A disabled switch shows
// only its number and enabled:false, and a bistable one no
// switchOnDuration, as in 2N's example.
type SwitchCap struct {
	Switch           int        `json:"switch"`
	Enabled          bool       `json:"enabled"`
	Mode             SwitchMode `json:"mode,omitempty"`
	SwitchOnDuration int        `json:"switchOnDuration,omitempty"` // seconds
	Type             SwitchType `json:"type,omitempty"`
}

// SwitchCaps is the result of /api/switch/caps.
type SwitchCaps struct {
	Switches []SwitchCap `json:"switches"`
}

// SwitchState is one switch of /api/switch/status.
type SwitchState struct {
	Switch int  `json:"switch"`
	Active bool `json:"active"`
	Locked bool `json:"locked"`
	Held   bool `json:"held"`
	// HoldTimeout is the rest of a timed hold in seconds, rounded up;
	// absent when the switch is not held or held without a timeout.
	HoldTimeout int64 `json:"holdTimeout,omitempty"`
}

// SwitchStatus is the result of /api/switch/status.
type SwitchStatus struct {
	Switches []SwitchState `json:"switches"`
}

// switchIDs checks the ids a call names and returns how many switches it
// is about: len(only), or every switch when only is empty (see nthID).
func (d *Device) switchIDs(only []int) (int, error) {
	for _, id := range only {
		if err := d.checkSwitch(id); err != nil {
			return 0, err
		}
	}
	if len(only) > 0 {
		return len(only), nil
	}
	return len(d.switches), nil
}

// nthID is the id of the i-th switch a call is about.
func nthID(only []int, i int) int {
	if len(only) == 0 {
		return i + 1
	}
	return only[i]
}

func (d *Device) checkSwitch(id int) error {
	if id < 1 || id > len(d.switches) {
		return fmt.Errorf("%w: %d (the device has switches 1 to %d)", ErrInvalidSwitch, id, len(d.switches))
	}
	return nil
}

// SwitchCaps returns the configuration of the switches only names, or of
// every switch; an id that is not a switch is ErrInvalidSwitch.
func (d *Device) SwitchCaps(only ...int) (SwitchCaps, error) {
	n, err := d.switchIDs(only)
	if err != nil {
		return SwitchCaps{}, err
	}
	out := SwitchCaps{Switches: make([]SwitchCap, n)}
	for i := range n {
		id := nthID(only, i)
		sc := d.switches[id-1]
		c := SwitchCap{Switch: id}
		if !sc.Disabled {
			c.Enabled, c.Mode, c.Type = true, sc.Mode, sc.Type
			if sc.Mode == Monostable {
				c.SwitchOnDuration = int(sc.OnDuration / time.Second)
			}
		}
		out.Switches[i] = c
	}
	return out, nil
}

// SwitchStatus returns the state, now, of the switches only names, or of
// every switch; an id that is not a switch is ErrInvalidSwitch.
func (d *Device) SwitchStatus(ctx context.Context, only ...int) (SwitchStatus, error) {
	n, err := d.switchIDs(only)
	if err != nil {
		return SwitchStatus{}, err
	}
	out := SwitchStatus{Switches: make([]SwitchState, n)}
	err = d.st.View(ctx, func(tx store.Tx) error {
		var recs [MaxSwitches]switchRec
		if err := d.loadSwitches(tx, &recs); err != nil {
			return err
		}
		now := d.now().UnixNano()
		for i := range n {
			id := nthID(only, i)
			out.Switches[i] = recs[id-1].state(id, now, !d.switches[id-1].Disabled)
		}
		return nil
	})
	if err != nil {
		return SwitchStatus{}, err
	}
	return out, nil
}

// ControlSwitch performs action on switch id (see the package doc). An id
// that is not a switch is ErrInvalidSwitch, an unknown action
// ErrInvalidAction; a disabled switch refuses every action
// (ErrSwitchDisabled), a locked one on and trigger (ErrSwitchLocked), a
// held one off (ErrSwitchHeld). A change of the switch's state is
// journaled.
func (d *Device) ControlSwitch(ctx context.Context, id int, action SwitchAction) error {
	return d.control(ctx, id, action, 0, false)
}

// ControlSwitchTimeout is ControlSwitch with 2N's timeout parameter: after
// on, the switch is inactive again after timeout (instead of its
// switch-on duration, or instead of staying active for a bistable switch);
// after hold, it is released after timeout. Other actions ignore it. A
// timeout that is not whole seconds from 1 s to MaxTimeout is
// ErrInvalidTimeout.
func (d *Device) ControlSwitchTimeout(ctx context.Context, id int, action SwitchAction, timeout time.Duration) error {
	return d.control(ctx, id, action, timeout, true)
}

func (d *Device) control(ctx context.Context, id int, action SwitchAction, timeout time.Duration, timed bool) error {
	if err := d.checkSwitch(id); err != nil {
		return err
	}
	if !slices.Contains(SwitchActions(), action) {
		return fmt.Errorf("%w: %q (one of %v)", ErrInvalidAction, action, SwitchActions())
	}
	if timed && (timeout < time.Second || timeout > MaxTimeout || timeout%time.Second != 0) {
		return fmt.Errorf("%w: %v (whole seconds, 1s to %v)", ErrInvalidTimeout, timeout, MaxTimeout)
	}
	sc := d.switches[id-1]
	if sc.Disabled {
		return fmt.Errorf("%w: switch %d", ErrSwitchDisabled, id)
	}
	source := journal.SourceFrom(ctx)
	var evs []journal.Event
	err := d.st.Update(ctx, func(tx store.Tx) error {
		evs = nil
		now := d.now().UnixNano()
		var recs [MaxSwitches]switchRec
		if err := d.loadSwitches(tx, &recs); err != nil {
			return err
		}
		var dirty uint32
		evs, dirty = d.settle(recs[:len(d.switches)], now)
		r := &recs[id-1]
		before := *r
		if err := r.apply(id, action, sc, now, timeout); err != nil {
			return err
		}
		if active := r.activeAt(now, true); active != r.recorded {
			r.recorded = active
			evs = append(evs, switchEvent(id, active, string(action), source, now))
		}
		if *r != before {
			dirty |= 1 << (id - 1)
		}
		if err := d.writeSwitches(tx, recs[:len(d.switches)], dirty); err != nil {
			return err
		}
		var err error
		evs, err = d.journal.AppendTx(tx, evs...)
		return err
	})
	if err != nil {
		return err
	}
	d.journal.AfterCommit(evs)
	d.log.Debug("switch control", "switch", id, "action", action)
	return nil
}

// Settle records what happened by itself up to now: switches whose
// switch-on duration or hold timeout ran out are written as inactive and,
// with a journal, recorded with the time each became inactive. Reads do
// not need it (they compute the state at their time), and every write of
// the device settles first; a program that wants such events in the
// journal promptly calls Settle from a ticker. When nothing is due,
// Settle costs one read transaction.
func (d *Device) Settle(ctx context.Context) error {
	due := false
	err := d.st.View(ctx, func(tx store.Tx) error {
		var recs [MaxSwitches]switchRec
		if err := d.loadSwitches(tx, &recs); err != nil {
			return err
		}
		_, dirty := d.settle(recs[:len(d.switches)], d.now().UnixNano())
		due = dirty != 0
		return nil
	})
	if err != nil || !due {
		return err
	}
	var evs []journal.Event
	err = d.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if evs, err = d.settleTx(tx, d.now().UnixNano()); err != nil {
			return err
		}
		evs, err = d.journal.AppendTx(tx, evs...)
		return err
	})
	if err != nil {
		return err
	}
	d.journal.AfterCommit(evs)
	return nil
}

// settleTx settles every switch in tx and returns the events of what
// changed, for the caller to record.
func (d *Device) settleTx(tx store.Tx, now int64) ([]journal.Event, error) {
	var recs [MaxSwitches]switchRec
	if err := d.loadSwitches(tx, &recs); err != nil {
		return nil, err
	}
	evs, dirty := d.settle(recs[:len(d.switches)], now)
	return evs, d.writeSwitches(tx, recs[:len(d.switches)], dirty)
}

// settle applies to recs what ran out by now, and returns the events of
// the switches that became inactive, oldest first, and a bit per record
// that changed (bit i for recs[i]).
func (d *Device) settle(recs []switchRec, now int64) ([]journal.Event, uint32) {
	var evs []journal.Event
	var dirty uint32
	for i := range recs {
		r := &recs[i]
		before := *r
		var at int64
		if r.until != 0 && r.until <= now {
			at = max(at, r.until)
			r.until = 0
		}
		if r.holdUntil != 0 && r.holdUntil <= now {
			at = max(at, r.holdUntil)
			r.held, r.holdUntil = false, 0
		}
		if active := r.activeAt(now, !d.switches[i].Disabled); active != r.recorded {
			r.recorded = active
			name := NameExpired
			if at == 0 || active { // only running out or the configuration changes a state unseen
				at, name = now, NameConfigured
			}
			evs = append(evs, switchEvent(i+1, active, name, "", at))
		}
		if *r != before {
			dirty |= 1 << i
		}
	}
	slices.SortStableFunc(evs, func(a, b journal.Event) int { return a.Time.Compare(b.Time) })
	return evs, dirty
}

func switchEvent(id int, active bool, name, source string, at int64) journal.Event {
	return journal.Event{Kind: journal.Switch, Time: time.Unix(0, at).UTC(), Source: source, Name: name,
		Entity: EntitySwitch, Lock: id, Granted: active}
}

// switchRec is a switch's stored state. Times are unix nanoseconds, 0 for
// none. The effective state at a time is computed from it (activeAt).
type switchRec struct {
	latched   bool  // a bistable switch turned on, until turned off
	locked    bool  //
	held      bool  // until release, or until holdUntil
	recorded  bool  // the active state last written (and journaled)
	until     int64 // active until then (trigger, on, a timeout)
	holdUntil int64 // held until then, when held with a timeout
}

func (r *switchRec) heldAt(now int64) bool {
	return r.held && (r.holdUntil == 0 || now < r.holdUntil)
}

func (r *switchRec) activeAt(now int64, enabled bool) bool {
	return enabled && !r.locked && (r.heldAt(now) || r.latched || now < r.until)
}

func (r *switchRec) state(id int, now int64, enabled bool) SwitchState {
	s := SwitchState{Switch: id, Active: r.activeAt(now, enabled), Locked: r.locked, Held: r.heldAt(now)}
	if s.Held && r.holdUntil != 0 {
		s.HoldTimeout = (r.holdUntil - now + int64(time.Second) - 1) / int64(time.Second)
	}
	return s
}

// apply performs action on a settled record at now.
func (r *switchRec) apply(id int, action SwitchAction, sc SwitchConfig, now int64, timeout time.Duration) error {
	switch action {
	case ActionOn, ActionTrigger:
		if r.locked {
			return fmt.Errorf("%w: switch %d refuses %s", ErrSwitchLocked, id, action)
		}
		if r.held {
			return nil // held: active already, and it cannot be operated
		}
		switch {
		case action == ActionOn && timeout > 0:
			r.latched, r.until = false, now+int64(timeout)
		case sc.Mode == Monostable:
			r.latched, r.until = false, now+int64(sc.OnDuration)
		case action == ActionOn:
			r.latched, r.until = true, 0
		default: // trigger toggles a bistable switch
			r.latched, r.until = !r.activeAt(now, true), 0
		}
	case ActionOff:
		if r.held && !r.locked {
			return fmt.Errorf("%w: switch %d refuses off", ErrSwitchHeld, id)
		}
		r.latched, r.until = false, 0
	case ActionLock:
		r.locked, r.latched, r.until = true, false, 0
	case ActionUnlock:
		r.locked = false
	case ActionHold:
		r.held, r.holdUntil, r.latched, r.until = true, 0, false, 0
		if timeout > 0 {
			r.holdUntil = now + int64(timeout)
		}
	case ActionRelease:
		r.held, r.holdUntil = false, 0
	}
	return nil
}

// The stored form of a switchRec: a version byte, a flags byte, until and
// holdUntil as 8 bytes each, big-endian.
const (
	switchRecVersion = 1
	switchRecLen     = 18
	flagLatched      = 1 << 0
	flagLocked       = 1 << 1
	flagHeld         = 1 << 2
	flagRecorded     = 1 << 3
)

func (r *switchRec) encode() []byte {
	b := make([]byte, 2, switchRecLen)
	b[0] = switchRecVersion
	for _, f := range []struct {
		set  bool
		flag byte
	}{{r.latched, flagLatched}, {r.locked, flagLocked}, {r.held, flagHeld}, {r.recorded, flagRecorded}} {
		if f.set {
			b[1] |= f.flag
		}
	}
	b = binary.BigEndian.AppendUint64(b, uint64(r.until))
	return binary.BigEndian.AppendUint64(b, uint64(r.holdUntil))
}

func (r *switchRec) decode(b []byte) error {
	if len(b) != switchRecLen || b[0] != switchRecVersion || b[1]&^(flagLatched|flagLocked|flagHeld|flagRecorded) != 0 {
		return fmt.Errorf("%w: switch record %x", ErrCorrupt, b)
	}
	*r = switchRec{latched: b[1]&flagLatched != 0, locked: b[1]&flagLocked != 0, held: b[1]&flagHeld != 0,
		recorded: b[1]&flagRecorded != 0,
		until:    int64(binary.BigEndian.Uint64(b[2:])), holdUntil: int64(binary.BigEndian.Uint64(b[10:]))}
	return nil
}

// loadSwitches reads the records of the device's switches; a switch
// never written reads as the zero record (inactive). Records of switches
// the configuration no longer has are left alone.
func (d *Device) loadSwitches(tx store.Tx, recs *[MaxSwitches]switchRec) error {
	var key [2]byte
	for i := range d.switches {
		binary.BigEndian.PutUint16(key[:], uint16(i+1))
		v, err := tx.Get(bucketSwitches, key[:])
		switch {
		case errors.Is(err, store.ErrNotFound):
			recs[i] = switchRec{}
		case err != nil:
			return err
		default:
			if err := recs[i].decode(v); err != nil {
				return fmt.Errorf("switch %d: %w", i+1, err)
			}
		}
	}
	return nil
}

// writeSwitches writes the records whose bit is set in dirty.
func (d *Device) writeSwitches(tx store.Tx, recs []switchRec, dirty uint32) error {
	for i := range recs {
		if dirty&(1<<i) == 0 {
			continue
		}
		if err := tx.Put(bucketSwitches, idKey(i+1), recs[i].encode()); err != nil {
			return err
		}
	}
	return nil
}
