package device_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store/memory"
)

func Example() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	j, err := journal.Open(ctx, st, journal.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close(ctx)
	now := time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC)
	d, err := device.Open(ctx, st,
		device.WithJournal(j),
		device.WithClock(func() time.Time { return now }),
		device.WithSwitches(2),
		device.WithSwitch(2, device.SwitchConfig{Mode: device.Bistable}))
	if err != nil {
		log.Fatal(err)
	}
	enc := json.NewEncoder(os.Stdout)

	// /api/switch/ctrl?switch=1&action=trigger: the door opens for 5 s.
	if err := d.ControlSwitch(journal.WithSource(ctx, "admin"), 1, device.ActionTrigger); err != nil {
		log.Fatal(err)
	}
	status, err := d.SwitchStatus(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := enc.Encode(status); err != nil {
		log.Fatal(err)
	}
	now = now.Add(5 * time.Second)
	status, err = d.SwitchStatus(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	if err := enc.Encode(status); err != nil {
		log.Fatal(err)
	}

	// A bad request is an error value the adapter maps to a 2N code.
	err = d.ControlSwitch(ctx, 3, device.ActionOn)
	fmt.Println(errors.Is(err, device.ErrInvalidSwitch), err)

	// /api/config/holidays.
	if err := d.SetHolidays(ctx, []string{"24/12", "25/12", "01/01/2027"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.IsHoliday(now), d.IsHoliday(now.AddDate(0, 0, 2)))
	err = d.SetHolidays(ctx, []string{"24/12", "31/04"})
	fmt.Println(errors.Is(err, device.ErrInvalidDate), err)

	// The expiry is journaled by the next write (or by Settle).
	if err := d.Settle(ctx); err != nil {
		log.Fatal(err)
	}
	evs, err := j.Events(ctx, 0, journal.Filter{Kinds: []journal.Kind{journal.Switch}}, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range evs {
		fmt.Println(ev.Time.Format(time.TimeOnly), ev.Entity, ev.Lock, ev.Name, ev.Granted, ev.Source)
	}
	// Output:
	// {"switches":[{"switch":1,"active":true,"locked":false,"held":false},{"switch":2,"active":false,"locked":false,"held":false}]}
	// {"switches":[{"switch":1,"active":false,"locked":false,"held":false}]}
	// true device: no such switch: 3 (the device has switches 1 to 2)
	// true false
	// true device: invalid holiday date dates[1] "31/04": day 31 is not in April (1 to 30)
	// 09:00:00 switch 1 trigger true admin
	// 09:00:05 switch 1 expired false
}
