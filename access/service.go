package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/lintelhq/lintel/face"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// Buckets of the service in the store. Index keys are store.Key
// composites, so that no name or number can reach another's entry.
var (
	bucketUsers        = []byte("access.users")            // link_id -> User JSON
	bucketUserNames    = []byte("access.users.by_name")    // Key(name, link_id) -> ""
	bucketIdentifiers  = []byte("access.identifiers")      // link_id -> Identifier JSON (face photo left out)
	bucketNumbers      = []byte("access.numbers")          // Key(type, number) -> link_id
	bucketOwners       = []byte("access.identifier_users") // Key(identifier link_id, user link_id) -> ""
	bucketDetached     = []byte("access.detached")         // identifier link_id -> "": it lost a restricting user
	bucketPasses       = []byte("access.passes")           // identifier link_id -> passes left, uint32
	bucketFaces        = []byte("access.faces")            // identifier link_id -> base64 photo
	bucketTimeProfiles = []byte("access.timeprofiles")     // link_id -> TimeProfile JSON
	bucketApartments   = []byte("access.apartments")       // link_id -> Apartment JSON
	bucketAddresses    = []byte("access.apartments.by_address")
	bucketLiftRules    = []byte("access.kone") // link_id -> LiftRule JSON
	bucketMeta         = []byte("access.meta") // "generation" -> uint64, counts, "layout"
	keyGeneration      = []byte("generation")
	allBuckets         = [][]byte{bucketUsers, bucketUserNames, bucketIdentifiers, bucketNumbers, bucketOwners, bucketDetached,
		bucketPasses, bucketFaces, bucketTimeProfiles, bucketApartments, bucketAddresses, bucketLiftRules, bucketMeta}
)

// Capabilities describe what the panel can hold. Zero limits mean no limit.
type Capabilities struct {
	FaceID             bool // face identifiers are supported
	MaxIdentifiers     int  // identifiers of every type, faces included
	MaxFaceIdentifiers int
}

// FaceChecker decides whether a face photo may be enrolled; *face.Checker
// is the one New uses by default.
type FaceChecker interface {
	Check(ctx context.Context, payload string) (face.Enrollment, error)
}

// DefaultMaxBatch is the default limit on items per batch.
const DefaultMaxBatch = 10_000

type config struct {
	journal  *journal.Journal
	caps     Capabilities
	faces    FaceChecker
	loc      *time.Location
	maxBatch int
	log      *slog.Logger
}

// Option configures New.
type Option func(*config)

// WithCapabilities sets the panel's capabilities; the default supports
// face identifiers and sets no limits.
func WithCapabilities(c Capabilities) Option { return func(o *config) { o.caps = c } }

// WithFaceChecker replaces the default face checker (pigo, package face's
// defaults).
func WithFaceChecker(f FaceChecker) Option { return func(o *config) { o.faces = f } }

// WithLocation sets the panel's time zone, in which time profiles are
// read; the default is UTC, since a server's own zone is rarely the door's.
func WithLocation(loc *time.Location) Option { return func(o *config) { o.loc = loc } }

// WithMaxBatch limits the items of one batch (default DefaultMaxBatch).
func WithMaxBatch(n int) Option { return func(o *config) { o.maxBatch = n } }

// WithJournal records in j every decision (not Check's dry runs) and every
// committed batch: a decision's event is queued (journal.Append) after it
// is made; a batch's event is written in the batch's own transaction, so
// the two commit together. Event.Source comes from the context
// (journal.WithSource).
func WithJournal(j *journal.Journal) Option { return func(o *config) { o.journal = j } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(o *config) { o.log = l } }

// Service keeps the access data of one panel in a store and makes access
// decisions. It is safe for concurrent use, also by several Services (in
// several processes) on one store: every write bumps a generation counter
// in the store, and each decision checks it before trusting its cache.
type Service struct {
	st       store.Store
	cfg      config
	validate *validator.Validate

	counters store.CounterReader // st, when it can read the generation without a transaction
	cache    atomic.Pointer[decisionCache]
	lookups  sync.Pool // of *lookup
}

// New returns a Service on st, creating its buckets if needed.
func New(ctx context.Context, st store.Store, opts ...Option) (*Service, error) {
	cfg := config{caps: Capabilities{FaceID: true}, loc: time.UTC, maxBatch: DefaultMaxBatch}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	if cfg.faces == nil && cfg.caps.FaceID {
		c, err := face.NewChecker(face.Config{})
		if err != nil {
			return nil, err
		}
		cfg.faces = c
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		for _, b := range allBuckets {
			if err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return migrate(tx, cfg.log)
	})
	if err != nil {
		return nil, fmt.Errorf("access: preparing the store: %w", err)
	}
	s := &Service{st: st, cfg: cfg, validate: newValidator()}
	s.counters, _ = st.(store.CounterReader)
	s.cache.Store(newDecisionCache(0))
	s.lookups.New = s.newLookup
	return s, nil
}

// ErrNotFound is returned by the Get methods for an unknown link_id.
var ErrNotFound = errors.New("access: not found")

// generation reads the write counter of the store.
func generation(tx store.Tx) (uint64, error) { return store.GetUint64(tx, bucketMeta, keyGeneration) }

// bumpGeneration marks that this transaction changed what decisions read.
func bumpGeneration(tx store.Tx) error {
	g, err := generation(tx)
	if err != nil {
		return err
	}
	return store.PutUint64(tx, bucketMeta, keyGeneration, g+1)
}

// checkBatch applies the request-level limits of every batch.
func (s *Service) checkBatch(n int) error {
	if n == 0 {
		return ErrListEmpty
	}
	if n > s.cfg.maxBatch {
		return fmt.Errorf("%w: %d, at most %d", ErrTooManyItems, n, s.cfg.maxBatch)
	}
	return nil
}

func getJSON[T any](tx store.Tx, bucket []byte, linkID string) (T, bool, error) {
	raw, err := tx.Get(bucket, []byte(linkID))
	if errors.Is(err, store.ErrNotFound) {
		var zero T
		return zero, false, nil
	}
	if err != nil {
		var zero T
		return zero, false, err
	}
	v, err := decodeRecord[T](bucket, []byte(linkID), raw)
	return v, err == nil, err
}

// decodeRecord decodes a stored record; a record that does not decode is
// an error naming it, never a missing one.
func decodeRecord[T any](bucket, key, raw []byte) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("access: decoding %s/%s: %w", bucket, key, err)
	}
	return v, nil
}

func putJSON(tx store.Tx, bucket []byte, linkID string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(bucket, []byte(linkID), raw)
}

func exists(tx store.Tx, bucket []byte, linkID string) (bool, error) {
	_, err := tx.Get(bucket, []byte(linkID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// get reads one entity by link_id.
func get[T any](ctx context.Context, s *Service, bucket []byte, linkID string) (T, error) {
	var v T
	err := s.st.View(ctx, func(tx store.Tx) error {
		var ok bool
		var err error
		if v, ok, err = getJSON[T](tx, bucket, linkID); err == nil && !ok {
			err = fmt.Errorf("%w: %s", ErrNotFound, linkID)
		}
		return err
	})
	return v, err
}

// Page asks for at most Limit entities whose link_id sorts after After.
type Page struct {
	After string
	Limit int // 0 means 100; at most 1000
}

// list reads a page of entities in link_id order; next is the After of the
// following page, or "" after the last.
func list[T any](ctx context.Context, s *Service, bucket []byte, p Page) (items []T, next string, err error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var start []byte
	if p.After != "" {
		start = append([]byte(p.After), 0) // the first key after After
	}
	err = s.st.View(ctx, func(tx store.Tx) error {
		items, next = nil, ""
		var last []byte
		return tx.ScanRange(bucket, start, nil, func(k, v []byte) error {
			if len(items) == limit {
				next = string(last)
				return store.ErrStopScan
			}
			item, err := decodeRecord[T](bucket, k, v)
			if err != nil {
				return err
			}
			items, last = append(items, item), k
			return nil
		})
	})
	return items, next, err
}

// deleteHooks are what a delete batch does besides removing records:
// each runs for every stored record before it is removed (to remove its
// index entries), done once at the end of the batch. Both may be nil.
type deleteHooks struct {
	each func(tx store.Tx, id string, stored []byte) error
	done func(tx store.Tx) error
}

// deleteBatch deletes entities by link_id, one result each: deleted, or
// not_found (also for a link_id given twice, the second time). hooks is
// called at the start of every run of the transaction (a retrying backend
// may run it more than once), so state kept in its closures starts afresh.
func (s *Service) deleteBatch(ctx context.Context, entity string, bucket []byte, ids []string, hooks func() deleteHooks) ([]Result, error) {
	if err := s.checkBatch(len(ids)); err != nil {
		return nil, err
	}
	return s.commit(ctx, entity, "delete", func(tx store.Tx) ([]Result, error) {
		results := make([]Result, 0, len(ids))
		var h deleteHooks
		if hooks != nil {
			h = hooks()
		}
		for _, id := range ids {
			stored, err := tx.Get(bucket, []byte(id))
			if errors.Is(err, store.ErrNotFound) {
				results = append(results, Result{LinkID: id, Success: false, ExtendedInfo: NotFound})
				continue
			}
			if err != nil {
				return nil, err
			}
			if h.each != nil {
				if err := h.each(tx, id, stored); err != nil {
					return nil, err
				}
			}
			if err := tx.Delete(bucket, []byte(id)); err != nil {
				return nil, err
			}
			results = append(results, Result{LinkID: id, Success: true, ExtendedInfo: Deleted})
		}
		if h.done != nil {
			if err := h.done(tx); err != nil {
				return nil, err
			}
		}
		return results, nil
	})
}

// commit runs one batch in one write transaction: fn's writes, the
// generation bump that tells every decision cache, and the batch's journal
// event, all committed together or not at all.
func (s *Service) commit(ctx context.Context, entity, action string, fn func(store.Tx) ([]Result, error)) ([]Result, error) {
	var results []Result
	var events []journal.Event
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if results, err = fn(tx); err != nil {
			return err
		}
		if err := bumpGeneration(tx); err != nil {
			return err
		}
		if s.cfg.journal == nil {
			return nil
		}
		ev := journal.Event{Kind: journal.Batch, Source: journal.SourceFrom(ctx), Name: action, Entity: entity,
			Items: make([]journal.Item, len(results))}
		for i, r := range results {
			ev.Items[i] = journal.Item{LinkID: r.LinkID, Outcome: string(r.ExtendedInfo)}
		}
		events, err = s.cfg.journal.AppendTx(tx, ev)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.cfg.journal != nil {
		s.cfg.journal.AfterCommit(events)
	}
	return results, nil
}
