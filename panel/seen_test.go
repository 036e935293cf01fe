package panel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
)

// status lists the online and offline events: "serial name +offset".
func status(t testing.TB, e *env) []string {
	t.Helper()
	var out []string
	for _, ev := range e.events(t, journal.Panel) {
		if ev.Key == "" {
			out = append(out, ev.Source+" "+ev.Name+" +"+ev.Time.Sub(start).String())
		}
	}
	return out
}

func TestSeen(t *testing.T) {
	ctx := context.Background()
	cs := &countingStore{Store: open(t).st}
	e := openOn(t, cs)
	r := e.r
	require.NoError(t, r.Put(ctx, "P1", ""))
	assert.ErrorIs(t, r.Seen(ctx, "nope"), panel.ErrNotFound)
	assert.ErrorIs(t, r.Seen(ctx, ""), panel.ErrInvalidSerial)
	p, err := r.Get(ctx, "P1")
	require.NoError(t, err)
	assert.False(t, r.Online(p))

	// Pongs every 10 s for 5 minutes: online once, and one write a minute.
	before := cs.updates.Load()
	for range 31 {
		require.NoError(t, r.Seen(ctx, "P1"))
		require.NoError(t, r.Sweep(ctx))
		e.c.Advance(10 * time.Second)
	}
	assert.Equal(t, int64(6), cs.updates.Load()-before, "writes of 31 pongs over 5 minutes")
	p, err = r.Get(ctx, "P1")
	require.NoError(t, err)
	assert.Equal(t, start.Add(300*time.Second), p.LastSeen, "the newest, from memory")
	assert.True(t, r.Online(p))
	assert.Equal(t, []string{"P1 online +0s"}, status(t, e))

	// Silence: offline once the delay passed, recorded once.
	e.c.Advance(20 * time.Second) // 30 s since the last pong
	require.NoError(t, r.Sweep(ctx))
	assert.True(t, r.Online(p))
	e.c.Advance(time.Nanosecond)
	assert.False(t, r.Online(p))
	require.NoError(t, r.Sweep(ctx))
	require.NoError(t, r.Sweep(ctx))
	require.NoError(t, e.another(t).Sweep(ctx))
	assert.Equal(t, []string{"P1 online +0s", "P1 offline +5m30s"}, status(t, e))

	// Back: online at once, although the last write was recent.
	e.c.Advance(time.Second)
	require.NoError(t, r.Seen(ctx, "P1"))
	// A short outage that no Sweep saw: Seen records both.
	e.c.Advance(45 * time.Second)
	require.NoError(t, r.Seen(ctx, "P1"))
	require.NoError(t, r.Sweep(ctx))
	assert.Equal(t, []string{"P1 online +0s", "P1 offline +5m30s", "P1 online +5m31.000000001s",
		"P1 offline +6m1.000000001s", "P1 online +6m16.000000001s"}, status(t, e))

	// A removed panel is forgotten; Seen on another Registry fails too.
	r2 := e.another(t)
	require.NoError(t, r2.Seen(ctx, "P1"))
	require.NoError(t, r.Remove(ctx, "P1"))
	assert.ErrorIs(t, r2.Seen(ctx, "P1"), panel.ErrNotFound)
	require.NoError(t, r.Put(ctx, "P1", ""))
	p, err = r2.Get(ctx, "P1")
	require.NoError(t, err)
	assert.True(t, p.LastSeen.IsZero())
}

// TestSeenTwoServers has a panel pong one server while another sweeps:
// the other knows only the store, written once a minute, and must not
// call the panel offline; once the panel is silent, it does, later.
func TestSeenTwoServers(t *testing.T) {
	ctx := context.Background()
	e := open(t)
	a, b := e.r, e.another(t)
	require.NoError(t, a.Put(ctx, "P1", ""))
	for range 30 {
		require.NoError(t, a.Seen(ctx, "P1"))
		require.NoError(t, b.Sweep(ctx))
		e.c.Advance(10 * time.Second)
	}
	// The last pong was at +290 s, the last write at +240 s.
	pa, err := a.Get(ctx, "P1")
	require.NoError(t, err)
	pb, err := b.Get(ctx, "P1")
	require.NoError(t, err)
	assert.Equal(t, start.Add(290*time.Second), pa.LastSeen)
	assert.Equal(t, start.Add(240*time.Second), pb.LastSeen)
	for range 3 { // to +330 s: b waits 30 s + 60 s after +240 s
		e.c.Advance(10 * time.Second)
		require.NoError(t, b.Sweep(ctx))
	}
	assert.Equal(t, []string{"P1 online +0s"}, status(t, e))
	e.c.Advance(time.Nanosecond)
	require.NoError(t, b.Sweep(ctx))
	require.NoError(t, a.Sweep(ctx))
	assert.Equal(t, []string{"P1 online +0s", "P1 offline +5m30s"}, status(t, e))
}
