package device_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

// start is the fake clock's first reading.
var start = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// clock is a fake clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: start} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// open opens a Device on a new memory store with a fake clock and a
// journal.
func open(t testing.TB, opts ...device.Option) (*device.Device, *clock, *journal.Journal, store.Store) {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	j, err := journal.Open(ctx, st, journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(ctx) })
	c := newClock()
	d, err := device.Open(ctx, st, append([]device.Option{device.WithClock(c.Now), device.WithJournal(j)}, opts...)...)
	require.NoError(t, err)
	return d, c, j, st
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestWireNames pins every wire name and number of the package.
func TestWireNames(t *testing.T) {
	assert.Equal(t, []device.FirmwarePackage{"vario", "style", "base", "uni", "verso", "accessunit", "ipone", "videokit", "audiokit"},
		device.FirmwarePackages())
	assert.Equal(t, []device.SwitchAction{"on", "off", "trigger", "lock", "unlock", "hold", "release"}, device.SwitchActions())
	for got, want := range map[string]string{
		string(device.Monostable): "monostable", string(device.Bistable): "bistable",
		string(device.SwitchNormal): "normal", string(device.SwitchSecurity): "security",
		string(device.PortInput): "input", string(device.PortOutput): "output",
		device.PortInput1: "input1", device.PortInput2: "input2", device.PortRelay1: "relay1", device.PortRelay2: "relay2",
		device.EntitySwitch: "switch", device.EntityAccessPoint: "accesspoint",
		device.NameExpired: "expired", device.NameConfigured: "configured", device.NameBlock: "block", device.NameUnblock: "unblock",
	} {
		assert.Equal(t, want, got)
	}
	assert.Equal(t, 0, device.AccessPointEntry)
	assert.Equal(t, 1, device.AccessPointExit)
	assert.Equal(t, 2, device.AccessPoints)
	assert.Equal(t, 4, device.DefaultSwitches)
	assert.Equal(t, 5*time.Second, device.DefaultSwitchOnDuration)
	assert.Equal(t, 86_400*time.Second, device.MaxTimeout)
	assert.Equal(t, 365, device.MaxHolidays)
}

func TestInfoJSON(t *testing.T) {
	assert.JSONEq(t, `{"variant":"Lintel Virtual Intercom","serialNumber":"00-0000-0000","hwVersion":"570v1",
		"swVersion":"2.46.0.0.0","buildType":"release","deviceName":"Lintel","macAddr":"02-00-00-00-00-01","firmwarePackage":"verso"}`,
		jsonOf(t, device.DefaultInfo()))
	zero, fourteen := 0, 14
	i := device.DefaultInfo()
	i.DevType, i.VariantID, i.CustomerID = "2-14-0-0", &fourteen, &zero
	assert.JSONEq(t, `{"variant":"Lintel Virtual Intercom","serialNumber":"00-0000-0000","hwVersion":"570v1",
		"swVersion":"2.46.0.0.0","buildType":"release","deviceName":"Lintel","macAddr":"02-00-00-00-00-01","firmwarePackage":"verso",
		"devType":"2-14-0-0","variantId":14,"customerId":0}`, jsonOf(t, i))

	d, _, _, _ := open(t, device.WithInfo(i))
	got := d.Info()
	*got.VariantID = 99 // a copy
	assert.Equal(t, 14, *d.Info().VariantID)
}

func TestInfoValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*device.Info)
		want string // in the message
	}{
		{"deviceName", func(i *device.Info) { i.DeviceName = "" }, "deviceName is empty"},
		{"variant", func(i *device.Info) { i.Variant = "" }, "variant is empty"},
		{"serialNumber", func(i *device.Info) { i.SerialNumber = "" }, "serialNumber is empty"},
		{"macAddr empty", func(i *device.Info) { i.MacAddr = "" }, "macAddr is empty"},
		{"macAddr colons", func(i *device.Info) { i.MacAddr = "7C:1E:B3:00:00:05" }, `macAddr "7C:1E:B3:00:00:05" is not XX-XX-XX-XX-XX-XX`},
		{"macAddr not hex", func(i *device.Info) { i.MacAddr = "7C-1E-B3-00-00-0G" }, "is not XX-XX-XX-XX-XX-XX"},
		{"swVersion", func(i *device.Info) { i.SwVersion = "" }, "swVersion is empty"},
		{"buildType", func(i *device.Info) { i.BuildType = "" }, "buildType is empty"},
		{"hwVersion", func(i *device.Info) { i.HwVersion = "" }, "hwVersion is empty"},
		{"firmwarePackage", func(i *device.Info) { i.FirmwarePackage = "helios" }, `firmwarePackage "helios" is not one of`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := device.DefaultInfo()
			tc.edit(&i)
			err := i.Validate()
			require.ErrorIs(t, err, device.ErrInvalidInfo)
			assert.Contains(t, err.Error(), tc.want)
			_, err = device.Open(context.Background(), memory.New(), device.WithInfo(i))
			require.ErrorIs(t, err, device.ErrInvalidInfo)
		})
	}
	for _, p := range device.FirmwarePackages() {
		i := device.DefaultInfo()
		i.FirmwarePackage = p
		require.NoError(t, i.Validate())
	}
	err := device.Info{}.Validate()
	assert.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 8, "every problem is reported")
}

func TestOpenConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []device.Option
	}{
		{"no switches", []device.Option{device.WithSwitches(0)}},
		{"too many switches", []device.Option{device.WithSwitches(device.MaxSwitches + 1)}},
		{"switch out of range", []device.Option{device.WithSwitches(2), device.WithSwitch(3, device.SwitchConfig{})}},
		{"switch 0", []device.Option{device.WithSwitch(0, device.SwitchConfig{})}},
		{"mode", []device.Option{device.WithSwitch(1, device.SwitchConfig{Mode: "astable"})}},
		{"type", []device.Option{device.WithSwitch(1, device.SwitchConfig{Type: "secure"})}},
		{"duration fraction", []device.Option{device.WithSwitch(1, device.SwitchConfig{OnDuration: 1500 * time.Millisecond})}},
		{"duration negative", []device.Option{device.WithSwitch(1, device.SwitchConfig{OnDuration: -time.Second})}},
		{"duration too long", []device.Option{device.WithSwitch(1, device.SwitchConfig{OnDuration: device.MaxTimeout + time.Second})}},
		{"nil clock", []device.Option{device.WithClock(nil)}},
		{"nil location", []device.Option{device.WithLocation(nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := device.Open(context.Background(), memory.New(), tc.opts...)
			require.ErrorIs(t, err, device.ErrInvalidConfig)
		})
	}
}

// TestErrors has one case per documented error of a call.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	d, _, _, _ := open(t, device.WithSwitches(3), device.WithSwitch(3, device.SwitchConfig{Disabled: true}))
	require.NoError(t, d.ControlSwitch(ctx, 1, device.ActionLock))
	require.NoError(t, d.ControlSwitch(ctx, 2, device.ActionHold))
	for _, tc := range []struct {
		name string
		call func() error
		want error
		msg  string
	}{
		{"ctrl switch 0", func() error { return d.ControlSwitch(ctx, 0, device.ActionOn) }, device.ErrInvalidSwitch, "0 (the device has switches 1 to 3)"},
		{"ctrl switch 4", func() error { return d.ControlSwitch(ctx, 4, device.ActionOn) }, device.ErrInvalidSwitch, "4"},
		{"ctrl action", func() error { return d.ControlSwitch(ctx, 1, "toggle") }, device.ErrInvalidAction, `"toggle"`},
		{"ctrl action empty", func() error { return d.ControlSwitch(ctx, 1, "") }, device.ErrInvalidAction, `""`},
		{"ctrl action case", func() error { return d.ControlSwitch(ctx, 1, "ON") }, device.ErrInvalidAction, `"ON"`},
		{"bad switch before bad action", func() error { return d.ControlSwitch(ctx, 9, "toggle") }, device.ErrInvalidSwitch, "9"},
		{"timeout 0", func() error { return d.ControlSwitchTimeout(ctx, 2, device.ActionHold, 0) }, device.ErrInvalidTimeout, "0s"},
		{"timeout fraction", func() error { return d.ControlSwitchTimeout(ctx, 2, device.ActionHold, 1500*time.Millisecond) }, device.ErrInvalidTimeout, "1.5s"},
		{"timeout too long", func() error { return d.ControlSwitchTimeout(ctx, 2, device.ActionOn, 86_401*time.Second) }, device.ErrInvalidTimeout, "24h0m1s"},
		{"disabled", func() error { return d.ControlSwitch(ctx, 3, device.ActionOff) }, device.ErrSwitchDisabled, "switch 3"},
		{"locked on", func() error { return d.ControlSwitch(ctx, 1, device.ActionOn) }, device.ErrSwitchLocked, "switch 1 refuses on"},
		{"locked trigger", func() error { return d.ControlSwitch(ctx, 1, device.ActionTrigger) }, device.ErrSwitchLocked, "refuses trigger"},
		{"held off", func() error { return d.ControlSwitch(ctx, 2, device.ActionOff) }, device.ErrSwitchHeld, "switch 2 refuses off"},
		{"caps switch", func() error { _, err := d.SwitchCaps(1, 4); return err }, device.ErrInvalidSwitch, "4"},
		{"status switch", func() error { _, err := d.SwitchStatus(ctx, -1); return err }, device.ErrInvalidSwitch, "-1"},
		{"io caps port", func() error { _, err := d.IOCaps("relay3"); return err }, device.ErrInvalidPort, `"relay3"`},
		{"io status port", func() error { _, err := d.IOStatus(ctx, "input1", "Input2"); return err }, device.ErrInvalidPort, `"Input2"`},
		{"block ap 2", func() error { return d.BlockAccessPoint(ctx, 2, true) }, device.ErrInvalidAccessPoint, "2 (0 for entry, 1 for exit)"},
		{"block ap -1", func() error { return d.BlockAccessPoint(ctx, -1, false) }, device.ErrInvalidAccessPoint, "-1"},
		{"ap status", func() error { _, err := d.AccessPointStatus(ctx, 0, 2); return err }, device.ErrInvalidAccessPoint, "2"},
		{"holiday date", func() error { return d.SetHolidays(ctx, []string{"01/01", "31/04"}) }, device.ErrInvalidDate, `dates[1] "31/04": day 31 is not in April (1 to 30)`},
		{"holidays too many", func() error { return d.SetHolidays(ctx, make([]string, device.MaxHolidays+1)) }, device.ErrTooManyDates, "366 dates, at most 365"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	// Nothing of a refused call was written.
	st, err := d.SwitchStatus(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"switches":[{"switch":1,"active":false,"locked":true,"held":false},
		{"switch":2,"active":true,"locked":false,"held":true},{"switch":3,"active":false,"locked":false,"held":false}]}`, jsonOf(t, st))
	h, err := d.Holidays(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{}, h.Dates)
	var de *device.DateError
	require.ErrorAs(t, d.SetHolidays(ctx, []string{"01/01", "31/04"}), &de)
	assert.Equal(t, device.DateError{Index: 1, Date: "31/04", Reason: "day 31 is not in April (1 to 30)"}, *de)
}

func TestCaps(t *testing.T) {
	d, _, _, _ := open(t,
		device.WithSwitch(2, device.SwitchConfig{Mode: device.Bistable, Type: device.SwitchSecurity}),
		device.WithSwitch(3, device.SwitchConfig{OnDuration: 12 * time.Second}),
		device.WithSwitch(4, device.SwitchConfig{Disabled: true, Mode: device.Bistable}))
	caps, err := d.SwitchCaps()
	require.NoError(t, err)
	// 2N's example: a disabled switch shows only switch and enabled.
	assert.JSONEq(t, `{"switches":[
		{"switch":1,"enabled":true,"mode":"monostable","switchOnDuration":5,"type":"normal"},
		{"switch":2,"enabled":true,"mode":"bistable","type":"security"},
		{"switch":3,"enabled":true,"mode":"monostable","switchOnDuration":12,"type":"normal"},
		{"switch":4,"enabled":false}]}`, jsonOf(t, caps))
	caps, err = d.SwitchCaps(3)
	require.NoError(t, err)
	assert.JSONEq(t, `{"switches":[{"switch":3,"enabled":true,"mode":"monostable","switchOnDuration":12,"type":"normal"}]}`, jsonOf(t, caps))

	io, err := d.IOCaps()
	require.NoError(t, err)
	assert.JSONEq(t, `{"ports":[{"port":"input1","type":"input"},{"port":"input2","type":"input"},
		{"port":"relay1","type":"output"},{"port":"relay2","type":"output"}]}`, jsonOf(t, io))
	io, err = d.IOCaps(device.PortRelay1)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ports":[{"port":"relay1","type":"output"}]}`, jsonOf(t, io))

	one, _, _, _ := open(t, device.WithSwitches(1))
	io, err = one.IOCaps()
	require.NoError(t, err)
	assert.Len(t, io.Ports, 3, "one switch, one relay")
}

func TestSwitchesAndRelays(t *testing.T) {
	ctx := context.Background()
	d, c, _, _ := open(t, device.WithSwitch(2, device.SwitchConfig{Mode: device.Bistable}))
	require.NoError(t, d.ControlSwitch(ctx, 1, device.ActionTrigger))
	require.NoError(t, d.ControlSwitch(ctx, 2, device.ActionTrigger))
	st, err := d.SwitchStatus(ctx, 1, 2)
	require.NoError(t, err)
	assert.JSONEq(t, `{"switches":[{"switch":1,"active":true,"locked":false,"held":false},
		{"switch":2,"active":true,"locked":false,"held":false}]}`, jsonOf(t, st))
	io, err := d.IOStatus(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ports":[{"port":"input1","state":0},{"port":"input2","state":0},
		{"port":"relay1","state":1},{"port":"relay2","state":1}]}`, jsonOf(t, io))

	c.Advance(5*time.Second - 1)
	st, err = d.SwitchStatus(ctx, 1)
	require.NoError(t, err)
	assert.True(t, st.Switches[0].Active, "active until the switch-on duration has passed")
	c.Advance(1)
	st, err = d.SwitchStatus(ctx, 1)
	require.NoError(t, err)
	assert.False(t, st.Switches[0].Active, "inactive when it has")
	io, err = d.IOStatus(ctx, device.PortRelay2, device.PortRelay1)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ports":[{"port":"relay2","state":1},{"port":"relay1","state":0}]}`, jsonOf(t, io))

	// A timed hold shows the rest of its timeout, rounded up.
	require.NoError(t, d.ControlSwitchTimeout(ctx, 3, device.ActionHold, 10*time.Second))
	c.Advance(2500 * time.Millisecond)
	st, err = d.SwitchStatus(ctx, 3)
	require.NoError(t, err)
	assert.JSONEq(t, `{"switches":[{"switch":3,"active":true,"locked":false,"held":true,"holdTimeout":8}]}`, jsonOf(t, st))
	c.Advance(7500 * time.Millisecond)
	st, err = d.SwitchStatus(ctx, 3)
	require.NoError(t, err)
	assert.JSONEq(t, `{"switches":[{"switch":3,"active":false,"locked":false,"held":false}]}`, jsonOf(t, st))
}

func TestSystemStatus(t *testing.T) {
	d, c, _, _ := open(t)
	assert.Equal(t, device.Status{SystemTime: start.Unix(), UpTime: 0}, d.Status())
	c.Advance(190_524*time.Second + 900*time.Millisecond)
	assert.JSONEq(t, `{"systemTime":1772628924,"upTime":190524}`, jsonOf(t, d.Status()))
}

func TestAccessPoints(t *testing.T) {
	ctx := journal.WithSource(context.Background(), "admin")
	d, c, j, _ := open(t)
	st, err := d.AccessPointStatus(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"accessPoints":[{"id":0,"blocked":false},{"id":1,"blocked":false}]}`, jsonOf(t, st))
	require.NoError(t, d.BlockAccessPoint(ctx, device.AccessPointEntry, true))
	require.NoError(t, d.BlockAccessPoint(ctx, device.AccessPointEntry, true)) // no change, no event
	c.Advance(time.Minute)
	require.NoError(t, d.BlockAccessPoint(ctx, device.AccessPointExit, true))
	require.NoError(t, d.BlockAccessPoint(ctx, device.AccessPointEntry, false))
	st, err = d.AccessPointStatus(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"accessPoints":[{"id":0,"blocked":false},{"id":1,"blocked":true}]}`, jsonOf(t, st))
	st, err = d.AccessPointStatus(ctx, 1)
	require.NoError(t, err)
	assert.JSONEq(t, `{"accessPoints":[{"id":1,"blocked":true}]}`, jsonOf(t, st))

	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	for i, want := range []struct {
		name    string
		id      int
		blocked bool
		at      time.Time
	}{{device.NameBlock, 0, true, start}, {device.NameBlock, 1, true, start.Add(time.Minute)}, {device.NameUnblock, 0, false, start.Add(time.Minute)}} {
		ev := evs[i]
		assert.Equal(t, journal.Switch, ev.Kind)
		assert.Equal(t, device.EntityAccessPoint, ev.Entity)
		assert.Equal(t, "admin", ev.Source)
		assert.Equal(t, want.name, ev.Name)
		assert.Equal(t, want.id, ev.Lock)
		assert.Equal(t, want.blocked, ev.Granted)
		assert.True(t, want.at.Equal(ev.Time), "%v", ev.Time)
	}
}

func TestJournaledSwitchEvents(t *testing.T) {
	ctx := journal.WithSource(context.Background(), "api")
	d, c, j, _ := open(t, device.WithSwitch(2, device.SwitchConfig{Mode: device.Bistable}))
	require.NoError(t, d.ControlSwitch(ctx, 1, device.ActionTrigger)) // on until +5s
	c.Advance(2 * time.Second)
	require.NoError(t, d.ControlSwitch(ctx, 1, device.ActionTrigger)) // retrigger: on until +7s, no event
	require.NoError(t, d.ControlSwitch(ctx, 2, device.ActionOn))
	require.NoError(t, d.ControlSwitch(ctx, 2, device.ActionOn)) // no change, no event
	c.Advance(10 * time.Second)
	require.NoError(t, d.Settle(ctx))                              // switch 1 expired at +7s
	require.NoError(t, d.Settle(ctx))                              // nothing due
	require.NoError(t, d.ControlSwitch(ctx, 2, device.ActionLock)) // off by lock
	require.NoError(t, d.ControlSwitch(ctx, 2, device.ActionOff))  // locked is off: no event
	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	type ev struct {
		Name   string
		Source string
		Lock   int
		Active bool
		At     time.Duration
	}
	var got []ev
	for _, e := range evs {
		require.Equal(t, journal.Switch, e.Kind)
		require.Equal(t, device.EntitySwitch, e.Entity)
		got = append(got, ev{e.Name, e.Source, e.Lock, e.Granted, e.Time.Sub(start)})
	}
	assert.Equal(t, []ev{
		{"trigger", "api", 1, true, 0},
		{"on", "api", 2, true, 2 * time.Second},
		{device.NameExpired, "", 1, false, 7 * time.Second},
		{"lock", "api", 2, false, 12 * time.Second},
	}, got)
}

func TestExpiryIsJournaledByTheNextWrite(t *testing.T) {
	ctx := context.Background()
	d, c, j, _ := open(t)
	require.NoError(t, d.ControlSwitch(ctx, 1, device.ActionOn))                         // until +5s
	require.NoError(t, d.ControlSwitchTimeout(ctx, 2, device.ActionHold, 3*time.Second)) // until +3s
	c.Advance(time.Hour)
	require.NoError(t, d.BlockAccessPoint(ctx, 0, true))
	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	require.Len(t, evs, 5)
	// Oldest first, whatever the switches' order.
	assert.Equal(t, []int{1, 2, 2, 1, 0}, []int{evs[0].Lock, evs[1].Lock, evs[2].Lock, evs[3].Lock, evs[4].Lock})
	assert.Equal(t, []string{"on", "hold", device.NameExpired, device.NameExpired, device.NameBlock},
		[]string{evs[0].Name, evs[1].Name, evs[2].Name, evs[3].Name, evs[4].Name})
	assert.Equal(t, []time.Duration{0, 0, 3 * time.Second, 5 * time.Second, time.Hour},
		[]time.Duration{evs[0].Time.Sub(start), evs[1].Time.Sub(start), evs[2].Time.Sub(start), evs[3].Time.Sub(start), evs[4].Time.Sub(start)})
}

func TestReconfiguredSwitches(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	j, err := journal.Open(ctx, st, journal.Options{})
	require.NoError(t, err)
	defer j.Close(ctx)
	c := newClock()
	bistable := device.WithSwitch(2, device.SwitchConfig{Mode: device.Bistable})
	d, err := device.Open(ctx, st, device.WithClock(c.Now), device.WithJournal(j), bistable)
	require.NoError(t, err)
	require.NoError(t, d.ControlSwitch(ctx, 2, device.ActionOn))

	// The same store with switch 2 disabled: it reads inactive, and the
	// next settle records that.
	d, err = device.Open(ctx, st, device.WithClock(c.Now), device.WithJournal(j),
		device.WithSwitch(2, device.SwitchConfig{Mode: device.Bistable, Disabled: true}))
	require.NoError(t, err)
	s, err := d.SwitchStatus(ctx, 2)
	require.NoError(t, err)
	assert.False(t, s.Switches[0].Active)
	require.NoError(t, d.Settle(ctx))

	// Enabled again: the switch was on, and is again.
	d, err = device.Open(ctx, st, device.WithClock(c.Now), device.WithJournal(j), bistable)
	require.NoError(t, err)
	require.NoError(t, d.Settle(ctx))
	s, err = d.SwitchStatus(ctx, 2)
	require.NoError(t, err)
	assert.True(t, s.Switches[0].Active)

	// Fewer switches: the others' records are ignored.
	d, err = device.Open(ctx, st, device.WithClock(c.Now), device.WithSwitches(1))
	require.NoError(t, err)
	s, err = d.SwitchStatus(ctx)
	require.NoError(t, err)
	assert.Len(t, s.Switches, 1)

	evs, err := j.Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	assert.Equal(t, []string{"on", device.NameConfigured, device.NameConfigured}, []string{evs[0].Name, evs[1].Name, evs[2].Name})
	assert.Equal(t, []bool{true, false, true}, []bool{evs[0].Granted, evs[1].Granted, evs[2].Granted})
}

func TestCorruptRecords(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		bucket string
		key    []byte
		value  []byte
		call   func(*device.Device) error
	}{
		{"switch record", "device.switches", []byte{0, 1}, []byte{1, 0}, func(d *device.Device) error { _, err := d.SwitchStatus(ctx); return err }},
		{"switch flags", "device.switches", []byte{0, 1}, append([]byte{1, 0x80}, make([]byte, 16)...), func(d *device.Device) error { return d.ControlSwitch(ctx, 1, device.ActionOn) }},
		{"switch version", "device.switches", []byte{0, 2}, make([]byte, 18), func(d *device.Device) error { _, err := d.IOStatus(ctx); return err }},
		{"access point", "device.accesspoints", []byte{0, 0}, []byte{7}, func(d *device.Device) error { _, err := d.AccessPointStatus(ctx); return err }},
		{"access point ctrl", "device.accesspoints", []byte{0, 1}, []byte{}, func(d *device.Device) error { return d.BlockAccessPoint(ctx, 1, true) }},
		{"holidays", "device.holidays", []byte("dates"), []byte("01/01,32/01"), func(d *device.Device) error { _, err := d.Holidays(ctx); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _, _, st := open(t)
			require.NoError(t, st.Update(ctx, func(tx store.Tx) error {
				if err := store.PutUint64(tx, []byte("device.meta"), []byte("holidays"), 7); err != nil {
					return err
				}
				return tx.Put([]byte(tc.bucket), tc.key, tc.value)
			}))
			assert.ErrorIs(t, tc.call(d), device.ErrCorrupt)
		})
	}
	st := memory.New()
	require.NoError(t, st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateBucketIfNotExists([]byte("device.meta")); err != nil {
			return err
		}
		return store.PutUint64(tx, []byte("device.meta"), []byte("layout"), 2)
	}))
	_, err := device.Open(ctx, st)
	assert.ErrorIs(t, err, device.ErrCorrupt, "a layout from a newer version")
}

func TestCancelledContext(t *testing.T) {
	d, _, _, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range []error{
		d.ControlSwitch(ctx, 1, device.ActionOn),
		d.BlockAccessPoint(ctx, 0, true),
		d.SetHolidays(ctx, nil),
		d.Settle(ctx),
		d.Refresh(ctx),
		func() error { _, err := d.SwitchStatus(ctx); return err }(),
		func() error { _, err := d.IOStatus(ctx); return err }(),
		func() error { _, err := d.AccessPointStatus(ctx); return err }(),
		func() error { _, err := d.Holidays(ctx); return err }(),
	} {
		assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	}
}
