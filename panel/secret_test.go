package panel_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/panel"
)

func TestNewSecret(t *testing.T) {
	a, err := panel.NewSecret()
	require.NoError(t, err)
	b, err := panel.NewSecret()
	require.NoError(t, err)
	assert.Len(t, a, 64)
	assert.NotEqual(t, a, b)
	_, err = hex.DecodeString(a)
	assert.NoError(t, err)
}

func TestSetSecret(t *testing.T) {
	ctx := context.Background()
	e := open(t)
	require.NoError(t, e.r.Put(ctx, "P1", ""))
	require.NoError(t, e.r.Put(ctx, "P2", ""))
	require.NoError(t, e.r.SetSecret(ctx, "P2", "taken-taken-taken"))
	for _, tc := range []struct {
		serial, secret string
		want           error
	}{
		{"P1", "0123456789abcde", panel.ErrWeakSecret},
		{"P1", "x", panel.ErrWeakSecret},
		{"P1", "taken-taken-taken", panel.ErrWeakSecret},
		{"P1", strings.Repeat("s", 257), panel.ErrInvalidSecret},
		{"P1", "0123456789 abcdef", panel.ErrInvalidSecret},
		{"P1", "0123456789abcdef\n", panel.ErrInvalidSecret},
		{"P1", "0123456789abcdéf", panel.ErrInvalidSecret},
		{"nope", "0123456789abcdef", panel.ErrNotFound},
		{"", "0123456789abcdef", panel.ErrInvalidSerial},
		{"P1", "0123456789abcdef", nil},
		{"P1", "0123456789abcdef", nil}, // again: nothing changes
		{"P1", strings.Repeat("s", 256), nil},
		{"P2", "taken-taken-taken", nil}, // its own
	} {
		err := e.r.SetSecret(ctx, tc.serial, tc.secret)
		if tc.want == nil {
			require.NoError(t, err, tc.secret)
		} else {
			require.ErrorIs(t, err, tc.want, "%q %q", tc.serial, tc.secret)
		}
	}
	p, err := e.r.Get(ctx, "P1")
	require.NoError(t, err)
	assert.True(t, p.HasSecret)
	assert.False(t, p.HasPassword)
}

// TestPanelBySecret follows one secret through its life on two
// Registries on one store: each change made through one is seen by the
// other's very next call.
func TestPanelBySecret(t *testing.T) {
	ctx := context.Background()
	for name, wrap := range map[string]bool{"counter reader": false, "plain store": true} {
		t.Run(name, func(t *testing.T) {
			e := open(t)
			if wrap {
				e = openOn(t, plainStore{e.st})
			}
			r1, r2 := e.r, e.another(t)
			require.NoError(t, r1.Put(ctx, "P1", "one"))
			require.NoError(t, r1.Put(ctx, "P2", "two"))
			s1, err := panel.NewSecret()
			require.NoError(t, err)
			require.NoError(t, r1.SetSecret(ctx, "P1", s1))
			for _, r := range []*panel.Registry{r1, r2} {
				p, err := r.PanelBySecret(ctx, s1)
				require.NoError(t, err)
				assert.Equal(t, panel.Panel{Serial: "P1", Name: "one", HasSecret: true}, p)
			}
			for _, bad := range []string{"", "short", s1[:63], s1 + "0", strings.ToUpper(s1), strings.Repeat("a", 300)} {
				_, err := r2.PanelBySecret(ctx, bad)
				assert.ErrorIs(t, err, panel.ErrBadSecret, bad)
			}

			require.NoError(t, r2.Put(ctx, "P1", "renamed")) // a rename is seen too
			p, err := r1.PanelBySecret(ctx, s1)
			require.NoError(t, err)
			assert.Equal(t, "renamed", p.Name)

			s2, err := panel.NewSecret()
			require.NoError(t, err)
			require.NoError(t, r2.SetSecret(ctx, "P1", s2)) // changed on r2
			_, err = r1.PanelBySecret(ctx, s1)
			assert.ErrorIs(t, err, panel.ErrBadSecret, "the old secret on r1")
			p, err = r1.PanelBySecret(ctx, s2)
			require.NoError(t, err)
			assert.Equal(t, "P1", p.Serial)

			require.NoError(t, r1.SetSecret(ctx, "P2", s1)) // the old one is free again
			p, err = r2.PanelBySecret(ctx, s1)
			require.NoError(t, err)
			assert.Equal(t, "P2", p.Serial)

			require.NoError(t, r1.SetSecret(ctx, "P2", "")) // cleared
			_, err = r2.PanelBySecret(ctx, s1)
			assert.ErrorIs(t, err, panel.ErrBadSecret)
			p, err = r2.Get(ctx, "P2")
			require.NoError(t, err)
			assert.False(t, p.HasSecret)

			require.NoError(t, r1.Remove(ctx, "P1")) // removed on r1
			_, err = r2.PanelBySecret(ctx, s2)
			assert.ErrorIs(t, err, panel.ErrBadSecret, "a removed panel's secret on r2")
			require.NoError(t, r1.Put(ctx, "P1", "back"))
			_, err = r2.PanelBySecret(ctx, s2)
			assert.ErrorIs(t, err, panel.ErrBadSecret, "a panel created again has no secret")
		})
	}
}

func TestPanelBySecretContext(t *testing.T) {
	e := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.r.PanelBySecret(ctx, "0123456789abcdef")
	assert.ErrorIs(t, err, context.Canceled)
}
