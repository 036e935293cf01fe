package device_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store/memory"
)

// TestConcurrentServers runs two Devices on one store, as two servers on
// one database, each with its own journal, and many goroutines on each:
// no update is lost, every change is journaled once, and both read the
// same state.
func TestConcurrentServers(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	var devices [2]*device.Device
	var journals [2]*journal.Journal
	for i := range devices {
		j, err := journal.Open(ctx, st, journal.Options{})
		require.NoError(t, err)
		defer j.Close(ctx)
		journals[i] = j
		devices[i], err = device.Open(ctx, st, device.WithJournal(j), device.WithSwitch(1, device.SwitchConfig{Mode: device.Bistable}))
		require.NoError(t, err)
	}
	const workers, rounds = 8, 50
	lists := [][]string{{"01/01", "24/12"}, {"25/12/2026"}, {}, {"01/05", "08/05", "01/01/2027"}}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range workers {
		d := devices[w%2]
		wg.Go(func() {
			for r := range rounds {
				cctx := journal.WithSource(ctx, fmt.Sprintf("w%d", w))
				if err := d.ControlSwitch(cctx, 1, device.ActionTrigger); err != nil { // toggles
					errs <- err
				}
				if err := d.BlockAccessPoint(cctx, r%2, (w+r)%3 == 0); err != nil {
					errs <- err
				}
				if err := d.ControlSwitch(cctx, 2+r%3, device.ActionTrigger); err != nil {
					errs <- err
				}
				if r%10 == 0 {
					if err := d.SetHolidays(cctx, lists[(w+r)%len(lists)]); err != nil {
						errs <- err
					}
				}
				if _, err := d.SwitchStatus(cctx); err != nil {
					errs <- err
				}
				if _, err := d.AccessPointStatus(cctx); err != nil {
					errs <- err
				}
				d.IsHoliday(time.Now())
			}
		})
	}
	wg.Go(func() { // a ticker's Settle meanwhile
		for range 100 {
			if err := devices[0].Settle(ctx); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	// Switch 1 was toggled workers x rounds times, an even number: it is
	// off, and each toggle was one event, alternating.
	for _, d := range devices {
		s, err := d.SwitchStatus(ctx, 1)
		require.NoError(t, err)
		assert.False(t, s.Switches[0].Active)
	}
	evs, err := journals[1].Events(ctx, 0, journal.Filter{}, 0)
	require.NoError(t, err)
	var toggles []bool
	blocks := map[int][]bool{}
	for i, ev := range evs {
		require.Equal(t, uint64(i+1), ev.ID, "ids without gaps")
		if i > 0 {
			require.False(t, ev.Time.Before(evs[i-1].Time), "times in order: %v after %v", ev.Time, evs[i-1].Time)
		}
		switch {
		case ev.Entity == device.EntitySwitch && ev.Lock == 1:
			toggles = append(toggles, ev.Granted)
		case ev.Entity == device.EntityAccessPoint:
			blocks[ev.Lock] = append(blocks[ev.Lock], ev.Granted)
		}
	}
	require.Len(t, toggles, workers*rounds)
	for i, on := range toggles {
		require.Equal(t, i%2 == 0, on, "toggle %d", i)
	}
	// Every access point event is a change: they alternate, and the last
	// is the state.
	ap, err := devices[0].AccessPointStatus(ctx)
	require.NoError(t, err)
	for id, changes := range blocks {
		for i := range changes {
			require.Equal(t, i%2 == 0, changes[i], "access point %d change %d", id, i)
		}
		assert.Equal(t, changes[len(changes)-1], ap.AccessPoints[id].Blocked)
	}

	// Both servers see the last holiday list once they refresh.
	h, err := devices[0].Holidays(ctx)
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(lists, func(l []string) bool { return slices.Equal(l, h.Dates) }), "%v", h.Dates)
	require.NoError(t, devices[1].Refresh(ctx))
	for day := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC); day.Year() < 2028; day = day.AddDate(0, 0, 1) {
		assert.Equal(t, devices[0].IsHoliday(day), devices[1].IsHoliday(day), "%v", day)
	}
}
