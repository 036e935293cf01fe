package timeprofile_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lintelhq/lintel/timeprofile"
)

// FuzzProfile feeds arbitrary JSON through decoding, validation,
// compilation and evaluation: none of them may panic, and each must finish
// quickly whatever the input (the fuzzer's own timeout catches a hang).
func FuzzProfile(f *testing.F) {
	f.Add([]byte(profileJSON(`{"repeat_type":"day","repeat_end":{"format":"never"}}`)), int64(1767300000))
	f.Add([]byte(profileJSON(custom("week", 2, `["MON","FRI"]`))), int64(1800000000))
	f.Add([]byte(profileJSON(custom("month", 1, `{"format":"dayNumbers","range":[1,15,31]}`))), int64(1900000000))
	f.Add([]byte(profileJSON(custom("year", 1000, `{"months":[2],"range":{"week_order":"fifth","day_type":"DAY_OFF"}}`))), int64(2000000000))
	f.Add([]byte(`{"time_options":{"is_all_day":true,"date_from":0,"date_to":0},"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"year","repeat_end":{"format":"date","date":7258118399}}}}`), int64(0))
	zones := []*time.Location{time.UTC}
	for _, name := range []string{"America/Santiago", "Australia/Lord_Howe"} {
		zones = append(zones, mustLoad(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte, at int64) {
		var p timeprofile.Profile
		if json.Unmarshal(data, &p) != nil {
			return
		}
		if p.Validate() != nil {
			return
		}
		for _, loc := range zones {
			s, err := timeprofile.Compile(p, loc)
			if err != nil {
				continue
			}
			x := time.Unix(at%(1<<34), 0)
			active := s.Active(x)
			if next, ok := s.NextChange(x); ok {
				if !next.After(x) {
					t.Fatalf("NextChange(%v) = %v, not after it", x, next)
				}
				if s.Active(next) == active {
					t.Fatalf("Active does not change at NextChange(%v) = %v", x, next)
				}
			}
		}
	})
}
