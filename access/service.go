package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-playground/validator/v10"

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

// FaceChecker decides whether a face photo (an identifier_number of type
// face_id: base64, or a data URI) may be enrolled. CheckFace returns nil
// to enrol it; an error that matches ErrFaceUnreadable (errors.Is) for a
// photo that does not decode, answered bad_base_64_image_file; one that
// matches ErrNoFace for a photo without a face the checker accepts,
// answered face_has_not_recognized. Any other error, a done context's
// included, refuses the whole batch before anything is written.
//
// Package access/facecheck wires package face's detector (pigo) in; access
// itself links no detector.
type FaceChecker interface {
	CheckFace(ctx context.Context, photo string) error
}

// The verdicts of a FaceChecker.
var (
	ErrFaceUnreadable = errors.New("access: face photo does not decode")
	ErrNoFace         = errors.New("access: no face recognized in the photo")
)

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
// face identifiers (once a FaceChecker is given) and sets no limits.
func WithCapabilities(c Capabilities) Option { return func(o *config) { o.caps = c } }

// WithFaceChecker sets the checker of face photos. Without one, face
// identifiers are answered face_id_not_supported, as they are when
// Capabilities.FaceID is false: a photo nobody looked at is never
// enrolled.
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

	counters    store.CounterReader // st, when it can read the generation without a transaction
	decrementer store.Decrementer   // st, when it can take a pass in one step
	cache       atomic.Pointer[decisionCache]
	lookups     sync.Pool // of *lookup
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
	if cfg.faces == nil {
		cfg.caps.FaceID = false // see WithFaceChecker
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
	s.decrementer, _ = st.(store.Decrementer)
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
		return &TooManyItemsError{N: n, Max: s.cfg.maxBatch}
	}
	return nil
}
