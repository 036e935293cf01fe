package panel_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lintelhq/lintel/panel"
	"github.com/lintelhq/lintel/store/memory"
)

// The reference model of the registry: plain maps and a clock, written
// from the package doc without the store, hashing or caches. TestModel
// runs seeded random sequences of operations on two Registries on one
// store (two servers) and on the model, and compares every answer.

type mPanel struct {
	name, secret, password string
}

type mToken struct {
	serial           string
	created, expires time.Time
}

type model struct {
	now    time.Time
	panels map[string]*mPanel
	tokens map[string]*mToken // live in the store (expired ones too, until deleted)
	order  []string           // tokens in login order
	seen   map[string]time.Time
}

const (
	modelTTL      = time.Hour
	modelInterval = time.Minute
)

var (
	modelSerials   = []string{"P1", "P2", "P3", "AV-04SD-77", "", "bad serial"}
	modelNames     = []string{"", "Front", "Back door", strings.Repeat("n", 256)}
	modelSecrets   = []string{"0123456789abcdef", "fedcba9876543210", "secret-secret-secret", strings.Repeat("z", 64), "", "short", "has space in it!!", strings.Repeat("z", 257)}
	modelPasswords = []string{"password1", "password2", "", "short", "with space"}
)

func validSerial(s string) bool { return s != "" && !strings.Contains(s, " ") }

func (m *model) put(serial, name string) error {
	switch {
	case !validSerial(serial):
		return panel.ErrInvalidSerial
	case len(name) > panel.MaxNameBytes:
		return panel.ErrInvalidName
	}
	if p := m.panels[serial]; p != nil {
		p.name = name
	} else {
		m.panels[serial] = &mPanel{name: name}
	}
	return nil
}

func (m *model) dropTokens(serial string) {
	for tok, t := range m.tokens {
		if t.serial == serial {
			delete(m.tokens, tok)
		}
	}
}

func (m *model) remove(serial string) error {
	switch {
	case !validSerial(serial):
		return panel.ErrInvalidSerial
	case m.panels[serial] == nil:
		return panel.ErrNotFound
	}
	delete(m.panels, serial)
	delete(m.seen, serial)
	m.dropTokens(serial)
	return nil
}

func (m *model) setSecret(serial, secret string) error {
	switch {
	case !validSerial(serial):
		return panel.ErrInvalidSerial
	case secret != "" && len(secret) < panel.MinSecretBytes:
		return panel.ErrWeakSecret
	case secret != "" && (len(secret) > panel.MaxSecretBytes || strings.Contains(secret, " ")):
		return panel.ErrInvalidSecret
	case m.panels[serial] == nil:
		return panel.ErrNotFound
	case m.panels[serial].secret == secret:
		return nil
	}
	for _, p := range m.panels {
		if secret != "" && p.secret == secret {
			return panel.ErrWeakSecret
		}
	}
	m.panels[serial].secret = secret
	return nil
}

func (m *model) panel(serial string) panel.Panel {
	p := m.panels[serial]
	return panel.Panel{Serial: serial, Name: p.name, LastSeen: m.seen[serial], HasSecret: p.secret != "", HasPassword: p.password != ""}
}

func (m *model) bySecret(secret string) (panel.Panel, error) {
	for serial, p := range m.panels {
		if secret != "" && p.secret == secret {
			return m.panel(serial), nil
		}
	}
	return panel.Panel{}, panel.ErrBadSecret
}

func (m *model) get(serial string) (panel.Panel, error) {
	switch {
	case !validSerial(serial):
		return panel.Panel{}, panel.ErrInvalidSerial
	case m.panels[serial] == nil:
		return panel.Panel{}, panel.ErrNotFound
	}
	return m.panel(serial), nil
}

func (m *model) setPassword(serial, password string) error {
	switch {
	case !validSerial(serial):
		return panel.ErrInvalidSerial
	case password != "" && len(password) < panel.MinPasswordBytes:
		return panel.ErrWeakSecret
	case strings.Contains(password, " "):
		return panel.ErrInvalidSecret
	case m.panels[serial] == nil:
		return panel.ErrNotFound
	}
	m.panels[serial].password = password
	m.dropTokens(serial)
	return nil
}

// login returns whether the login succeeds; the caller adds the token.
func (m *model) login(serial, password string) error {
	switch {
	case !validSerial(serial):
		return panel.ErrInvalidSerial
	case m.panels[serial] == nil || m.panels[serial].password == "" || m.panels[serial].password != password:
		return panel.ErrBadPassword
	}
	var live []string
	for _, tok := range m.order {
		t := m.tokens[tok]
		switch {
		case t == nil || t.serial != serial:
		case !m.now.Before(t.expires):
			delete(m.tokens, tok)
		default:
			live = append(live, tok)
		}
	}
	for len(live) >= panel.MaxTokensPerPanel {
		delete(m.tokens, live[0])
		live = live[1:]
	}
	return nil
}

func (m *model) authenticate(token string) (string, error) {
	t := m.tokens[token]
	if t == nil {
		return "", panel.ErrBadToken
	}
	if !m.now.Before(t.expires) {
		delete(m.tokens, token)
		return "", panel.ErrBadToken
	}
	return t.serial, nil
}

func (m *model) seenNow(serial string) error {
	switch {
	case !validSerial(serial):
		return panel.ErrInvalidSerial
	case m.panels[serial] == nil:
		return panel.ErrNotFound
	}
	m.seen[serial] = m.now
	return nil
}

func TestModel(t *testing.T) {
	sequences, steps := 40, 250
	if testing.Short() {
		sequences, steps = 4, 100
	} else if raceEnabled {
		sequences = 8
	}
	for seed := range uint64(sequences) {
		if err := runModel(seed, steps); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// runModel runs one seeded sequence and returns the first difference, with
// the operations that led to it. Seen goes to the first Registry only, so
// that the model knows what its memory holds: reads through it see the
// newest call exactly, reads through the second one the store's, written
// at most a seen interval before.
func runModel(seed uint64, steps int) (err error) {
	rnd := rand.New(rand.NewPCG(seed, 0x9a4e1))
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	c := newClock()
	var rs [2]*panel.Registry
	for i := range rs {
		rs[i], err = panel.Open(ctx, st, panel.WithClock(c.Now), panel.WithBcryptCost(4), panel.WithTokenTTL(modelTTL),
			panel.WithSeenInterval(modelInterval))
		if err != nil {
			return err
		}
	}
	m := &model{now: start, panels: map[string]*mPanel{}, tokens: map[string]*mToken{}, seen: map[string]time.Time{}}
	var issued []string // every token ever given
	var log []string
	defer func() {
		if err != nil {
			if len(log) > 30 {
				log = log[len(log)-30:]
			}
			err = fmt.Errorf("%w\nafter (last 30):\n  %s", err, strings.Join(log, "\n  "))
		}
	}()
	same := func(op string, got, want error) error {
		if (got == nil) != (want == nil) || (want != nil && !errors.Is(got, want)) {
			return fmt.Errorf("%s: error %v, the model says %v", op, got, want)
		}
		return nil
	}
	// samePanel compares a panel read through Registry ri.
	samePanel := func(op string, ri int, got, want panel.Panel) error {
		if ri == 1 && !want.LastSeen.IsZero() {
			if got.LastSeen.After(want.LastSeen) || !got.LastSeen.After(want.LastSeen.Add(-modelInterval)) {
				return fmt.Errorf("%s: last seen %v, the newest call was at %v", op, got.LastSeen, want.LastSeen)
			}
			got.LastSeen = want.LastSeen
		}
		if got != want {
			return fmt.Errorf("%s:\n  got  %+v\n  want %+v", op, got, want)
		}
		return nil
	}
	pick := func(xs []string) string { return xs[rnd.IntN(len(xs))] }
	for range steps {
		c.Advance(time.Microsecond) // every login has a time of its own
		m.now = m.now.Add(time.Microsecond)
		ri := rnd.IntN(2)
		r := rs[ri]
		serial := pick(modelSerials)
		switch k := rnd.IntN(100); {
		case k < 10:
			name := pick(modelNames)
			op := fmt.Sprintf("r%d put %q %q", ri, serial, name)
			log = append(log, op)
			if err := same(op, r.Put(ctx, serial, name), m.put(serial, name)); err != nil {
				return err
			}
		case k < 14:
			op := fmt.Sprintf("r%d remove %q", ri, serial)
			log = append(log, op)
			if err := same(op, r.Remove(ctx, serial), m.remove(serial)); err != nil {
				return err
			}
		case k < 24:
			secret := pick(modelSecrets)
			op := fmt.Sprintf("r%d set secret %q %q", ri, serial, secret)
			log = append(log, op)
			if err := same(op, r.SetSecret(ctx, serial, secret), m.setSecret(serial, secret)); err != nil {
				return err
			}
		case k < 40:
			secret := pick(modelSecrets)
			op := fmt.Sprintf("r%d by secret %q", ri, secret)
			log = append(log, op)
			got, gerr := r.PanelBySecret(ctx, secret)
			want, werr := m.bySecret(secret)
			if err := same(op, gerr, werr); err != nil {
				return err
			}
			if ri == 1 && got.LastSeen.Before(want.LastSeen) {
				// Through a Registry that did not see the calls, the
				// cache's copy, read when it was last rebuilt.
				got.LastSeen = want.LastSeen
			}
			if err := samePanel(op, ri, got, want); err != nil {
				return err
			}
		case k < 47:
			password := pick(modelPasswords)
			op := fmt.Sprintf("r%d set password %q %q", ri, serial, password)
			log = append(log, op)
			if err := same(op, r.SetPassword(ctx, serial, password), m.setPassword(serial, password)); err != nil {
				return err
			}
		case k < 57:
			password := pick(modelPasswords)
			op := fmt.Sprintf("r%d login %q %q", ri, serial, password)
			log = append(log, op)
			tok, gerr := r.Login(ctx, serial, password)
			werr := m.login(serial, password)
			if err := same(op, gerr, werr); err != nil {
				return err
			}
			if gerr == nil {
				m.tokens[tok] = &mToken{serial: serial, created: m.now, expires: m.now.Add(modelTTL)}
				m.order = append(m.order, tok)
				issued = append(issued, tok)
			}
		case k < 72:
			tok := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			if len(issued) > 0 && rnd.IntN(10) > 0 {
				tok = issued[len(issued)-1-rnd.IntN(min(len(issued), 20))]
			}
			op := fmt.Sprintf("r%d authenticate %.8s", ri, tok)
			log = append(log, op)
			got, gerr := r.Authenticate(ctx, tok)
			want, werr := m.authenticate(tok)
			if err := same(op, gerr, werr); err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s: serial %q, the model says %q", op, got, want)
			}
		case k < 85:
			op := fmt.Sprintf("r0 seen %q", serial)
			log = append(log, op)
			if err := same(op, rs[0].Seen(ctx, serial), m.seenNow(serial)); err != nil {
				return err
			}
		case k < 92:
			op := fmt.Sprintf("r%d get %q", ri, serial)
			log = append(log, op)
			got, gerr := r.Get(ctx, serial)
			want, werr := m.get(serial)
			if err := same(op, gerr, werr); err != nil {
				return err
			}
			if err := samePanel(op, ri, got, want); err != nil {
				return err
			}
		default:
			step := []time.Duration{0, time.Second, 10 * time.Second, 59 * time.Second, 20 * time.Minute, modelTTL}[rnd.IntN(6)]
			log = append(log, fmt.Sprintf("advance %v", step))
			c.Advance(step)
			m.now = m.now.Add(step)
		}
	}
	// The whole state, through both Registries, and the tokens kept.
	for ri, r := range rs {
		ps, err := r.List(ctx)
		if err != nil {
			return err
		}
		var serials []string
		for serial := range m.panels {
			serials = append(serials, serial)
		}
		slices.Sort(serials)
		if len(ps) != len(serials) {
			return fmt.Errorf("r%d list: %d panels, the model has %v", ri, len(ps), serials)
		}
		for i, p := range ps {
			if err := samePanel(fmt.Sprintf("r%d list", ri), ri, p, m.panel(serials[i])); err != nil {
				return err
			}
		}
	}
	n := 0
	for _, tok := range issued {
		if _, err := rs[0].Authenticate(ctx, tok); err == nil {
			n++
		}
	}
	live := 0
	for _, t := range m.tokens {
		if m.now.Before(t.expires) {
			live++
		}
	}
	if n != live {
		return fmt.Errorf("%d tokens work, the model has %d", n, live)
	}
	return nil
}
