package panel

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// Buckets of the registry in the store.
var (
	bucketPanels   = []byte("panel.panels")   // serial -> record (JSON)
	bucketSecrets  = []byte("panel.secrets")  // SHA-256(secret), 32 bytes -> serial
	bucketSeen     = []byte("panel.seen")     // serial -> seenRecord (JSON)
	bucketTokens   = []byte("panel.tokens")   // SHA-256(token), 32 bytes -> tokenValue
	bucketTokenIdx = []byte("panel.tokenidx") // store.Key(serial, created, hash) -> expiry
	bucketMeta     = []byte("panel.meta")     // "layout", "gen" -> uint64
	keyLayout      = []byte("layout")
	keyGen         = []byte("gen")
	allBuckets     = [][]byte{bucketPanels, bucketSecrets, bucketSeen, bucketTokens, bucketTokenIdx, bucketMeta}
)

// layout is the version of the stored form this package writes.
const layout = 1

// Limits of the package.
const (
	MaxSerialBytes    = 64  // a serial is 1 to 64 printable ASCII bytes, no space
	MaxNameBytes      = 255 // a panel's name, UTF-8
	MinSecretBytes    = 16  // a remote access secret, at least
	MaxSecretBytes    = 256 // a remote access secret, at most
	MinPasswordBytes  = 8   // a link channel password, at least
	MaxPasswordBytes  = 72  // a link channel password, at most (bcrypt's limit)
	MaxTokensPerPanel = 16  // link channel tokens kept per panel; the oldest go first
)

const (
	tokenBytes        = 32 // random bytes of a token (hex: 64 characters)
	secretBytes       = 32 // random bytes of NewSecret (hex: 64 characters)
	hashBytes         = 32 // SHA-256
	defaultBcryptCost = bcrypt.DefaultCost
	dummyHashCost     = 10 // the cost of dummyHash
)

// Defaults of the options.
const (
	DefaultOfflineAfter = 30 * time.Second
	DefaultTokenTTL     = 24 * time.Hour
	DefaultSeenInterval = time.Minute
)

// dummyHash is compared with the password of a login for a panel that does
// not exist or has no password, so that such a login costs the bcrypt work
// of a real one (at the default cost). No password matches it that anyone
// knows: it is the hash of a sentence nobody types into a panel.
var dummyHash = []byte("$2a$10$AP9PtCilnv.F.Fjl2fgNrOZRGp0D4AjFV5t70hX5e6JhL2KkWYOsi")

// Errors of the package; they are wrapped with detail, test with errors.Is.
var (
	ErrNotFound      = errors.New("panel: no such panel")
	ErrInvalidSerial = errors.New("panel: invalid serial")
	ErrInvalidName   = errors.New("panel: invalid name")
	ErrWeakSecret    = errors.New("panel: secret or password too short or in use")
	ErrInvalidSecret = errors.New("panel: malformed secret or password")
	ErrBadSecret     = errors.New("panel: wrong remote access secret")
	ErrBadPassword   = errors.New("panel: wrong serial or password")
	ErrBadToken      = errors.New("panel: unknown or expired token")
	ErrTooManyEvents = errors.New("panel: too many events in one push")
	ErrInvalidEvent  = errors.New("panel: invalid event")
	ErrNoJournal     = errors.New("panel: no journal to push events to")
	ErrInvalidConfig = errors.New("panel: invalid configuration")
	ErrCorrupt       = errors.New("panel: corrupt stored record")
)

// Panel is what the registry knows of one panel.
type Panel struct {
	// Serial is the panel's serial number, its login on the link channel
	// and its Source in the journal.
	Serial string `json:"serial"`
	// Name is a free label for people.
	Name string `json:"name"`
	// LastSeen is the newest call of the panel known (see Registry.Seen);
	// zero when none is.
	LastSeen time.Time `json:"last_seen,omitzero"`
	// HasSecret says whether a remote access secret is set.
	HasSecret bool `json:"has_secret"`
	// HasPassword says whether a link channel password is set.
	HasPassword bool `json:"has_password"`
}

type config struct {
	journal      *journal.Journal
	log          *slog.Logger
	now          func() time.Time
	offlineAfter time.Duration
	tokenTTL     time.Duration
	seenInterval time.Duration
	cost         int
}

// Option configures Open.
type Option func(*config)

// WithJournal records the events panels push, their online and offline
// transitions and failed logins in j. The events of a push are written in
// the push's transaction, so j must keep its events in the Registry's store.
func WithJournal(j *journal.Journal) Option { return func(c *config) { c.journal = j } }

// WithClock sets the clock (default time.Now), for tests.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithOfflineAfter sets how long a panel may be silent and still count as
// online (default DefaultOfflineAfter; panels pong about every 10 s).
func WithOfflineAfter(d time.Duration) Option { return func(c *config) { c.offlineAfter = d } }

// WithTokenTTL sets how long a link channel token lives (default
// DefaultTokenTTL).
func WithTokenTTL(d time.Duration) Option { return func(c *config) { c.tokenTTL = d } }

// WithSeenInterval sets how often, at most, Seen writes a panel's last
// seen time to the store (default DefaultSeenInterval); in between it keeps
// it in memory. Transitions to online are written at once regardless.
func WithSeenInterval(d time.Duration) Option { return func(c *config) { c.seenInterval = d } }

// WithBcryptCost sets the bcrypt cost of the passwords SetPassword hashes
// (default bcrypt.DefaultCost, 10). Tests use bcrypt.MinCost.
func WithBcryptCost(cost int) Option { return func(c *config) { c.cost = cost } }

// Registry is the panels a server knows, in a store. It is safe for
// concurrent use, also by several Registries (in several processes) on one
// store.
type Registry struct {
	st           store.Store
	counters     store.CounterReader // nil when st cannot read counters alone
	journal      *journal.Journal
	log          *slog.Logger
	now          func() time.Time
	offlineAfter time.Duration
	tokenTTL     time.Duration
	seenInterval time.Duration
	cost         int
	dummy        []byte // a bcrypt hash at cost, for logins that have none

	cache     atomic.Pointer[cache] // the panels as of some generation
	rebuildMu sync.Mutex            // one rebuild at a time

	mu   sync.Mutex
	seen map[string]*seenState // serial -> what this Registry saw
}

// Open returns the Registry on st, creating its buckets if needed. It
// refuses options out of range with ErrInvalidConfig.
func Open(ctx context.Context, st store.Store, opts ...Option) (*Registry, error) {
	cfg := config{now: time.Now, offlineAfter: DefaultOfflineAfter, tokenTTL: DefaultTokenTTL,
		seenInterval: DefaultSeenInterval, cost: defaultBcryptCost}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.now == nil:
		return nil, fmt.Errorf("%w: nil clock", ErrInvalidConfig)
	case cfg.offlineAfter <= 0 || cfg.tokenTTL <= 0 || cfg.seenInterval <= 0:
		return nil, fmt.Errorf("%w: durations must be positive", ErrInvalidConfig)
	case cfg.cost < bcrypt.MinCost || cfg.cost > bcrypt.MaxCost:
		return nil, fmt.Errorf("%w: bcrypt cost %d (%d to %d)", ErrInvalidConfig, cfg.cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	r := &Registry{st: st, journal: cfg.journal, log: cmp.Or(cfg.log, slog.New(slog.DiscardHandler)), now: cfg.now,
		offlineAfter: cfg.offlineAfter, tokenTTL: cfg.tokenTTL, seenInterval: cfg.seenInterval, cost: cfg.cost,
		dummy: dummyHash, seen: make(map[string]*seenState)}
	r.counters, _ = st.(store.CounterReader)
	if cfg.cost != dummyHashCost {
		h, err := bcrypt.GenerateFromPassword(dummyHash, cfg.cost) // any password will do
		if err != nil {
			return nil, fmt.Errorf("panel: preparing the dummy hash: %w", err)
		}
		r.dummy = h
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		err := store.PrepareLayout(tx, bucketMeta, keyLayout, layout, allBuckets...)
		if errors.Is(err, store.ErrNewerLayout) {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("panel: preparing the store: %w", err)
	}
	if _, err := r.current(ctx); err != nil {
		return nil, err
	}
	r.log.Debug("panel registry opened", "offline_after", r.offlineAfter, "token_ttl", r.tokenTTL)
	return r, nil
}

// record is the stored form of a panel.
type record struct {
	// Gen is the generation that created the panel: it tells a panel
	// from one removed and created again with the same serial.
	Gen      uint64 `json:"gen"`
	Name     string `json:"name"`
	Secret   string `json:"secret,omitempty"`   // hex SHA-256 of the remote access secret
	Password string `json:"password,omitempty"` // bcrypt hash of the link channel password
}

// CheckSerial says whether s is a serial: 1 to MaxSerialBytes printable
// ASCII bytes without space. Otherwise it returns ErrInvalidSerial, with
// what is wrong.
func CheckSerial(s string) error {
	if len(s) == 0 || len(s) > MaxSerialBytes {
		return fmt.Errorf("%w: %d bytes (1 to %d)", ErrInvalidSerial, len(s), MaxSerialBytes)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("%w: byte %#02x at %d (printable ASCII without space only)", ErrInvalidSerial, c, i)
		}
	}
	return nil
}

func checkName(s string) error {
	switch {
	case len(s) > MaxNameBytes:
		return fmt.Errorf("%w: %d bytes (at most %d)", ErrInvalidName, len(s), MaxNameBytes)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidName)
	}
	for _, c := range s {
		if c < ' ' || c == 0x7f {
			return fmt.Errorf("%w: control character %U", ErrInvalidName, c)
		}
	}
	return nil
}

func getRecord(tx store.Tx, serial string) (record, error) {
	var rec record
	err := store.GetJSON(tx, bucketPanels, []byte(serial), &rec)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return rec, fmt.Errorf("%w: %q", ErrNotFound, serial)
	case errors.Is(err, store.ErrBadValue):
		return rec, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return rec, err
}

// putRecord writes a panel's record and moves the generation, so that the
// caches of every Registry on the store are rebuilt before their next use.
func putRecord(tx store.Tx, serial string, rec record) error {
	g, err := bumpGen(tx)
	if err != nil {
		return err
	}
	if rec.Gen == 0 {
		rec.Gen = g
	}
	return store.PutJSON(tx, bucketPanels, []byte(serial), rec)
}

// bumpGen moves the generation and returns the new one.
func bumpGen(tx store.Tx) (uint64, error) {
	g, err := store.GetUint64(tx, bucketMeta, keyGen)
	if err != nil {
		return 0, err
	}
	return g + 1, store.PutUint64(tx, bucketMeta, keyGen, g+1)
}

// Put creates the panel serial with name, or renames it.
func (r *Registry) Put(ctx context.Context, serial, name string) error {
	if err := CheckSerial(serial); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	return r.st.Update(ctx, func(tx store.Tx) error {
		rec, err := getRecord(tx, serial)
		switch {
		case err == nil && rec.Name == name:
			return nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		rec.Name = name
		return putRecord(tx, serial, rec)
	})
}

// Remove deletes the panel serial: its secret, its password and its tokens
// stop working on the next call of any Registry on the store. Its events
// stay in the journal.
func (r *Registry) Remove(ctx context.Context, serial string) error {
	if err := CheckSerial(serial); err != nil {
		return err
	}
	err := r.st.Update(ctx, func(tx store.Tx) error {
		rec, err := getRecord(tx, serial)
		if err != nil {
			return err
		}
		if err := deleteSecret(tx, rec.Secret); err != nil {
			return err
		}
		if err := pruneTokens(tx, serial, math.MaxInt64, 0); err != nil {
			return err
		}
		if err := tx.Delete(bucketSeen, []byte(serial)); err != nil {
			return err
		}
		if err := tx.Delete(bucketPanels, []byte(serial)); err != nil {
			return err
		}
		_, err = bumpGen(tx)
		return err
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.seen, serial)
	r.mu.Unlock()
	return nil
}

// Get returns the panel serial.
func (r *Registry) Get(ctx context.Context, serial string) (Panel, error) {
	if err := CheckSerial(serial); err != nil {
		return Panel{}, err
	}
	var p Panel
	var gen uint64
	err := r.st.View(ctx, func(tx store.Tx) error {
		rec, err := getRecord(tx, serial)
		if err != nil {
			return err
		}
		sr, err := getSeen(tx, serial)
		if err != nil {
			return err
		}
		p, gen = rec.panel(serial), rec.Gen
		p.LastSeen = unixTime(sr.Last)
		return nil
	})
	if err != nil {
		return Panel{}, err
	}
	p.LastSeen = unixTime(max(p.LastSeen.UnixNano(), r.memoryLast(serial, gen)))
	return p, nil
}

// List returns every panel, sorted by serial.
func (r *Registry) List(ctx context.Context) ([]Panel, error) {
	var ps []Panel
	var gens []uint64
	err := r.st.View(ctx, func(tx store.Tx) error {
		ps, gens = ps[:0], gens[:0]
		seen := make(map[string]int64)
		err := tx.Scan(bucketSeen, nil, func(k, v []byte) error {
			sr, err := decodeSeen(k, v)
			seen[string(k)] = sr.Last
			return err
		})
		if err != nil {
			return err
		}
		return tx.Scan(bucketPanels, nil, func(k, v []byte) error {
			rec, err := decodeRecord(k, v)
			if err != nil {
				return err
			}
			p := rec.panel(string(k))
			p.LastSeen = unixTime(seen[p.Serial])
			ps, gens = append(ps, p), append(gens, rec.Gen)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for i, p := range ps {
		ps[i].LastSeen = unixTime(max(p.LastSeen.UnixNano(), r.memoryLast(p.Serial, gens[i])))
	}
	return ps, nil
}

func (rec record) panel(serial string) Panel {
	return Panel{Serial: serial, Name: rec.Name, HasSecret: rec.Secret != "", HasPassword: rec.Password != ""}
}

func decodeRecord(k, v []byte) (record, error) { return decodeJSON[record]("panel", k, v) }

// decodeJSON decodes the record v stored under k; what names its kind in
// the ErrCorrupt of a value that does not decode.
func decodeJSON[T any](what string, k, v []byte) (T, error) {
	var rec T
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("%w: %s %q: %w", ErrCorrupt, what, k, err)
	}
	return rec, nil
}

// unixTime is the time of ns nanoseconds since the epoch, zero for 0 (or
// less: the UnixNano of a zero time).
func unixTime(ns int64) time.Time {
	if ns <= 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// cache is the panels of one generation of the store, for the hot paths:
// PanelBySecret, and the existence check of Seen and PushLogs.
type cache struct {
	gen      uint64
	bySerial map[string]*entry
	bySecret map[uint64][]*entry // by the first 8 bytes of SHA-256(secret)
}

type entry struct {
	gen    uint64 // record.Gen
	panel  Panel  // without LastSeen
	hash   [hashBytes]byte
	last   int64 // stored last seen when the cache was built
	secret bool
}

// generation reads the generation counter of the store's last committed
// state: without a transaction when the store can (memory: a few ns).
func (r *Registry) generation(ctx context.Context) (uint64, error) {
	if r.counters != nil {
		return r.counters.ReadCounter(ctx, bucketMeta, keyGen)
	}
	var g uint64
	err := r.st.View(ctx, func(tx store.Tx) error {
		var err error
		g, err = store.GetUint64(tx, bucketMeta, keyGen)
		return err
	})
	return g, err
}

// current returns a cache at least as new as every write that returned
// before it was called: it reads the generation (one read) and rebuilds
// the cache when it moved.
func (r *Registry) current(ctx context.Context) (*cache, error) {
	g, err := r.generation(ctx)
	if err != nil {
		return nil, err
	}
	if c := r.cache.Load(); c != nil && c.gen >= g {
		return c, nil
	}
	r.rebuildMu.Lock()
	defer r.rebuildMu.Unlock()
	if c := r.cache.Load(); c != nil && c.gen >= g { // another caller rebuilt it
		return c, nil
	}
	c := &cache{bySerial: make(map[string]*entry), bySecret: make(map[uint64][]*entry)}
	err = r.st.View(ctx, func(tx store.Tx) error {
		clear(c.bySerial)
		clear(c.bySecret)
		var err error
		if c.gen, err = store.GetUint64(tx, bucketMeta, keyGen); err != nil {
			return err
		}
		err = tx.Scan(bucketPanels, nil, func(k, v []byte) error {
			rec, err := decodeRecord(k, v)
			if err != nil {
				return err
			}
			e := &entry{gen: rec.Gen, panel: rec.panel(string(k))}
			if rec.Secret != "" {
				if n, err := hex.Decode(e.hash[:], []byte(rec.Secret)); err != nil || n != hashBytes {
					return fmt.Errorf("%w: panel %q: secret hash %q", ErrCorrupt, k, rec.Secret)
				}
				e.secret = true
				sel := selector(&e.hash)
				c.bySecret[sel] = append(c.bySecret[sel], e)
			}
			c.bySerial[e.panel.Serial] = e
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Scan(bucketSeen, nil, func(k, v []byte) error {
			sr, err := decodeSeen(k, v)
			if e := c.bySerial[string(k)]; e != nil && sr.Gen == e.gen {
				e.last = sr.Last
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("panel: reading the panels: %w", err)
	}
	r.cache.Store(c)
	r.log.Debug("panel cache rebuilt", "generation", c.gen, "panels", len(c.bySerial))
	return c, nil
}

// selector is the map key of a secret's hash: its first 8 bytes. It only
// finds the candidates; the whole hash is compared in constant time.
func selector(h *[hashBytes]byte) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

// lookup returns, from the cache, the panel serial.
func (r *Registry) lookup(ctx context.Context, serial string) (*entry, error) {
	c, err := r.current(ctx)
	if err != nil {
		return nil, err
	}
	e := c.bySerial[serial]
	if e == nil {
		r.mu.Lock()
		delete(r.seen, serial) // removed through another Registry
		r.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrNotFound, serial)
	}
	return e, nil
}

// exists says, from the cache, whether serial is a panel.
func (r *Registry) exists(ctx context.Context, serial string) error {
	_, err := r.lookup(ctx, serial)
	return err
}

// be64 is v as 8 bytes, big-endian.
func be64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
