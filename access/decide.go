package access

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/timeprofile"
)

// Door is a lock of the panel as a reader asks for it: 1, the first, or
// 2, the second. Any other value is refused with ErrInvalidDoor before
// anything is read.
type Door int

// The panel's doors.
const (
	FirstDoor  Door = 1
	SecondDoor Door = 2
)

// ErrInvalidDoor is returned by Decide and Check for a Door other than 1
// or 2.
var ErrInvalidDoor = errors.New("access: a door is 1 (first) or 2 (second)")

// Valid reports whether d is FirstDoor or SecondDoor.
func (d Door) Valid() bool { return d == FirstDoor || d == SecondDoor }

// Request asks whether a credential may open a door at an instant.
type Request struct {
	Type IdentifierType
	// Number is the credential as the reader presents it; for face_id, the
	// link_id of the face identifier that the panel's recogniser matched.
	Number string
	Lock   Door
	At     time.Time // the zero time means now
}

// Reason says why a decision went as it did.
type Reason string

// The reasons of a Decision.
const (
	Granted           Reason = "granted"
	UnknownCredential Reason = "unknown_credential"
	UserBlocked       Reason = "user_blocked"
	// OwnerRemoved: a user that restricted the identifier was deleted or
	// stopped listing it, and the identifier has not been pushed again
	// since (see the package doc).
	OwnerRemoved       Reason = "owner_removed"
	WrongLock          Reason = "wrong_lock"
	NotYetValid        Reason = "not_yet_valid"
	Expired            Reason = "expired"
	NoPassesLeft       Reason = "no_passes_left"
	TimeProfileMissing Reason = "time_profile_missing"
	OutsideTimeProfile Reason = "outside_time_profile"
)

// Decision is the answer to a Request.
type Decision struct {
	Allow            bool
	Reason           Reason
	IdentifierLinkID string // empty for an unknown credential
	// PassesLeft is, for a credential with limited passes that passed
	// every other check, the passes left after this decision (Decide) or
	// now (Check); otherwise -1.
	PassesLeft int
}

// credential is what a decision needs of an identifier, decoded and
// compiled once per generation of the store.
type credential struct {
	linkID     string
	lock       Lock
	validity   Validity
	limited    bool   // passes are counted
	blocked    bool   // a user owning it is blocked
	detached   bool   // it lost a restricting user (bucketDetached)
	masked     string // the number as the journal shows it
	userLinkID string // the first owning user, for the journal
	userName   string
	userLocks  []int                   // lock_number of each owning user
	schedules  []*timeprofile.Schedule // of the identifier and its users
	profileGap bool                    // a bound profile does not exist
}

type numberKeyT struct {
	t IdentifierType
	n string
}

// decisionCache holds credentials of one generation of the store. A new
// generation gets a new cache, so entries are never invalidated one by
// one. Credentials are read without a lock: they live in a frozen map
// that is never written, and new ones wait in a small pending map (under
// mu) until enough have come to freeze a new map with both, a copy whose
// cost is spread over the entries that made it, as when a slice grows.
//
// A number found unknown is cached too, as unknownCredential, so that a
// card the building does not know (a neighbour's, a bank card) costs a
// warm decision, not a transaction, each time it is shown. An attacker
// who shows many numbers must not make the cache grow without bound:
// at most maxUnknown of them are cached per generation, and none longer
// than maxUnknownLen bytes.
type decisionCache struct {
	gen    uint64
	frozen atomic.Pointer[map[numberKeyT]*credential]

	mu        sync.Mutex
	pending   map[numberKeyT]*credential
	schedules map[string]*timeprofile.Schedule
	unknowns  int // unknownCredential entries
}

// unknownCredential is the cache's entry for a number that no identifier
// of the generation has. It is never returned past the cache's readers.
var unknownCredential = &credential{}

const (
	maxUnknown    = 10_000
	maxUnknownLen = 64
)

func newDecisionCache(gen uint64) *decisionCache {
	return &decisionCache{gen: gen, pending: map[numberKeyT]*credential{}, schedules: map[string]*timeprofile.Schedule{}}
}

// credential returns the cached credential for k, or nil.
func (c *decisionCache) credential(k numberKeyT) *credential {
	if m := c.frozen.Load(); m != nil {
		if cred := (*m)[k]; cred != nil {
			return cred
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending[k]
}

// minFreeze is the fewest pending credentials that make a new frozen map.
const minFreeze = 64

// add caches cred under k; cred is unknownCredential for an unknown
// number, which is cached only within the bounds of maxUnknown and
// maxUnknownLen.
func (c *decisionCache) add(k numberKeyT, cred *credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cred == unknownCredential {
		if c.unknowns >= maxUnknown || len(k.n) > maxUnknownLen {
			return
		}
		c.unknowns++
	}
	c.pending[k] = cred
	var frozen map[numberKeyT]*credential
	if m := c.frozen.Load(); m != nil {
		frozen = *m
	}
	if len(c.pending) < max(minFreeze, len(frozen)/4) {
		return
	}
	next := make(map[numberKeyT]*credential, len(frozen)+len(c.pending))
	maps.Copy(next, frozen)
	maps.Copy(next, c.pending)
	c.frozen.Store(&next)
	c.pending = map[numberKeyT]*credential{}
}

// Decide answers r, and consumes a pass when it grants a credential with
// limited passes. It fails closed: a credential bound to a time profile
// that does not exist is denied, and so is one whose restricting user was
// removed (OwnerRemoved). The checks, in order: the credential is known;
// none of its users is blocked; it has not lost a restricting user; its
// lock ("all" or empty: both) and each owning user's lock_number (0 both)
// include r.Lock; its validity window holds At; a time profile allows (any
// bound profile, of the identifier or of an owning user, active at At; none
// bound means always); and, for a credential with limited passes, one is
// left.
//
// A decision that may consume a pass reads, checks and consumes in one
// write transaction, so a change committed before it (a block, a delete)
// is always seen, and concurrent decisions never grant more passes than
// there are. On a store that takes a pass in one step (store.Decrementer:
// PostgreSQL), a warm decision that consumes one is that step alone,
// guarded by the generation its cached credential was read at. Every
// other decision reads only.
//
// Decoded and compiled credentials are cached per generation of the store
// (a counter every write of this package increments), so a decision on a
// known credential decodes no JSON, and a change made by another Service
// on the same store is seen by the very next decision. On a store that
// reads the counter without a transaction (store.CounterReader: the memory
// store), a warm decision that consumes no pass runs no transaction at all
// and allocates nothing.
func (s *Service) Decide(ctx context.Context, r Request) (Decision, error) {
	return s.decide(ctx, r, true)
}

// Check answers r as Decide would, but consumes nothing and writes
// nothing: for a credential with limited passes it says whether one is
// left now, and PassesLeft is the count as it is.
func (s *Service) Check(ctx context.Context, r Request) (Decision, error) {
	return s.decide(ctx, r, false)
}

func (s *Service) decide(ctx context.Context, r Request, consume bool) (Decision, error) {
	if !r.Lock.Valid() {
		return Decision{}, fmt.Errorf("%w: %d", ErrInvalidDoor, r.Lock)
	}
	if r.At.IsZero() {
		r.At = time.Now()
	}
	var d Decision
	ok, cred, err := s.decideCached(ctx, &r, &d, consume)
	if err != nil {
		return Decision{}, err
	}
	if !ok {
		op := s.lookups.Get().(*lookup)
		op.req, op.consume = r, consume
		err = s.st.View(ctx, op.fn)
		if err == nil && op.needWrite {
			op.write = true
			err = s.st.Update(ctx, op.fn)
		}
		d, cred = op.d, op.cred
		*op = lookup{s: s, fn: op.fn}
		s.lookups.Put(op)
		if err != nil {
			return Decision{}, err
		}
	}
	if consume && s.cfg.journal != nil {
		s.record(ctx, &r, &d, cred)
	}
	return d, nil
}

// record queues a decision's event. The number is masked (a PIN code
// whole); a face's number is the identifier's link_id and is left out.
func (s *Service) record(ctx context.Context, r *Request, d *Decision, cred *credential) {
	ev := journal.Event{Kind: journal.Decision, Time: r.At, Source: journal.SourceFrom(ctx), Granted: d.Allow,
		Reason: string(d.Reason), CredentialType: string(r.Type), IdentifierLinkID: d.IdentifierLinkID, Lock: int(r.Lock)}
	switch {
	case cred != nil:
		ev.Number, ev.UserLinkID, ev.UserName = cred.masked, cred.userLinkID, cred.userName
	case r.Type == InputCode:
		ev.Number = maskedPIN
	case r.Type != FaceID:
		ev.Number = journal.Mask(r.Number)
	}
	if err := s.cfg.journal.Append(ctx, ev); err != nil {
		s.cfg.log.Warn("access: decision not journaled", "err", err)
	}
}

// maskedPIN is how a PIN code shows in the journal, whatever its length.
const maskedPIN = "****"

// maskNumber is a stored identifier's number as the journal shows it.
func maskNumber(t IdentifierType, normalized string) string {
	switch t {
	case InputCode:
		return maskedPIN
	case FaceID:
		return ""
	}
	return journal.Mask(normalized)
}

// decideCached answers r without a transaction when the store can read the
// generation counter directly (store.CounterReader) and the credential is
// in the cache of that generation: the cache was filled from a state of
// that generation, and every change a decision reads bumps it, so the
// answer is the one a transaction would give now. ok is false when the
// slow path must answer: no counter reader, a cache miss, a stale cache,
// or a grant that consumes a pass on a store that cannot take it in one
// step (store.Decrementer).
//
// A grant that consumes a pass skips the read: the decrement is guarded by
// the cache's generation (see consumeCached), which proves in the same
// statement what the read would have, so such a decision is one step, one
// round trip on PostgreSQL. A guard that no longer holds shows the cache
// stale, and the decision goes to the slow path without the read.
func (s *Service) decideCached(ctx context.Context, r *Request, d *Decision, consume bool) (ok bool, cred *credential, err error) {
	if consume && s.decrementer != nil {
		c := s.cache.Load()
		if cred := c.credential(numberKeyT{r.Type, r.Number}); cred != nil && cred != unknownCredential &&
			cred.limited && cred.check(r.Lock, r.At) == Granted {
			return s.consumeCached(ctx, d, cred, c.gen, consume)
		}
	}
	if s.counters == nil {
		return false, nil, nil
	}
	gen, err := s.counters.ReadCounter(ctx, bucketMeta, keyGeneration)
	if err != nil {
		return false, nil, err
	}
	c := s.cache.Load()
	if c.gen != gen {
		return false, nil, nil
	}
	cred = c.credential(numberKeyT{r.Type, r.Number})
	switch cred {
	case nil:
		return false, nil, nil
	case unknownCredential:
		d.Reason, d.PassesLeft = UnknownCredential, -1
		return true, nil, nil
	}
	reason := cred.check(r.Lock, r.At)
	if reason == Granted && cred.limited {
		return s.consumeCached(ctx, d, cred, gen, consume)
	}
	d.Allow, d.Reason, d.IdentifierLinkID, d.PassesLeft = reason == Granted, reason, cred.linkID, -1
	return true, cred, nil
}

// consumeCached takes a pass for a cached, granted credential in one step
// on a store that can (store.Decrementer): the decrement is guarded by the
// generation the credential was read at, so it happens only if nothing a
// decision reads has changed since. A changed generation, a missing count
// or a store without the interface leaves the decision to the write
// transaction of the slow path.
func (s *Service) consumeCached(ctx context.Context, d *Decision, cred *credential, gen uint64, consume bool) (bool, *credential, error) {
	if !consume || s.decrementer == nil {
		return false, nil, nil
	}
	before, err := s.decrementer.DecrementIf(ctx, bucketMeta, keyGeneration, gen, bucketPasses, []byte(cred.linkID))
	switch {
	case errors.Is(err, store.ErrGuardChanged), errors.Is(err, store.ErrNotFound):
		return false, nil, nil
	case err != nil:
		return false, nil, err
	case before == 0:
		d.Allow, d.Reason, d.IdentifierLinkID, d.PassesLeft = false, NoPassesLeft, cred.linkID, 0
	default:
		d.Allow, d.Reason, d.IdentifierLinkID, d.PassesLeft = true, Granted, cred.linkID, int(before-1)
	}
	return true, cred, nil
}

// check applies every rule but the pass count.
func (c *credential) check(door Door, at time.Time) Reason {
	if c.blocked {
		return UserBlocked
	}
	if c.detached {
		return OwnerRemoved
	}
	if (c.lock == LockFirst && door != FirstDoor) || (c.lock == LockSecond && door != SecondDoor) {
		return WrongLock
	}
	for _, l := range c.userLocks {
		if l != 0 && Door(l) != door {
			return WrongLock
		}
	}
	if t := c.validity.Time; !t.IsPermanent {
		at := at.Unix()
		if at < t.From {
			return NotYetValid
		}
		if at >= t.To {
			return Expired
		}
	}
	if !c.validity.Passes.IsPermanent && c.validity.Passes.MaxPasses < 1 {
		return NoPassesLeft
	}
	if c.profileGap {
		return TimeProfileMissing
	}
	if len(c.schedules) == 0 {
		return Granted
	}
	for _, sch := range c.schedules {
		if sch.Active(at) {
			return Granted
		}
	}
	return OutsideTimeProfile
}

// lookup is one decision: it runs in a read transaction, and again in a
// write transaction when a pass is to be consumed. Lookups are pooled with
// their transaction function bound once, so that a decision allocates no
// closure.
type lookup struct {
	s       *Service
	fn      func(store.Tx) error // l.run
	req     Request
	consume bool // Decide, not Check

	write     bool // this run is in a write transaction
	needWrite bool // the read run found a pass to consume
	d         Decision
	cred      *credential // nil for an unknown credential
}

func (l *lookup) run(tx store.Tx) error {
	cred, err := l.s.credential(tx, l.req.Type, l.req.Number)
	if err != nil {
		return err
	}
	l.needWrite, l.cred = false, cred
	if cred == nil {
		l.d = Decision{Reason: UnknownCredential, PassesLeft: -1}
		return nil
	}
	l.d = Decision{IdentifierLinkID: cred.linkID, PassesLeft: -1, Reason: cred.check(l.req.Lock, l.req.At)}
	if l.d.Reason != Granted || !cred.limited {
		l.d.Allow = l.d.Reason == Granted
		return nil
	}
	if l.consume && !l.write {
		l.needWrite = true // read, check and consume again in one write transaction
		return nil
	}
	left, err := passesLeft(tx, cred.linkID)
	if err != nil {
		return err
	}
	if left == 0 {
		l.d.Reason, l.d.PassesLeft = NoPassesLeft, 0
		return nil
	}
	l.d.Allow, l.d.PassesLeft = true, left
	if !l.write {
		return nil // Check
	}
	l.d.PassesLeft = left - 1
	return tx.Put(bucketPasses, []byte(cred.linkID), binary.BigEndian.AppendUint32(nil, uint32(left-1)))
}

func (s *Service) newLookup() any {
	l := &lookup{s: s}
	l.fn = l.run
	return l
}

// credential returns the cached credential for a number, loading it on a
// miss, or nil for an unknown one (cached as unknownCredential, within
// bounds).
func (s *Service) credential(tx store.Tx, t IdentifierType, number string) (*credential, error) {
	gen, err := generation(tx)
	if err != nil {
		return nil, err
	}
	key := numberKeyT{t, number}
	c := s.cacheFor(gen)
	switch cred := c.credential(key); cred {
	case unknownCredential:
		return nil, nil
	case nil:
	default:
		return cred, nil
	}
	cred, err := s.loadCredential(tx, c, t, number)
	if err != nil {
		return nil, err
	}
	if cred == nil {
		c.add(key, unknownCredential)
		return nil, nil
	}
	c.add(key, cred)
	return cred, nil
}

// cacheFor returns the cache of generation gen: the current one, a new one
// replacing it when the store has moved on, or a throwaway one for a
// transaction that saw an older generation than another already did.
func (s *Service) cacheFor(gen uint64) *decisionCache {
	for {
		c := s.cache.Load()
		switch {
		case c.gen == gen:
			return c
		case gen < c.gen:
			return newDecisionCache(gen)
		}
		if next := newDecisionCache(gen); s.cache.CompareAndSwap(c, next) {
			return next
		}
	}
}

// loadCredential decodes an identifier, its owning users and their time
// profiles. Compiled schedules are shared through c.
func (s *Service) loadCredential(tx store.Tx, c *decisionCache, t IdentifierType, number string) (*credential, error) {
	linkID, normal := number, ""
	if t != FaceID {
		var ok bool
		if normal, ok = normalizeNumber(t, number); !ok {
			return nil, nil
		}
		v, err := tx.Get(bucketNumbers, numberKey(t, normal))
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		linkID = string(v)
	}
	id, ok, err := getJSON[Identifier](tx, bucketIdentifiers, linkID)
	if err != nil || !ok || id.Type != t {
		return nil, err
	}
	// The index matched, so the presented number's normal form is the
	// stored one's: mask that.
	cred := &credential{linkID: id.LinkID, lock: id.Lock, validity: id.Valid, limited: !id.Valid.Passes.IsPermanent,
		masked: maskNumber(t, normal)}
	if cred.detached, err = exists(tx, bucketDetached, id.LinkID); err != nil {
		return nil, err
	}
	profiles := id.TimeProfiles.LinkIDs
	prefix := store.Key(linkID)
	err = tx.Scan(bucketOwners, prefix, func(k, _ []byte) error {
		parts, err := store.SplitKey(k[len(prefix):])
		if err != nil || len(parts) != 1 {
			return fmt.Errorf("access: owner index key %q: %w", k, store.ErrBadKey)
		}
		u, ok, err := getJSON[User](tx, bucketUsers, parts[0])
		if err != nil || !ok {
			return err
		}
		if cred.userLinkID == "" {
			cred.userLinkID, cred.userName = u.LinkID, u.Name
		}
		cred.blocked = cred.blocked || u.IsBlocked
		cred.userLocks = append(cred.userLocks, u.LockNumber)
		profiles = append(profiles, u.TimeProfileLinkIDs...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, pid := range profiles {
		sch, err := s.schedule(tx, c, pid)
		if err != nil {
			return nil, err
		}
		if sch == nil {
			cred.profileGap = true
			continue
		}
		cred.schedules = append(cred.schedules, sch)
	}
	return cred, nil
}

// schedule returns the compiled time profile, or nil when it does not exist.
func (s *Service) schedule(tx store.Tx, c *decisionCache, linkID string) (*timeprofile.Schedule, error) {
	c.mu.Lock()
	sch, ok := c.schedules[linkID]
	c.mu.Unlock()
	if ok {
		return sch, nil
	}
	p, found, err := getJSON[TimeProfile](tx, bucketTimeProfiles, linkID)
	if err != nil || !found {
		return nil, err
	}
	sch, err = timeprofile.Compile(p.Profile, s.cfg.loc)
	if err != nil {
		// Stored profiles compiled when they were written; one that no
		// longer does (written by a Service in another zone) grants nothing.
		s.cfg.log.Warn("time profile does not compile; treated as missing", "link_id", linkID, "err", err)
		return nil, nil
	}
	c.mu.Lock()
	c.schedules[linkID] = sch
	c.mu.Unlock()
	return sch, nil
}
