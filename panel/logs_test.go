package panel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
)

func TestEventTime(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		want time.Time
		ok   bool
	}{
		{0, time.Unix(0, 0).UTC(), true},
		{1_700_000_000, time.Unix(1_700_000_000, 0).UTC(), true},
		{1 << 33, time.Unix(1<<33, 0).UTC(), true},
		{1<<33 + 1, time.Time{}, false},
		{panel.MillisAbove, time.Time{}, false},
		{panel.MillisAbove + 1, time.UnixMilli(panel.MillisAbove + 1).UTC(), true},
		{1_700_000_000_123, time.UnixMilli(1_700_000_000_123).UTC(), true},
		{1 << 43, time.UnixMilli(1 << 43).UTC(), true},
		{1<<43 + 1, time.Time{}, false},
		{-1, time.Time{}, false},
	} {
		e := panel.LogEvent{CreatedAt: tc.v}
		got, ok := e.Time()
		assert.Equal(t, tc.ok, ok, tc.v)
		assert.Equal(t, tc.want, got, tc.v)
	}
}

func TestValidateEvents(t *testing.T) {
	ok := panel.LogEvent{CreatedAt: 1_700_000_000, Category: "access", Code: "access_granted_by_valid_identifier",
		Info: json.RawMessage(`{"identifier_number":"123","lock":1}`)}
	for _, tc := range []struct {
		name  string
		edit  func(*panel.LogEvent)
		field string // "" when valid
	}{
		{"valid", func(*panel.LogEvent) {}, ""},
		{"no info", func(e *panel.LogEvent) { e.Info = nil }, ""},
		{"null info", func(e *panel.LogEvent) { e.Info = json.RawMessage(" null ") }, ""},
		{"empty category", func(e *panel.LogEvent) { e.Category = "" }, ""},
		{"code chars", func(e *panel.LogEvent) { e.Code = "A-z_0.9" }, ""},
		{"long code", func(e *panel.LogEvent) { e.Code = strings.Repeat("c", 128) }, ""},
		{"big info", func(e *panel.LogEvent) { e.Info = json.RawMessage(`{"a":"` + strings.Repeat("x", 4088) + `"}`) }, ""},
		{"empty code", func(e *panel.LogEvent) { e.Code = "" }, "code"},
		{"code too long", func(e *panel.LogEvent) { e.Code = strings.Repeat("c", 129) }, "code"},
		{"code space", func(e *panel.LogEvent) { e.Code = "door opened" }, "code"},
		{"code slash", func(e *panel.LogEvent) { e.Code = "a/b" }, "code"},
		{"category too long", func(e *panel.LogEvent) { e.Category = strings.Repeat("c", 65) }, "category"},
		{"category not UTF-8", func(e *panel.LogEvent) { e.Category = "\xff" }, "category"},
		{"category control", func(e *panel.LogEvent) { e.Category = "a\x00" }, "category"},
		{"negative time", func(e *panel.LogEvent) { e.CreatedAt = -1 }, "created_at"},
		{"time between", func(e *panel.LogEvent) { e.CreatedAt = 50_000_000_000 }, "created_at"},
		{"info too big", func(e *panel.LogEvent) { e.Info = json.RawMessage(`{"a":"` + strings.Repeat("x", 4089) + `"}`) }, "info"},
		{"info array", func(e *panel.LogEvent) { e.Info = json.RawMessage(`[1]`) }, "info"},
		{"info string", func(e *panel.LogEvent) { e.Info = json.RawMessage(`"x"`) }, "info"},
		{"info broken", func(e *panel.LogEvent) { e.Info = json.RawMessage(`{"a":`) }, "info"},
		{"info trailing", func(e *panel.LogEvent) { e.Info = json.RawMessage(`{} {}`) }, "info"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := []panel.LogEvent{ok, ok, ok}
			evs[2].CreatedAt++
			bad := evs[2]
			tc.edit(&bad)
			evs[2] = bad
			err := panel.ValidateEvents(evs)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, panel.ErrInvalidEvent)
			var ee *panel.EventError
			require.True(t, errors.As(err, &ee))
			assert.Equal(t, 2, ee.Index)
			assert.Equal(t, tc.field, ee.Field)
			assert.Contains(t, err.Error(), "events[2]."+tc.field)
		})
	}
	assert.ErrorIs(t, panel.ValidateEvents(make([]panel.LogEvent, panel.MaxPush+1)), panel.ErrTooManyEvents)
	assert.NoError(t, panel.ValidateEvents(nil))
}

// backlog returns n distinct events, in milliseconds now and then.
func backlog(n int) []panel.LogEvent {
	evs := make([]panel.LogEvent, n)
	for i := range evs {
		evs[i] = panel.LogEvent{CreatedAt: 1_767_000_000 + int64(i/3), Category: "access",
			Code: fmt.Sprintf("code_%d", i%7), Info: json.RawMessage(fmt.Sprintf(`{"n": %d, "lock": 1}`, i))}
		if i%5 == 0 {
			evs[i].CreatedAt = evs[i].CreatedAt*1000 + 123
		}
	}
	return evs
}

// TestPushBacklog pushes a 250-event backlog in pages of 100, twice: each
// event is in the journal once, with its fields.
func TestPushBacklog(t *testing.T) {
	ctx := context.Background()
	e := open(t)
	require.NoError(t, e.r.Put(ctx, "P1", ""))
	evs := backlog(250)
	for round, want := range []int{250, 0} {
		total := 0
		for i := 0; i < len(evs); i += panel.PageSize {
			n, err := e.r.PushLogs(ctx, "P1", evs[i:min(i+panel.PageSize, len(evs))])
			require.NoError(t, err)
			total += n
		}
		assert.Equal(t, want, total, "round %d", round)
	}
	// The same events, with their info spaced and ordered otherwise.
	again := backlog(250)
	for i := range again {
		again[i].Info = json.RawMessage(fmt.Sprintf("{ \"lock\" : 1 ,\n\"n\":%d }", i))
	}
	n, err := e.r.PushLogs(ctx, "P1", again)
	require.NoError(t, err)
	assert.Equal(t, 0, n)

	got := e.events(t, journal.Panel)
	require.Len(t, got, 250)
	keys := map[string]bool{}
	for i, ev := range got {
		want := evs[i]
		at, _ := want.Time()
		assert.Equal(t, journal.Event{ID: ev.ID, Time: at, Kind: journal.Panel, Source: "P1", Name: want.Code,
			Entity: "access", Key: ev.Key}, ev)
		assert.Len(t, ev.Key, 64)
		keys[ev.Key] = true
	}
	assert.Len(t, keys, 250)
}

func TestPushLogs(t *testing.T) {
	ctx := context.Background()
	e := open(t)
	require.NoError(t, e.r.Put(ctx, "P1", ""))
	require.NoError(t, e.r.Put(ctx, "P2", ""))
	ev := panel.LogEvent{CreatedAt: 1_767_000_000, Category: "door", Code: "door_was_opened"}

	// Twice in one push, once in the journal.
	n, err := e.r.PushLogs(ctx, "P1", []panel.LogEvent{ev, ev})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	// The same instant in milliseconds is the same event; {} is no info.
	ms := ev
	ms.CreatedAt *= 1000
	ms.Info = json.RawMessage(`{}`)
	n, err = e.r.PushLogs(ctx, "P1", []panel.LogEvent{ms})
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	// Another panel's, another info, another category, another time: new.
	other := []panel.LogEvent{ev, ev, ev, ev}
	other[1].Info = json.RawMessage(`{"a":1}`)
	other[2].Category = "doors"
	other[3].CreatedAt++
	n, err = e.r.PushLogs(ctx, "P2", other[:1])
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = e.r.PushLogs(ctx, "P1", other[1:])
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	// Nothing is written when one event is bad.
	last, err := e.j.Last(ctx)
	require.NoError(t, err)
	bad := backlog(50)
	bad[49].Code = ""
	_, err = e.r.PushLogs(ctx, "P1", bad)
	assert.ErrorIs(t, err, panel.ErrInvalidEvent)
	_, err = e.r.PushLogs(ctx, "P1", backlog(panel.MaxPush+1))
	assert.ErrorIs(t, err, panel.ErrTooManyEvents)
	_, err = e.r.PushLogs(ctx, "nope", backlog(1))
	assert.ErrorIs(t, err, panel.ErrNotFound)
	_, err = e.r.PushLogs(ctx, "nope", nil)
	assert.ErrorIs(t, err, panel.ErrNotFound)
	_, err = e.r.PushLogs(ctx, "a b", nil)
	assert.ErrorIs(t, err, panel.ErrInvalidSerial)
	n, err = e.r.PushLogs(ctx, "P1", nil)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	now, err := e.j.Last(ctx)
	require.NoError(t, err)
	assert.Equal(t, last, now)

	n, err = e.r.PushLogs(ctx, "P1", backlog(panel.MaxPush))
	require.NoError(t, err)
	assert.Equal(t, panel.MaxPush, n)

	r, err := panel.Open(ctx, e.st) // no journal
	require.NoError(t, err)
	_, err = r.PushLogs(ctx, "P1", backlog(1))
	assert.ErrorIs(t, err, panel.ErrNoJournal)
}
