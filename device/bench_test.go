package device_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/device"
)

func BenchmarkSwitchStatus(b *testing.B) {
	ctx := context.Background()
	d, _, _, _ := open(b)
	require.NoError(b, d.ControlSwitch(ctx, 1, device.ActionTrigger))
	require.NoError(b, d.ControlSwitch(ctx, 2, device.ActionLock))
	require.NoError(b, d.ControlSwitchTimeout(ctx, 3, device.ActionHold, time.Minute))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.SwitchStatus(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkControlSwitch(b *testing.B) {
	ctx := context.Background()
	d, _, _, _ := open(b, device.WithSwitch(1, device.SwitchConfig{Mode: device.Bistable}))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.ControlSwitch(ctx, 1, device.ActionTrigger); err != nil { // a change, journaled
			b.Fatal(err)
		}
	}
}

func BenchmarkIsHoliday(b *testing.B) {
	ctx := context.Background()
	d, _, _, _ := open(b)
	var dates []string
	for day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); len(dates) < 100; day = day.AddDate(0, 0, 3) {
		dates = append(dates, day.Format("02/01/2006"))
	}
	dates = append(dates, "01/01", "01/05", "24/12", "25/12", "26/12")
	require.NoError(b, d.SetHolidays(ctx, dates))
	days := make([]time.Time, 64)
	for i := range days {
		days[i] = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, i)
	}
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if d.IsHoliday(days[i%len(days)]) {
			n++
		}
	}
	if n == 0 {
		b.Fatal("no holiday found")
	}
}
