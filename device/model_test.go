package device_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store/memory"
)

// The reference model of the switches: plain state and a clock, written
// from the rules of the package doc without the store, the encoding or
// the journal. TestSwitchModel runs seeded random sequences of control,
// status, clock and settle operations against a Device and the model and
// compares them step by step, and their journals at the end.

type modelSwitch struct {
	cfg     device.SwitchConfig
	locked  bool
	held    bool
	holdEnd time.Time // zero: held without a timeout
	latched bool      // bistable on
	onEnd   time.Time // active before then; zero: none
	shown   bool      // the active state last journaled
}

type modelEvent struct {
	Entity string
	Name   string
	Source string
	ID     int
	On     bool
	At     time.Time
}

func (e modelEvent) String() string {
	return fmt.Sprintf("%s %d %s on=%v src=%q at +%v", e.Entity, e.ID, e.Name, e.On, e.Source, e.At.Sub(start))
}

type model struct {
	now     time.Time
	sw      []modelSwitch
	blocked [device.AccessPoints]bool
	events  []modelEvent
}

func (m *model) heldNow(s *modelSwitch) bool {
	return s.held && (s.holdEnd.IsZero() || m.now.Before(s.holdEnd))
}

func (m *model) activeNow(s *modelSwitch) bool {
	if s.cfg.Disabled || s.locked {
		return false
	}
	return m.heldNow(s) || s.latched || (!s.onEnd.IsZero() && m.now.Before(s.onEnd))
}

func (m *model) status(id int) device.SwitchState {
	s := &m.sw[id-1]
	st := device.SwitchState{Switch: id, Active: m.activeNow(s), Locked: s.locked, Held: m.heldNow(s)}
	if st.Held && !s.holdEnd.IsZero() {
		left := s.holdEnd.Sub(m.now)
		st.HoldTimeout = int64((left + time.Second - 1) / time.Second)
	}
	return st
}

// settle returns the events of switches that went inactive by themselves,
// oldest first, and forgets what ran out.
func (m *model) settle(sw []modelSwitch) []modelEvent {
	var evs []modelEvent
	for i := range sw {
		s := &sw[i]
		var at time.Time
		if !s.onEnd.IsZero() && !m.now.Before(s.onEnd) {
			at, s.onEnd = s.onEnd, time.Time{}
		}
		if s.held && !s.holdEnd.IsZero() && !m.now.Before(s.holdEnd) {
			if s.holdEnd.After(at) {
				at = s.holdEnd
			}
			s.held, s.holdEnd = false, time.Time{}
		}
		if on := m.activeNow(s); on != s.shown {
			s.shown = on
			evs = append(evs, modelEvent{device.EntitySwitch, device.NameExpired, "", i + 1, on, at})
		}
	}
	slices.SortStableFunc(evs, func(a, b modelEvent) int { return a.At.Compare(b.At) })
	return evs
}

func (m *model) control(id int, action device.SwitchAction, timeout time.Duration, timed bool, source string) error {
	switch {
	case id < 1 || id > len(m.sw):
		return device.ErrInvalidSwitch
	case !slices.Contains(device.SwitchActions(), action):
		return device.ErrInvalidAction
	case timed && (timeout < time.Second || timeout > 24*time.Hour || timeout%time.Second != 0):
		return device.ErrInvalidTimeout
	case m.sw[id-1].cfg.Disabled:
		return device.ErrSwitchDisabled
	}
	sw := slices.Clone(m.sw) // a transaction: dropped on error
	evs := m.settle(sw)
	s := &sw[id-1]
	switch action {
	case device.ActionOn, device.ActionTrigger:
		if s.locked {
			return device.ErrSwitchLocked
		}
		if s.held {
			break
		}
		bistable := s.cfg.Mode == device.Bistable
		switch {
		case action == device.ActionOn && timeout > 0:
			s.latched, s.onEnd = false, m.now.Add(timeout)
		case !bistable:
			s.latched, s.onEnd = false, m.now.Add(cmp.Or(s.cfg.OnDuration, 5*time.Second))
		case action == device.ActionOn:
			s.latched, s.onEnd = true, time.Time{}
		default:
			s.latched, s.onEnd = !m.activeNow(s), time.Time{}
		}
	case device.ActionOff:
		if s.held && !s.locked {
			return device.ErrSwitchHeld
		}
		s.latched, s.onEnd = false, time.Time{}
	case device.ActionLock:
		s.locked, s.latched, s.onEnd = true, false, time.Time{}
	case device.ActionUnlock:
		s.locked = false
	case device.ActionHold:
		s.held, s.holdEnd, s.latched, s.onEnd = true, time.Time{}, false, time.Time{}
		if timeout > 0 {
			s.holdEnd = m.now.Add(timeout)
		}
	case device.ActionRelease:
		s.held, s.holdEnd = false, time.Time{}
	}
	if on := m.activeNow(s); on != s.shown {
		s.shown = on
		evs = append(evs, modelEvent{device.EntitySwitch, string(action), source, id, on, m.now})
	}
	m.sw = sw
	m.events = append(m.events, evs...)
	return nil
}

func (m *model) block(id int, blocked bool, source string) error {
	if id < 0 || id >= device.AccessPoints {
		return device.ErrInvalidAccessPoint
	}
	if m.blocked[id] == blocked {
		return nil
	}
	m.events = append(m.events, m.settle(m.sw)...)
	m.blocked[id] = blocked
	name := device.NameUnblock
	if blocked {
		name = device.NameBlock
	}
	m.events = append(m.events, modelEvent{device.EntityAccessPoint, name, source, id, blocked, m.now})
	return nil
}

// nextDeadline is the nearest time after now at which some switch changes
// by itself, or zero.
func (m *model) nextDeadline() time.Time {
	var next time.Time
	for _, s := range m.sw {
		for _, t := range []time.Time{s.onEnd, s.holdEnd} {
			if t.After(m.now) && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	}
	return next
}

func randomConfig(r *rand.Rand) ([]device.Option, []modelSwitch) {
	n := 1 + r.IntN(4)
	opts := []device.Option{device.WithSwitches(n)}
	sw := make([]modelSwitch, n)
	for i := range sw {
		var c device.SwitchConfig
		if r.IntN(2) == 0 {
			c.Mode = device.Bistable
		}
		if r.IntN(3) == 0 {
			c.OnDuration = time.Duration(1+r.IntN(10)) * time.Second
		}
		c.Disabled = r.IntN(8) == 0
		if r.IntN(5) == 0 {
			c.Type = device.SwitchSecurity
		}
		opts = append(opts, device.WithSwitch(i+1, c))
		sw[i].cfg = c
	}
	return opts, sw
}

var modelActions = append(device.SwitchActions(), "toggle", "", "ON")

var modelTimeouts = []time.Duration{0, time.Second, 2 * time.Second, 1500 * time.Millisecond, 3 * time.Second,
	7 * time.Second, 24 * time.Hour, 24*time.Hour + time.Second, -time.Second}

func TestSwitchModel(t *testing.T) {
	sequences, steps := 3000, 60
	if testing.Short() {
		sequences = 300
	}
	for seed := range uint64(sequences) {
		if err := runModel(seed, steps); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// runModel runs one seeded sequence and returns the first difference, with
// the operations that led to it.
func runModel(seed uint64, steps int) (err error) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	j, err := journal.Open(ctx, st, journal.Options{})
	if err != nil {
		return err
	}
	defer j.Close(ctx)
	c := newClock()
	opts, sw := randomConfig(r)
	d, err := device.Open(ctx, st, append(opts, device.WithClock(c.Now), device.WithJournal(j))...)
	if err != nil {
		return err
	}
	m := &model{now: start, sw: sw}
	var log []string
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\nafter:\n  %s", err, strings.Join(log, "\n  "))
		}
	}()
	same := func(op string, got, want error) error {
		if (got == nil) != (want == nil) || (want != nil && !errors.Is(got, want)) {
			return fmt.Errorf("%s: error %v, the model says %v", op, got, want)
		}
		return nil
	}
	for range steps {
		switch k := r.IntN(100); {
		case k < 40:
			id := r.IntN(len(m.sw)+2) + cmp.Or(r.IntN(20)/19*-3, 0) // now and then a negative id
			action := modelActions[r.IntN(len(modelActions))]
			source := fmt.Sprintf("src%d", r.IntN(3))
			cctx := journal.WithSource(ctx, source)
			var timeout time.Duration
			timed := r.IntN(4) == 0
			var got error
			if timed {
				timeout = modelTimeouts[r.IntN(len(modelTimeouts))]
				got = d.ControlSwitchTimeout(cctx, id, action, timeout)
			} else {
				got = d.ControlSwitch(cctx, id, action)
			}
			op := fmt.Sprintf("ctrl switch=%d action=%q timeout=%v timed=%v", id, action, timeout, timed)
			log = append(log, op)
			if err := same(op, got, m.control(id, action, timeout, timed, source)); err != nil {
				return err
			}
		case k < 60:
			log = append(log, "status")
			var only []int
			if r.IntN(3) == 0 {
				only = []int{1 + r.IntN(len(m.sw)+1)}
			}
			got, gerr := d.SwitchStatus(ctx, only...)
			want := device.SwitchStatus{}
			var werr error
			ids := only
			if len(ids) == 0 {
				for id := range m.sw {
					ids = append(ids, id+1)
				}
			}
			for _, id := range ids {
				if id > len(m.sw) {
					werr = device.ErrInvalidSwitch
					break
				}
				want.Switches = append(want.Switches, m.status(id))
			}
			if err := same("status", gerr, werr); err != nil {
				return err
			}
			if werr == nil && !slices.Equal(got.Switches, want.Switches) {
				return fmt.Errorf("status at +%v:\n  got  %+v\n  want %+v", m.now.Sub(start), got.Switches, want.Switches)
			}
			io, err := d.IOStatus(ctx)
			if err != nil {
				return err
			}
			for _, p := range io.Ports {
				want := 0
				if n, ok := strings.CutPrefix(p.Port, "relay"); ok && m.activeNow(&m.sw[int(n[0]-'1')]) {
					want = 1
				}
				if p.State != want {
					return fmt.Errorf("io status at +%v: %s is %d, the model says %d", m.now.Sub(start), p.Port, p.State, want)
				}
			}
		case k < 88:
			var step time.Duration
			switch r.IntN(6) {
			case 0:
				step = 0
			case 1:
				step = time.Nanosecond
			case 2, 3:
				if next := m.nextDeadline(); !next.IsZero() {
					step = next.Sub(m.now) - time.Duration(r.IntN(2)) // at the deadline, or just before
				}
			case 4:
				step = time.Duration(r.IntN(3000)) * time.Millisecond
			default:
				step = time.Duration(r.IntN(12)) * time.Second
			}
			log = append(log, fmt.Sprintf("advance %v", step))
			c.Advance(step)
			m.now = m.now.Add(step)
		case k < 95:
			log = append(log, "settle")
			if err := d.Settle(ctx); err != nil {
				return err
			}
			m.events = append(m.events, m.settle(m.sw)...)
		default:
			id, blocked := r.IntN(device.AccessPoints+1), r.IntN(2) == 0
			op := fmt.Sprintf("block ap=%d blocked=%v", id, blocked)
			log = append(log, op)
			cctx := journal.WithSource(ctx, "admin")
			if err := same(op, d.BlockAccessPoint(cctx, id, blocked), m.block(id, blocked, "admin")); err != nil {
				return err
			}
		}
	}
	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	if err != nil {
		return err
	}
	got := make([]modelEvent, len(evs))
	for i, e := range evs {
		if e.Kind != journal.Switch {
			return fmt.Errorf("event %d: kind %q", i, e.Kind)
		}
		got[i] = modelEvent{e.Entity, e.Name, e.Source, e.Lock, e.Granted, e.Time}
	}
	if !slices.EqualFunc(got, m.events, func(a, b modelEvent) bool { a.At, b.At = a.At.UTC(), b.At.UTC(); return a == b }) {
		return fmt.Errorf("journal:\n  got  %v\n  want %v", got, m.events)
	}
	return nil
}
