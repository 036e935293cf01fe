package httpadapter

import (
	"testing"
	"time"
)

// FuzzLogFilter: any filter string either parses into a matcher that
// answers for every item without panicking, or is refused; the parse is
// bounded (at most 64 tokens).
func FuzzLogFilter(f *testing.F) {
	for _, s := range []string{"name eq access_granted_by_valid_identifier", "not name eq login_failed and id gt 1",
		`name eq "a b" or lock_number ge 2`, "date lt 1700000000 and not not source nq admin", "name", "id gt x", `"`, "and or not"} {
		f.Add(s)
	}
	items := []basipLogItem{
		{ID: 1, Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), Name: "login_failed", Info: map[string]any{}},
		{ID: 2, Name: "access_granted_by_valid_identifier", Info: map[string]any{"lock_number": 2, "source": "admin"}},
	}
	f.Fuzz(func(t *testing.T, filter string) {
		match, err := parseLogFilter(filter)
		if err != nil {
			return
		}
		for i := range items {
			_ = match(&items[i])
		}
	})
}
