package device

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// Buckets of the device in the store.
var (
	bucketSwitches     = []byte("device.switches")     // id, 2 bytes big-endian -> switch record
	bucketAccessPoints = []byte("device.accesspoints") // id, 2 bytes big-endian -> flags
	bucketHolidays     = []byte("device.holidays")     // "dates" -> comma-separated dates
	bucketMeta         = []byte("device.meta")         // "layout", "holidays" (generation) -> uint64
	keyDates           = []byte("dates")
	keyLayout          = []byte("layout")
	keyHolidaysGen     = []byte("holidays")
	allBuckets         = [][]byte{bucketSwitches, bucketAccessPoints, bucketHolidays, bucketMeta}
)

// layout is the version of the stored form this package writes.
const layout = 1

// Errors of the package; they are wrapped with detail, test with errors.Is.
var (
	ErrInvalidSwitch      = errors.New("device: no such switch")
	ErrInvalidAction      = errors.New("device: unknown switch action")
	ErrInvalidTimeout     = errors.New("device: timeout out of range")
	ErrSwitchDisabled     = errors.New("device: switch is disabled")
	ErrSwitchLocked       = errors.New("device: switch is locked")
	ErrSwitchHeld         = errors.New("device: switch is held")
	ErrInvalidAccessPoint = errors.New("device: no such access point")
	ErrInvalidPort        = errors.New("device: no such port")
	ErrInvalidDate        = errors.New("device: invalid holiday date")
	ErrTooManyDates       = errors.New("device: too many holiday dates")
	ErrInvalidInfo        = errors.New("device: invalid device info")
	ErrInvalidConfig      = errors.New("device: invalid configuration")
	// ErrCorrupt is wrapped by errors about stored records this package
	// cannot read.
	ErrCorrupt = errors.New("device: corrupt stored record")
)

type config struct {
	info     Info
	journal  *journal.Journal
	log      *slog.Logger
	now      func() time.Time
	loc      *time.Location
	switches int
	perID    map[int]SwitchConfig
}

// Option configures Open.
type Option func(*config)

// WithInfo sets what the device says it is (/api/system/info); the
// default is DefaultInfo(). Open refuses an Info that Validate refuses.
func WithInfo(i Info) Option { return func(c *config) { c.info = i } }

// WithJournal records every change of a switch's state and of an access
// point's blocking in j, in the transaction that makes it (see the package
// doc). j must keep its events in the Device's store.
func WithJournal(j *journal.Journal) Option { return func(c *config) { c.journal = j } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock sets the clock (default time.Now), for tests.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLocation sets the device's time zone, in which IsHoliday reads a
// time; the default is UTC.
func WithLocation(loc *time.Location) Option { return func(c *config) { c.loc = loc } }

// WithSwitches sets the number of switches, 1 to MaxSwitches (default
// DefaultSwitches). Switches are numbered from 1.
func WithSwitches(n int) Option { return func(c *config) { c.switches = n } }

// WithSwitch configures switch id (1 to the number of switches); a
// switch not configured has the zero SwitchConfig: enabled, monostable,
// DefaultSwitchOnDuration, normal.
func WithSwitch(id int, sc SwitchConfig) Option {
	return func(c *config) {
		if c.perID == nil {
			c.perID = make(map[int]SwitchConfig)
		}
		c.perID[id] = sc
	}
}

// Device is the state of one device in a store. It is safe for concurrent
// use, also by several Devices (in several processes) on one store.
type Device struct {
	st       store.Store
	info     Info
	journal  *journal.Journal
	log      *slog.Logger
	now      func() time.Time
	loc      *time.Location
	switches []SwitchConfig // index id-1, normalised
	opened   time.Time

	holidays atomic.Pointer[holidaySet] // the newest list read or written
}

// Open returns the Device on st, creating its buckets if needed. It
// refuses an invalid Info (ErrInvalidInfo) or switch configuration
// (ErrInvalidConfig).
func Open(ctx context.Context, st store.Store, opts ...Option) (*Device, error) {
	cfg := config{info: DefaultInfo(), now: time.Now, loc: time.UTC, switches: DefaultSwitches}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.info.Validate(); err != nil {
		return nil, err
	}
	switches, err := cfg.switchConfigs()
	if err != nil {
		return nil, err
	}
	if cfg.now == nil || cfg.loc == nil {
		return nil, fmt.Errorf("%w: nil clock or location", ErrInvalidConfig)
	}
	d := &Device{st: st, info: cfg.info, journal: cfg.journal, log: cmp.Or(cfg.log, slog.New(slog.DiscardHandler)),
		now: cfg.now, loc: cfg.loc, switches: switches}
	err = st.Update(ctx, func(tx store.Tx) error {
		err := store.PrepareLayout(tx, bucketMeta, keyLayout, layout, allBuckets...)
		if errors.Is(err, store.ErrNewerLayout) {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("device: preparing the store: %w", err)
	}
	if err := d.Refresh(ctx); err != nil {
		return nil, err
	}
	d.opened = d.now()
	d.log.Debug("device opened", "variant", d.info.Variant, "switches", len(d.switches))
	return d, nil
}

// Info returns what the device says it is, for /api/system/info.
func (d *Device) Info() Info { return d.info.clone() }

// Status is the result of /api/system/status.
type Status struct {
	SystemTime int64 `json:"systemTime"` // unix seconds
	UpTime     int64 `json:"upTime"`     // seconds since Open
}

// Status returns the device's time and how long it has run: the seconds
// since this Device was opened, since a software device's "restart" is
// the start of the program.
func (d *Device) Status() Status {
	now := d.now()
	return Status{SystemTime: now.Unix(), UpTime: max(0, int64(now.Sub(d.opened)/time.Second))}
}

// idKey is the key of a switch or access point: its id as 2 bytes,
// big-endian, so that keys sort by id.
func idKey(id int) []byte { return []byte{byte(id >> 8), byte(id)} }
