package httpadapter

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refSessions is the plain model of sessions: every token ever issued,
// with a flag for ended ones, and scans.
type refSessions struct {
	ttl    time.Duration
	issued []refToken
}

type refToken struct {
	token, user string
	expires     time.Time
	ended       bool
}

func (m *refSessions) live(t *refToken, now time.Time) bool { return !t.ended && !now.After(t.expires) }

func (m *refSessions) add(token, user string, now time.Time) {
	n := 0
	for i := range m.issued {
		if m.issued[i].user == user && m.live(&m.issued[i], now) {
			n++
		}
	}
	if n >= maxSessionsPerUser {
		for i := range m.issued {
			if m.issued[i].user == user && m.live(&m.issued[i], now) {
				m.issued[i].ended = true
				break
			}
		}
	}
	m.issued = append(m.issued, refToken{token: token, user: user, expires: now.Add(m.ttl)})
}

func (m *refSessions) get(token string, now time.Time) (string, bool) {
	for i := range m.issued {
		if m.issued[i].token == token && m.live(&m.issued[i], now) {
			return m.issued[i].user, true
		}
	}
	return "", false
}

func (m *refSessions) remove(token string) {
	for i := range m.issued {
		if m.issued[i].token == token {
			m.issued[i].ended = true
		}
	}
}

// TestSessionsModel runs seeded random sequences of logins, lookups,
// logouts and time passing against the model, step by step, and checks
// that the tokens kept never outgrow what is live.
func TestSessionsModel(t *testing.T) {
	seeds, steps := 200, 600
	if testing.Short() {
		seeds = 30
	}
	const ttl = 100 * time.Second
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		s, m := newSessions(ttl), &refSessions{ttl: ttl}
		now := time.Unix(1_800_000_000, 0)
		users := []string{"admin", "manager", "gym"}
		var tokens []string
		for step := range steps {
			switch op := rng.IntN(10); {
			case op < 4:
				tok := fmt.Sprintf("t%d-%d", seed, step)
				user := users[rng.IntN(len(users))]
				s.add(tok, Account{Username: user}, now)
				m.add(tok, user, now)
				tokens = append(tokens, tok)
			case op < 7 && len(tokens) > 0:
				tok := tokens[rng.IntN(len(tokens))]
				got, ok := s.get(tok, now)
				want, wantOK := m.get(tok, now)
				require.Equal(t, wantOK, ok, "seed %d step %d: get %s", seed, step, tok)
				if ok {
					require.Equal(t, want, got.Username)
				}
			case op < 8 && len(tokens) > 0:
				tok := tokens[rng.IntN(len(tokens))]
				s.remove(tok)
				m.remove(tok)
			default:
				now = now.Add(time.Duration(rng.IntN(40)) * time.Second)
			}
			live := 0
			for i := range m.issued {
				if m.live(&m.issued[i], now) {
					live++
				}
			}
			// Kept are the live ones and the expired ones not yet swept.
			require.GreaterOrEqual(t, s.len(), live)
			require.LessOrEqual(t, s.len(), len(users)*maxSessionsPerUser, "seed %d step %d", seed, step)
		}
	}
}

// A client that logs in before every call keeps at most
// maxSessionsPerUser tokens, the newest, and concurrent logins, lookups
// and logouts stay consistent.
func TestSessionsPerUserCapConcurrent(t *testing.T) {
	s := newSessions(time.Hour)
	now := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				tok := fmt.Sprintf("g%d-%d", g, i)
				s.add(tok, Account{Username: "gym"}, now)
				_, _ = s.get(tok, now)
				if i%7 == 0 {
					s.remove(tok)
				}
			}
		})
	}
	wg.Wait()
	n := s.len()
	assert.LessOrEqual(t, n, maxSessionsPerUser)
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Len(t, s.byUser["gym"], n, "the index and the tokens agree")
	for _, tok := range s.byUser["gym"] {
		assert.Contains(t, s.tokens, tok)
	}
}
