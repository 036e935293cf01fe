package timeprofile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lintelhq/lintel/timeprofile"
)

func Example() {
	// Weekdays 08:00-18:00 in Berlin, starting Monday 2025-11-03, as a
	// management system pushes it.
	const body = `{
		"name": "office hours",
		"time_options": {"is_all_day": false, "date_from": 1762153200, "date_to": 1762189200},
		"repeat_options": {"repeat_enable": true, "repeat_format": {
			"repeat_type": "custom",
			"repeat_end": {"format": "never"},
			"repeat_custom": {"repeat_point_type": "week", "repeat_looper": 1,
				"repeat_options": ["MON", "TUE", "WED", "THU", "FRI"]}}}
	}`
	var p timeprofile.Profile
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		panic(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	s, err := timeprofile.Compile(p, berlin)
	if err != nil {
		panic(err)
	}
	for _, t := range []time.Time{
		time.Date(2026, 11, 20, 9, 30, 0, 0, berlin),  // Friday morning
		time.Date(2026, 11, 21, 9, 30, 0, 0, berlin),  // Saturday morning
		time.Date(2026, 11, 23, 17, 59, 0, 0, berlin), // Monday, a minute before closing
	} {
		next, ok := s.NextChange(t)
		if !ok {
			panic("the profile never ends, so it changes again")
		}
		fmt.Printf("%s: active %v, changes %s\n", t.Format("Mon 15:04"), s.Active(t), next.Format("Mon 15:04"))
	}

	// An invalid profile is refused with the panel's own message.
	p.RepeatOptions.RepeatFormat.RepeatType = "hourly"
	_, err = timeprofile.Compile(p, berlin)
	if !errors.Is(err, timeprofile.ErrWrongRepeatType) {
		panic(fmt.Sprintf("Compile: %v, want %v", err, timeprofile.ErrWrongRepeatType))
	}
	fmt.Println(err)
	// Output:
	// Fri 09:30: active true, changes Fri 18:00
	// Sat 09:30: active false, changes Mon 08:00
	// Mon 17:59: active true, changes Mon 18:00
	// Wrong repeat_type
}
