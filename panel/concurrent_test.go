package panel_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/panel"
)

// TestConcurrentSecrets runs two Registries on one store, as two servers:
// one goroutine changes a panel's secret again and again through either
// Registry, while readers on both look secrets up. A secret is never
// accepted by a lookup that began after the change that replaced it
// returned, and the current one always is. The same holds for tokens
// ended by a new password.
func TestConcurrentSecrets(t *testing.T) {
	ctx := context.Background()
	e := open(t)
	rs := []*panel.Registry{e.r, e.another(t)}
	require.NoError(t, e.r.Put(ctx, "P1", "one"))
	require.NoError(t, e.r.Put(ctx, "P2", "two"))
	require.NoError(t, e.r.SetPassword(ctx, "P2", "password0"))

	rounds := 300
	if testing.Short() || raceEnabled {
		rounds = 100
	}
	secrets := make([]string, rounds)
	for i := range secrets {
		secrets[i] = fmt.Sprintf("secret-%04d-0123456789", i)
	}
	var current atomic.Int64 // the index of the secret set last; older ones are revoked
	var started atomic.Int64 // the index of the secret being set
	current.Store(-1)
	started.Store(-1)
	var tokens sync.Map // token -> revoked (*atomic.Bool)
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done.Store(true)
		for i := range rounds {
			r := rs[i%2]
			started.Store(int64(i))
			if err := r.SetSecret(ctx, "P1", secrets[i]); err != nil {
				t.Error(err)
				return
			}
			current.Store(int64(i))
			if i%10 == 0 { // and now and then a new password, ending the tokens
				tok, err := r.Login(ctx, "P2", fmt.Sprintf("password%d", i/10))
				if err != nil {
					t.Error(err)
					return
				}
				tokens.Store(tok, new(atomic.Bool))
				if err := r.SetPassword(ctx, "P2", fmt.Sprintf("password%d", i/10+1)); err != nil {
					t.Error(err)
					return
				}
				v, _ := tokens.Load(tok)
				v.(*atomic.Bool).Store(true)
			}
			if i%7 == 0 { // other writes move the generation too
				if err := r.Put(ctx, fmt.Sprintf("X%d", i), "x"); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	var checks atomic.Int64
	for w := range 4 {
		r := rs[w%2]
		wg.Go(func() {
			for n := 0; !done.Load(); n++ {
				before := started.Load()
				cur := current.Load()
				if cur < 0 {
					continue
				}
				i := max(0, cur-int64(n%3)) // the current one, or one just replaced
				p, err := r.PanelBySecret(ctx, secrets[i])
				accepted := err == nil
				after := started.Load()
				switch {
				case accepted && p.Serial != "P1":
					t.Errorf("secret %d gave panel %q", i, p.Serial)
				case accepted && i < cur:
					t.Errorf("secret %d accepted after secret %d was set", i, cur)
				case !accepted && i == cur && before == cur && after == cur: // no change began meanwhile
					t.Errorf("the current secret %d refused: %v", i, err)
				}
				tokens.Range(func(k, v any) bool {
					revoked := v.(*atomic.Bool).Load()
					if _, err := r.Authenticate(ctx, k.(string)); err == nil && revoked {
						t.Errorf("a token was accepted after its password changed")
					}
					return true
				})
				checks.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Positive(t, checks.Load())
	for _, r := range rs {
		p, err := r.PanelBySecret(ctx, secrets[rounds-1])
		require.NoError(t, err)
		assert.Equal(t, "P1", p.Serial)
	}
}
