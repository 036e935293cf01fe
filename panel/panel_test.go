package panel_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/memory"
)

// start is the fake clock's first reading.
var start = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// clock is a fake clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: start} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingStore counts the Updates of a store, and passes its counters
// through.
type countingStore struct {
	store.Store
	updates atomic.Int64
}

func (c *countingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

func (c *countingStore) ReadCounter(ctx context.Context, bucket, key []byte) (uint64, error) {
	return c.Store.(store.CounterReader).ReadCounter(ctx, bucket, key)
}

// plainStore hides the optional interfaces of a store.
type plainStore struct{ store.Store }

// env is a registry on a new memory store with a fake clock and a journal.
type env struct {
	r  *panel.Registry
	c  *clock
	j  *journal.Journal
	st store.Store
}

// opts are the options every test registry gets: the fake clock, the
// journal, and the cheapest bcrypt.
func (e *env) opts(more ...panel.Option) []panel.Option {
	return append([]panel.Option{panel.WithClock(e.c.Now), panel.WithJournal(e.j), panel.WithBcryptCost(bcrypt.MinCost)}, more...)
}

// another opens another Registry on the same store, as another server.
func (e *env) another(t testing.TB, more ...panel.Option) *panel.Registry {
	t.Helper()
	r, err := panel.Open(context.Background(), e.st, e.opts(more...)...)
	require.NoError(t, err)
	return r
}

func open(t testing.TB, more ...panel.Option) *env {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	return openOn(t, st, more...)
}

func openOn(t testing.TB, st store.Store, more ...panel.Option) *env {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(ctx, st, journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(ctx) })
	e := &env{c: newClock(), j: j, st: st}
	e.r, err = panel.Open(ctx, st, e.opts(more...)...)
	require.NoError(t, err)
	return e
}

// events returns the journal's events of kind k.
func (e *env) events(t testing.TB, k journal.Kind) []journal.Event {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, e.j.Flush(ctx))
	evs, err := e.j.Events(ctx, 0, journal.Filter{Kinds: []journal.Kind{k}}, 0)
	require.NoError(t, err)
	return evs
}

// TestNames pins the names and limits of the package.
func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		panel.NameOnline: "online", panel.NameOffline: "offline", panel.NameFailed: "failed", panel.EntityLogin: "panel",
	} {
		assert.Equal(t, want, got)
	}
	assert.Equal(t, []int{64, 255, 16, 256, 8, 72, 16, 100, 1000, 128, 64, 4096},
		[]int{panel.MaxSerialBytes, panel.MaxNameBytes, panel.MinSecretBytes, panel.MaxSecretBytes, panel.MinPasswordBytes,
			panel.MaxPasswordBytes, panel.MaxTokensPerPanel, panel.PageSize, panel.MaxPush, panel.MaxCodeBytes,
			panel.MaxCategoryBytes, panel.MaxInfoBytes})
	assert.Equal(t, 30*time.Second, panel.DefaultOfflineAfter)
	assert.Equal(t, 24*time.Hour, panel.DefaultTokenTTL)
	assert.Equal(t, time.Minute, panel.DefaultSeenInterval)
}

func TestOpenConfig(t *testing.T) {
	st := memory.New()
	defer st.Close()
	ctx := context.Background()
	for name, opt := range map[string]panel.Option{
		"nil clock":     panel.WithClock(nil),
		"zero offline":  panel.WithOfflineAfter(0),
		"negative ttl":  panel.WithTokenTTL(-time.Second),
		"zero interval": panel.WithSeenInterval(0),
		"cost 3":        panel.WithBcryptCost(3),
		"cost 32":       panel.WithBcryptCost(32),
	} {
		_, err := panel.Open(ctx, st, opt)
		assert.ErrorIs(t, err, panel.ErrInvalidConfig, name)
	}
	r, err := panel.Open(ctx, st) // the defaults, with the dummy hash at the default cost
	require.NoError(t, err)
	require.NoError(t, r.Put(ctx, "A1", "a"))
}

func TestPutGetListRemove(t *testing.T) {
	ctx := context.Background()
	e := open(t)
	r := e.r
	for _, tc := range []struct {
		serial, name string
		want         error
	}{
		{"AV-03BD-0001", "Front door", nil},
		{"B", "", nil},
		{strings.Repeat("x", 64), strings.Repeat("é", 127), nil},
		{"", "x", panel.ErrInvalidSerial},
		{strings.Repeat("x", 65), "x", panel.ErrInvalidSerial},
		{"with space", "x", panel.ErrInvalidSerial},
		{"tab\t", "x", panel.ErrInvalidSerial},
		{"ü", "x", panel.ErrInvalidSerial},
		{"\x7f", "x", panel.ErrInvalidSerial},
		{"C", strings.Repeat("x", 256), panel.ErrInvalidName},
		{"C", "bad \xff", panel.ErrInvalidName},
		{"C", "line\nbreak", panel.ErrInvalidName},
	} {
		err := r.Put(ctx, tc.serial, tc.name)
		if tc.want == nil {
			require.NoError(t, err, tc.serial)
		} else {
			require.ErrorIs(t, err, tc.want, "%q %q", tc.serial, tc.name)
		}
	}
	require.NoError(t, r.Put(ctx, "B", "renamed"))
	p, err := r.Get(ctx, "B")
	require.NoError(t, err)
	assert.Equal(t, panel.Panel{Serial: "B", Name: "renamed"}, p)
	ps, err := r.List(ctx)
	require.NoError(t, err)
	var serials []string
	for _, p := range ps {
		serials = append(serials, p.Serial)
	}
	assert.Equal(t, []string{"AV-03BD-0001", "B", strings.Repeat("x", 64)}, serials)

	_, err = r.Get(ctx, "nope")
	assert.ErrorIs(t, err, panel.ErrNotFound)
	_, err = r.Get(ctx, "")
	assert.ErrorIs(t, err, panel.ErrInvalidSerial)
	assert.ErrorIs(t, r.Remove(ctx, "nope"), panel.ErrNotFound)
	assert.ErrorIs(t, r.Remove(ctx, " "), panel.ErrInvalidSerial)
	require.NoError(t, r.Remove(ctx, "B"))
	_, err = e.another(t).Get(ctx, "B")
	assert.ErrorIs(t, err, panel.ErrNotFound)
}

// TestFileStore runs the main paths on the durable store, reopened.
func TestFileStore(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/lintel.db"
	st, err := file.Open(path, nil)
	require.NoError(t, err)
	e := openOn(t, st)
	require.NoError(t, e.r.Put(ctx, "P1", "one"))
	require.NoError(t, e.r.SetSecret(ctx, "P1", "0123456789abcdef"))
	require.NoError(t, e.r.SetPassword(ctx, "P1", "password"))
	tok, err := e.r.Login(ctx, "P1", "password")
	require.NoError(t, err)
	require.NoError(t, e.r.Seen(ctx, "P1"))
	n, err := e.r.PushLogs(ctx, "P1", []panel.LogEvent{{CreatedAt: 1_700_000_000, Code: "door_was_opened"}})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, e.j.Close(ctx))
	require.NoError(t, st.Close())

	st, err = file.Open(path, nil)
	require.NoError(t, err)
	defer st.Close()
	r, err := panel.Open(ctx, st, panel.WithClock(e.c.Now), panel.WithBcryptCost(bcrypt.MinCost))
	require.NoError(t, err)
	p, err := r.PanelBySecret(ctx, "0123456789abcdef")
	require.NoError(t, err)
	assert.Equal(t, panel.Panel{Serial: "P1", Name: "one", LastSeen: start, HasSecret: true, HasPassword: true}, p)
	serial, err := r.Authenticate(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "P1", serial)
}

// TestCorrupt: records this package cannot read are ErrCorrupt, and so
// is a store written by a newer version.
func TestCorrupt(t *testing.T) {
	ctx := context.Background()
	e := open(t)
	require.NoError(t, e.r.Put(ctx, "P1", ""))
	require.NoError(t, e.st.Update(ctx, func(tx store.Tx) error {
		return tx.Put([]byte("panel.panels"), []byte("P1"), []byte("{not json"))
	}))
	_, err := e.r.Get(ctx, "P1")
	assert.ErrorIs(t, err, panel.ErrCorrupt)
	_, err = e.r.List(ctx)
	assert.ErrorIs(t, err, panel.ErrCorrupt)
	_, err = e.r.PanelBySecret(ctx, "0123456789abcdef") // the cache cannot be rebuilt
	assert.ErrorIs(t, err, panel.ErrCorrupt)

	require.NoError(t, e.st.Update(ctx, func(tx store.Tx) error {
		return store.PutUint64(tx, []byte("panel.meta"), []byte("layout"), 99)
	}))
	_, err = panel.Open(ctx, e.st)
	assert.ErrorIs(t, err, panel.ErrCorrupt)
}
