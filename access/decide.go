package access

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/timeprofile"
)

// Request asks whether a credential may open a lock at an instant.
type Request struct {
	Type IdentifierType
	// Number is the credential as the reader presents it; for face_id, the
	// link_id of the face identifier that the panel's recogniser matched.
	Number string
	Lock   int       // 1 for the first lock, 2 for the second
	At     time.Time // the zero time means now
}

// Reason says why a decision went as it did.
type Reason string

// The reasons of a Decision.
const (
	Granted            Reason = "granted"
	UnknownCredential  Reason = "unknown_credential"
	UserBlocked        Reason = "user_blocked"
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
	PassesLeft       int    // after this decision; -1 when passes are not limited
}

// credential is what a decision needs of an identifier, decoded and
// compiled once per generation of the store.
type credential struct {
	linkID     string
	lock       Lock
	validity   Validity
	limited    bool                    // passes are counted
	blocked    bool                    // a user owning it is blocked
	userLocks  []int                   // lock_number of each owning user
	schedules  []*timeprofile.Schedule // of the identifier and its users
	profileGap bool                    // a bound profile does not exist
}

type numberKeyT struct {
	t IdentifierType
	n string
}

// decisionCache holds credentials of one generation of the store.
type decisionCache struct {
	gen         uint64
	credentials map[numberKeyT]*credential
	schedules   map[string]*timeprofile.Schedule
}

func newDecisionCache(gen uint64) *decisionCache {
	return &decisionCache{gen: gen, credentials: map[numberKeyT]*credential{}, schedules: map[string]*timeprofile.Schedule{}}
}

// Decide answers r. It fails closed: a credential bound to a time profile
// that does not exist is denied. The checks, in order: the credential is
// known; none of its users is blocked; its lock ("all" or empty: both) and
// each owning user's lock_number (0 both) include r.Lock; its validity
// window holds At; a time profile allows (any bound profile, of the
// identifier or of an owning user, active at At; none bound means always);
// and, for a credential with limited passes, one is left. A granted
// decision on such a credential consumes a pass atomically, in a write
// transaction; every other decision reads only.
//
// Decoded and compiled credentials are cached per generation of the store
// (a counter every write of this package increments), so a decision on a
// known credential decodes no JSON, and a change made by another Service
// on the same store is seen by the very next decision.
func (s *Service) Decide(ctx context.Context, r Request) (Decision, error) {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	op := s.lookups.Get().(*lookup)
	op.t, op.number = r.Type, r.Number
	err := s.st.View(ctx, op.fn)
	cred := op.cred
	*op = lookup{s: s, fn: op.fn}
	s.lookups.Put(op)
	if err != nil {
		return Decision{}, err
	}
	if cred == nil {
		return Decision{Reason: UnknownCredential, PassesLeft: -1}, nil
	}
	d := Decision{IdentifierLinkID: cred.linkID, PassesLeft: -1, Reason: cred.check(r)}
	if d.Reason != Granted {
		return d, nil
	}
	if !cred.limited {
		d.Allow = true
		return d, nil
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		left, err := passesLeft(tx, cred.linkID)
		if err != nil {
			return err
		}
		if left == 0 {
			d.Reason, d.PassesLeft, d.Allow = NoPassesLeft, 0, false
			return nil
		}
		d.Allow, d.PassesLeft = true, left-1
		return tx.Put(bucketPasses, []byte(cred.linkID), binary.BigEndian.AppendUint32(nil, uint32(left-1)))
	})
	if err != nil {
		return Decision{}, err
	}
	return d, nil
}

// check applies every rule but the pass count.
func (c *credential) check(r Request) Reason {
	if c.blocked {
		return UserBlocked
	}
	if (c.lock == LockFirst && r.Lock != 1) || (c.lock == LockSecond && r.Lock != 2) {
		return WrongLock
	}
	for _, l := range c.userLocks {
		if l != 0 && l != r.Lock {
			return WrongLock
		}
	}
	if t := c.validity.Time; !t.IsPermanent {
		at := r.At.Unix()
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
		if sch.Active(r.At) {
			return Granted
		}
	}
	return OutsideTimeProfile
}

// lookup is one credential lookup in a read transaction. Lookups are
// pooled with their transaction function bound once, so that a decision
// allocates no closure: the hot path stays within the store's own
// allocation.
type lookup struct {
	s      *Service
	fn     func(store.Tx) error // l.run
	t      IdentifierType
	number string
	cred   *credential
}

func (l *lookup) run(tx store.Tx) (err error) {
	l.cred, err = l.s.credential(tx, l.t, l.number)
	return err
}

func (s *Service) newLookup() any {
	l := &lookup{s: s}
	l.fn = l.run
	return l
}

// credential returns the cached credential for a number, loading it on a
// miss, or nil for an unknown one (unknown numbers are not cached: they
// cost one index lookup and no decoding).
func (s *Service) credential(tx store.Tx, t IdentifierType, number string) (*credential, error) {
	gen, err := generation(tx)
	if err != nil {
		return nil, err
	}
	key := numberKeyT{t, number}
	c := s.cacheFor(gen)
	s.mu.RLock()
	cred, ok := c.credentials[key]
	s.mu.RUnlock()
	if ok {
		return cred, nil
	}
	if cred, err = s.loadCredential(tx, c, t, number); err != nil || cred == nil {
		return nil, err
	}
	s.mu.Lock()
	c.credentials[key] = cred
	s.mu.Unlock()
	return cred, nil
}

// cacheFor returns the cache of generation gen: the current one, a new one
// replacing it when the store has moved on, or a throwaway one for a
// transaction that saw an older generation than another already did.
func (s *Service) cacheFor(gen uint64) *decisionCache {
	s.mu.RLock()
	c := s.cache
	s.mu.RUnlock()
	if c.gen == gen {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case gen > s.cache.gen:
		s.cache = newDecisionCache(gen)
	case gen < s.cache.gen:
		return newDecisionCache(gen)
	}
	return s.cache
}

// loadCredential decodes an identifier, its owning users and their time
// profiles. Compiled schedules are shared through c.
func (s *Service) loadCredential(tx store.Tx, c *decisionCache, t IdentifierType, number string) (*credential, error) {
	linkID := number
	if t != FaceID {
		n, ok := normalizeNumber(t, number)
		if !ok {
			return nil, nil
		}
		v, err := tx.Get(bucketNumbers, numberKey(t, n))
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
	cred := &credential{linkID: id.LinkID, lock: id.Lock, validity: id.Valid, limited: !id.Valid.Passes.IsPermanent}
	profiles := id.TimeProfiles.LinkIDs
	err = tx.Scan(bucketOwners, append([]byte(linkID), 0), func(k, _ []byte) error {
		u, ok, err := getJSON[User](tx, bucketUsers, string(k[len(linkID)+1:]))
		if err != nil || !ok {
			return err
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
	s.mu.RLock()
	sch, ok := c.schedules[linkID]
	s.mu.RUnlock()
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
	s.mu.Lock()
	c.schedules[linkID] = sch
	s.mu.Unlock()
	return sch, nil
}
