package panel_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
	"github.com/lintelhq/lintel/store"
)

// count returns how many keys a bucket of the package holds.
func count(t testing.TB, st store.Store, bucket string) int {
	t.Helper()
	n := 0
	require.NoError(t, st.View(context.Background(), func(tx store.Tx) error {
		return tx.Scan([]byte(bucket), nil, func(k, v []byte) error { n++; return nil })
	}))
	return n
}

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	e := open(t)
	require.NoError(t, e.r.Put(ctx, "P1", ""))
	for _, tc := range []struct {
		serial, password string
		want             error
	}{
		{"P1", "1234567", panel.ErrWeakSecret},
		{"P1", strings.Repeat("p", 73), panel.ErrInvalidSecret},
		{"P1", "pass word", panel.ErrInvalidSecret},
		{"nope", "password", panel.ErrNotFound},
		{"nope", "", panel.ErrNotFound},
		{"a b", "password", panel.ErrInvalidSerial},
		{"P1", strings.Repeat("p", 72), nil},
		{"P1", "password", nil},
	} {
		err := e.r.SetPassword(ctx, tc.serial, tc.password)
		if tc.want == nil {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, tc.want, "%q %q", tc.serial, tc.password)
		}
	}
	p, err := e.r.Get(ctx, "P1")
	require.NoError(t, err)
	assert.True(t, p.HasPassword)
	require.NoError(t, e.r.SetPassword(ctx, "P1", ""))
	p, err = e.r.Get(ctx, "P1")
	require.NoError(t, err)
	assert.False(t, p.HasPassword)
}

func TestLoginAuthenticate(t *testing.T) {
	ctx := context.Background()
	e := open(t, panel.WithTokenTTL(2*time.Hour))
	r1, r2 := e.r, e.another(t, panel.WithTokenTTL(2*time.Hour))
	require.NoError(t, r1.Put(ctx, "P1", ""))
	require.NoError(t, r1.Put(ctx, "P2", ""))
	require.NoError(t, r1.SetPassword(ctx, "P1", "password"))

	for _, tc := range []struct {
		serial, password string
		want             error
	}{
		{"P1", "Password", panel.ErrBadPassword},
		{"P1", "", panel.ErrBadPassword},
		{"P1", "password" + strings.Repeat("x", 70), panel.ErrBadPassword}, // over 72 bytes
		{"P2", "password", panel.ErrBadPassword},                           // no password
		{"P3", "password", panel.ErrBadPassword},                           // no panel
		{"", "password", panel.ErrInvalidSerial},
	} {
		tok, err := r1.Login(ctx, tc.serial, tc.password)
		assert.ErrorIs(t, err, tc.want, "%q %q", tc.serial, tc.password)
		assert.Empty(t, tok)
	}
	failed := e.events(t, journal.Login)
	require.Len(t, failed, 5)
	for _, ev := range failed {
		assert.Equal(t, panel.NameFailed, ev.Name)
		assert.Equal(t, panel.EntityLogin, ev.Entity)
	}
	assert.Equal(t, "P3", failed[4].Source)

	tok, err := r1.Login(ctx, "P1", "password")
	require.NoError(t, err)
	assert.Len(t, tok, 64)
	for _, r := range []*panel.Registry{r1, r2} {
		serial, err := r.Authenticate(ctx, tok)
		require.NoError(t, err)
		assert.Equal(t, "P1", serial)
	}
	for _, bad := range []string{"", "x", tok[:63], strings.ToUpper(tok), tok[1:] + "0"} {
		_, err := r2.Authenticate(ctx, bad)
		assert.ErrorIs(t, err, panel.ErrBadToken, bad)
	}

	// Expiry, with the injected clock; the expired token is deleted.
	e.c.Advance(2*time.Hour - time.Nanosecond)
	_, err = r2.Authenticate(ctx, tok)
	require.NoError(t, err)
	e.c.Advance(time.Nanosecond)
	assert.Equal(t, 1, count(t, e.st, "panel.tokens"))
	_, err = r2.Authenticate(ctx, tok)
	assert.ErrorIs(t, err, panel.ErrBadToken)
	assert.Equal(t, 0, count(t, e.st, "panel.tokens"))
	assert.Equal(t, 0, count(t, e.st, "panel.tokenidx"))
	_, err = r1.Authenticate(ctx, tok)
	assert.ErrorIs(t, err, panel.ErrBadToken)

	// A new password ends the tokens; so does removing the panel.
	tok, err = r2.Login(ctx, "P1", "password")
	require.NoError(t, err)
	require.NoError(t, r1.SetPassword(ctx, "P1", "password2"))
	_, err = r2.Authenticate(ctx, tok)
	assert.ErrorIs(t, err, panel.ErrBadToken)
	_, err = r2.Login(ctx, "P1", "password")
	assert.ErrorIs(t, err, panel.ErrBadPassword)
	tok, err = r2.Login(ctx, "P1", "password2")
	require.NoError(t, err)
	require.NoError(t, r1.Remove(ctx, "P1"))
	_, err = r2.Authenticate(ctx, tok)
	assert.ErrorIs(t, err, panel.ErrBadToken)
	_, err = r2.Login(ctx, "P1", "password2")
	assert.ErrorIs(t, err, panel.ErrBadPassword)
	assert.Equal(t, 0, count(t, e.st, "panel.tokens"))
}

// TestTokenCap logs in in a loop: the store keeps MaxTokensPerPanel
// tokens, the newest, and drops expired ones at the next login.
func TestTokenCap(t *testing.T) {
	ctx := context.Background()
	e := open(t, panel.WithTokenTTL(time.Hour))
	require.NoError(t, e.r.Put(ctx, "P1", ""))
	require.NoError(t, e.r.Put(ctx, "P2", ""))
	require.NoError(t, e.r.SetPassword(ctx, "P1", "password"))
	require.NoError(t, e.r.SetPassword(ctx, "P2", "password"))
	other, err := e.r.Login(ctx, "P2", "password")
	require.NoError(t, err)
	var toks []string
	for range 40 {
		e.c.Advance(time.Second)
		tok, err := e.r.Login(ctx, "P1", "password")
		require.NoError(t, err)
		toks = append(toks, tok)
	}
	assert.Equal(t, panel.MaxTokensPerPanel+1, count(t, e.st, "panel.tokens"))
	assert.Equal(t, panel.MaxTokensPerPanel+1, count(t, e.st, "panel.tokenidx"))
	for i, tok := range toks {
		_, err := e.r.Authenticate(ctx, tok)
		if i < len(toks)-panel.MaxTokensPerPanel {
			assert.ErrorIs(t, err, panel.ErrBadToken, i)
		} else {
			assert.NoError(t, err, i)
		}
	}
	serial, err := e.r.Authenticate(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, "P2", serial)

	e.c.Advance(time.Hour) // all expired; one login drops them
	_, err = e.r.Login(ctx, "P1", "password")
	require.NoError(t, err)
	assert.Equal(t, 2, count(t, e.st, "panel.tokens")) // P2's expired one is left for later
}

// TestLoginTiming: a login for an unknown serial costs the bcrypt work of
// a wrong password for a known one.
func TestLoginTiming(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing")
	}
	ctx := context.Background()
	e := open(t, panel.WithBcryptCost(8))
	require.NoError(t, e.r.Put(ctx, "P1", ""))
	require.NoError(t, e.r.Put(ctx, "P2", ""))
	require.NoError(t, e.r.SetPassword(ctx, "P1", "password"))
	fastest := func(serial string) time.Duration {
		best := time.Hour
		for range 3 {
			t0 := time.Now()
			_, err := e.r.Login(ctx, serial, "wrong-password")
			require.ErrorIs(t, err, panel.ErrBadPassword)
			best = min(best, time.Since(t0))
		}
		return best
	}
	known, unknown, noPassword := fastest("P1"), fastest("P9"), fastest("P2")
	assert.Greater(t, unknown, known/2, "unknown serial %v, known %v", unknown, known)
	assert.Greater(t, noPassword, known/2, "no password %v, known %v", noPassword, known)
}
