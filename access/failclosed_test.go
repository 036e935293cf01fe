package access_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

const (
	cardA = "00000000-0000-4000-8000-00000000000a"
	userX = "00000000-0000-4000-8000-0000000000e1"
	userY = "00000000-0000-4000-8000-0000000000e2"
)

func decideCard(t *testing.T, s *access.Service, number string, door access.Door, at time.Time) access.Decision {
	t.Helper()
	d, err := s.Decide(context.Background(), access.Request{Type: access.Card, Number: number, Lock: door, At: at})
	require.NoError(t, err)
	assert.Equal(t, d.Reason == access.Granted, d.Allow, "Allow agrees with Reason")
	return d
}

// Every way a user can restrict a card, and every way the card can lose
// that user: the card must stay shut until it is pushed again.
func TestLosingARestrictingUserNeverOpens(t *testing.T) {
	ctx := context.Background()
	restrictions := []struct {
		name     string
		restrict func(*access.User)
		door     access.Door
		at       time.Time
		was      access.Reason
	}{
		{"blocked", func(u *access.User) { u.IsBlocked = true }, access.FirstDoor, morning, access.UserBlocked},
		{"lock_number", func(u *access.User) { u.LockNumber = 1 }, access.SecondDoor, morning, access.WrongLock},
		{"time profile", func(u *access.User) { u.TimeProfileLinkIDs = []string{tpID} }, access.FirstDoor, night, access.OutsideTimeProfile},
	}
	losses := []struct {
		name string
		lose func(*testing.T, *access.Service, access.User)
	}{
		{"user deleted", func(t *testing.T, s *access.Service, u access.User) {
			rs, err := s.DeleteUsers(ctx, []string{u.LinkID})
			require.NoError(t, err)
			require.Equal(t, access.Deleted, rs[0].ExtendedInfo)
		}},
		{"card unlinked", func(t *testing.T, s *access.Service, u access.User) {
			u.IdentifierLinkIDs = nil
			_, err := s.UpsertUsers(ctx, []access.User{u})
			require.NoError(t, err)
		}},
	}
	for _, rc := range restrictions {
		for _, lc := range losses {
			t.Run(rc.name+"/"+lc.name, func(t *testing.T) {
				s := newService(t)
				_, err := s.UpsertTimeProfiles(ctx, []access.TimeProfile{officeHours(t, tpID)})
				require.NoError(t, err)
				_, err = s.UpsertIdentifiers(ctx, []access.Identifier{card(cardA, "4242")})
				require.NoError(t, err)
				u := user(userX, "Restricted")
				u.IdentifierLinkIDs = []string{cardA}
				rc.restrict(&u)
				_, err = s.UpsertUsers(ctx, []access.User{u})
				require.NoError(t, err)
				require.Equal(t, rc.was, decideCard(t, s, "4242", rc.door, rc.at).Reason)

				lc.lose(t, s, u)
				assert.Equal(t, access.OwnerRemoved, decideCard(t, s, "4242", rc.door, rc.at).Reason)
				assert.Equal(t, access.OwnerRemoved, decideCard(t, s, "4242", access.FirstDoor, morning).Reason,
					"a card that lost its user is shut at every door and time")

				// Pushing the card again is the management system's word that
				// it stands on its own.
				_, err = s.UpsertIdentifiers(ctx, []access.Identifier{card(cardA, "4242")})
				require.NoError(t, err)
				assert.Equal(t, access.Granted, decideCard(t, s, "4242", rc.door, rc.at).Reason)
			})
		}
	}
}

func TestUnrestrictingUserLeavesNoMark(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{card(cardA, "4242")})
	require.NoError(t, err)
	u := user(userX, "Plain")
	u.IdentifierLinkIDs = []string{cardA}
	_, err = s.UpsertUsers(ctx, []access.User{u})
	require.NoError(t, err)
	_, err = s.DeleteUsers(ctx, []string{userX})
	require.NoError(t, err)
	assert.Equal(t, access.Granted, decideCard(t, s, "4242", access.SecondDoor, night).Reason)
}

func TestMovingACardInOneBatchKeepsItWorking(t *testing.T) {
	ctx := context.Background()
	for _, order := range []string{"drop first", "add first"} {
		t.Run(order, func(t *testing.T) {
			s := newService(t)
			_, err := s.UpsertIdentifiers(ctx, []access.Identifier{card(cardA, "4242")})
			require.NoError(t, err)
			from := user(userX, "From")
			from.LockNumber, from.IdentifierLinkIDs = 1, []string{cardA}
			_, err = s.UpsertUsers(ctx, []access.User{from})
			require.NoError(t, err)
			from.IdentifierLinkIDs = nil
			to := user(userY, "To")
			to.LockNumber, to.IdentifierLinkIDs = 2, []string{cardA}
			batch := []access.User{from, to}
			if order == "add first" {
				batch = []access.User{to, from}
			}
			_, err = s.UpsertUsers(ctx, batch)
			require.NoError(t, err)
			assert.Equal(t, access.Granted, decideCard(t, s, "4242", access.SecondDoor, morning).Reason)
			assert.Equal(t, access.WrongLock, decideCard(t, s, "4242", access.FirstDoor, morning).Reason)
		})
	}
}

// A second owner does not let a delete through: the card loses the
// blocked user's block, so it is shut until it is pushed again.
func TestDeletingOneOfTwoOwners(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{card(cardA, "4242")})
	require.NoError(t, err)
	blocked, other := user(userX, "Blocked"), user(userY, "Other")
	blocked.IsBlocked, blocked.IdentifierLinkIDs = true, []string{cardA}
	other.IdentifierLinkIDs = []string{cardA}
	_, err = s.UpsertUsers(ctx, []access.User{blocked, other})
	require.NoError(t, err)
	_, err = s.DeleteUsers(ctx, []string{userX})
	require.NoError(t, err)
	assert.Equal(t, access.OwnerRemoved, decideCard(t, s, "4242", access.FirstDoor, morning).Reason)
	_, err = s.UpsertUsers(ctx, []access.User{other}) // the same links again: no new link
	require.NoError(t, err)
	assert.Equal(t, access.OwnerRemoved, decideCard(t, s, "4242", access.FirstDoor, morning).Reason)
}

// hookStore runs before once, just before the first Update it is asked
// for: the moment between a decision's read and its write.
type hookStore struct {
	store.Store
	once   sync.Once
	before func()
}

func (h *hookStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	h.once.Do(func() {
		if h.before != nil {
			h.before()
		}
	})
	return h.Store.Update(ctx, fn)
}

func TestPassConsumptionRechecksInOneTransaction(t *testing.T) {
	ctx := context.Background()
	limited := card(cardA, "4242")
	limited.Valid.Passes.IsPermanent, limited.Valid.Passes.MaxPasses = false, 3
	owner := user(userX, "Owner")
	owner.IdentifierLinkIDs = []string{cardA}
	tests := []struct {
		name    string
		between func(*testing.T, *access.Service)
		want    access.Reason
	}{
		{"user blocked", func(t *testing.T, s *access.Service) {
			u := owner
			u.IsBlocked = true
			_, err := s.UpsertUsers(ctx, []access.User{u})
			require.NoError(t, err)
		}, access.UserBlocked},
		{"card deleted", func(t *testing.T, s *access.Service) {
			_, err := s.DeleteIdentifiers(ctx, []string{cardA})
			require.NoError(t, err)
		}, access.UnknownCredential},
		{"passes used up", func(t *testing.T, s *access.Service) {
			l := limited
			zero := 0
			l.Additional.PassesLeft = &zero
			_, err := s.UpsertIdentifiers(ctx, []access.Identifier{l})
			require.NoError(t, err)
		}, access.NoPassesLeft},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inner := memory.New()
			other, err := access.New(ctx, inner, access.WithFaceChecker(fakeFaces{}))
			require.NoError(t, err)
			_, err = other.UpsertIdentifiers(ctx, []access.Identifier{limited})
			require.NoError(t, err)
			_, err = other.UpsertUsers(ctx, []access.User{owner})
			require.NoError(t, err)
			hs := &hookStore{Store: inner}
			s, err := access.New(ctx, hs, access.WithFaceChecker(fakeFaces{}))
			require.NoError(t, err)
			hs.once = sync.Once{} // New's own Update was not the decision's
			hs.before = func() { tc.between(t, other) }

			d := decideCard(t, s, "4242", access.FirstDoor, morning)
			assert.Equal(t, tc.want, d.Reason)
			if tc.want != access.UnknownCredential {
				got, err := other.GetIdentifier(ctx, cardA)
				require.NoError(t, err)
				want := 3
				if tc.want == access.NoPassesLeft {
					want = 0
				}
				assert.Equal(t, want, *got.Additional.PassesLeft, "a denied decision consumes nothing")
			}
		})
	}
}

func TestCheckConsumesNothing(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	limited := card(cardA, "4242")
	limited.Valid.Passes.IsPermanent, limited.Valid.Passes.MaxPasses = false, 1
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{limited})
	require.NoError(t, err)
	for range 3 {
		d, err := s.Check(ctx, access.Request{Type: access.Card, Number: "4242", Lock: access.FirstDoor, At: morning})
		require.NoError(t, err)
		assert.Equal(t, access.Decision{Allow: true, Reason: access.Granted, IdentifierLinkID: cardA, PassesLeft: 1}, d)
	}
	assert.Equal(t, 0, decideCard(t, s, "4242", access.FirstDoor, morning).PassesLeft)
	d, err := s.Check(ctx, access.Request{Type: access.Card, Number: "4242", Lock: access.FirstDoor, At: morning})
	require.NoError(t, err)
	assert.Equal(t, access.Decision{Reason: access.NoPassesLeft, IdentifierLinkID: cardA, PassesLeft: 0}, d)
}

func TestDecideRefusesDoorsThatDoNotExist(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	all := card(cardA, "4242")
	all.Lock = access.LockAll
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{all})
	require.NoError(t, err)
	for _, door := range []access.Door{0, 3, -7, 1 << 40} {
		for _, f := range []func(context.Context, access.Request) (access.Decision, error){s.Decide, s.Check} {
			d, err := f(ctx, access.Request{Type: access.Card, Number: "4242", Lock: door, At: morning})
			require.ErrorIs(t, err, access.ErrInvalidDoor, "door %d", door)
			assert.False(t, d.Allow)
		}
	}
	assert.True(t, access.FirstDoor.Valid())
	assert.True(t, access.SecondDoor.Valid())
}

func TestPassCountsNeverWrap(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	limited := func(max int, left *int) access.Identifier {
		id := card(cardA, "4242")
		id.Valid.Passes.IsPermanent, id.Valid.Passes.MaxPasses, id.Additional.PassesLeft = false, max, left
		return id
	}
	n := func(v int) *int { return &v }
	tests := []struct {
		name string
		id   access.Identifier
		path string
	}{
		{"max_passes 2^32", limited(1<<32, nil), "valid.passes.max_passes"},
		{"max_passes 2^32+1", limited(1<<32+1, nil), "valid.passes.max_passes"},
		{"passes_left 2^32", limited(5, n(1<<32)), "additional.passes_left"},
		{"passes_left negative", limited(5, n(-1)), "additional.passes_left"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpsertIdentifiers(ctx, []access.Identifier{tc.id})
			require.EqualError(t, err, "access: item 0: value `"+tc.path+"` was of the wrong type")
			_, err = s.GetIdentifier(ctx, cardA)
			require.ErrorIs(t, err, access.ErrNotFound, "nothing written")
		})
	}
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{limited(1<<32-1, nil)})
	require.NoError(t, err)
	got, err := s.GetIdentifier(ctx, cardA)
	require.NoError(t, err)
	assert.Equal(t, 1<<32-1, *got.Additional.PassesLeft)
	assert.Equal(t, 1<<32-2, decideCard(t, s, "4242", access.FirstDoor, morning).PassesLeft)
}

func TestIndexKeysAreInjective(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	rs, err := s.UpsertUsers(ctx, []access.User{user(userX, "Zed"), user(userY, "Zed\x00Extra")})
	require.NoError(t, err)
	for _, r := range rs {
		assert.False(t, *r.HasDuplicates, "%s", r.LinkID)
	}
	rs, err = s.UpsertUsers(ctx, []access.User{user(seedA, "Zed")})
	require.NoError(t, err)
	assert.True(t, *rs[0].HasDuplicates, "a real duplicate is still found")
}

// A store written with the old 0-joined index keys is re-indexed on open.
func TestOldIndexLayoutIsRebuilt(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	u := user(userX, "Zed")
	u.IsBlocked, u.IdentifierLinkIDs = true, []string{cardA}
	id := card(cardA, "0a:1b")
	err := st.Update(ctx, func(tx store.Tx) error {
		put := func(bucket, key string, v any) {
			raw := []byte(nil)
			if v != nil {
				var err error
				raw, err = json.Marshal(v)
				require.NoError(t, err)
			}
			require.NoError(t, tx.CreateBucketIfNotExists([]byte(bucket)))
			require.NoError(t, tx.Put([]byte(bucket), []byte(key), raw))
		}
		put("access.users", userX, u)
		put("access.users.by_name", "Zed\x00"+userX, nil)
		put("access.identifiers", cardA, id)
		require.NoError(t, tx.CreateBucketIfNotExists([]byte("access.numbers")))
		require.NoError(t, tx.Put([]byte("access.numbers"), []byte("card\x000A-1B"), []byte(cardA)))
		put("access.identifier_users", cardA+"\x00"+userX, nil)
		return nil
	})
	require.NoError(t, err)
	s, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
	require.NoError(t, err)
	assert.Equal(t, access.UserBlocked, decideCard(t, s, "0A-1B", access.FirstDoor, morning).Reason)
	rs, err := s.UpsertUsers(ctx, []access.User{user(userY, "Zed")})
	require.NoError(t, err)
	assert.True(t, *rs[0].HasDuplicates)
	err = st.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get([]byte("access.users.by_name"), []byte("Zed\x00"+userX))
		assert.ErrorIs(t, err, store.ErrNotFound, "old keys are gone")
		return nil
	})
	require.NoError(t, err)
	got, err := s.GetIdentifier(ctx, cardA)
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.UID, "an identifier stored before UIDs gets one on open")
}

// Identifiers get UIDs 1, 2, 3, ... when created, keep them when updated,
// never reuse them, and a UID sent in a batch is ignored.
func TestIdentifierUIDs(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	a, b := card(cardA, "0a:1b"), card(userX, "0a:1c")
	a.UID = 77
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{a, b})
	require.NoError(t, err)
	uid := func(linkID string) int64 {
		t.Helper()
		id, err := s.GetIdentifier(ctx, linkID)
		require.NoError(t, err)
		return id.UID
	}
	assert.Equal(t, int64(1), uid(cardA))
	assert.Equal(t, int64(2), uid(userX))
	a.UID, a.Number = 5, "0a:1d"
	_, err = s.UpsertIdentifiers(ctx, []access.Identifier{a})
	require.NoError(t, err)
	assert.Equal(t, int64(1), uid(cardA), "an update keeps the UID")
	_, err = s.DeleteIdentifiers(ctx, []string{userX})
	require.NoError(t, err)
	_, err = s.UpsertIdentifiers(ctx, []access.Identifier{b})
	require.NoError(t, err)
	assert.Equal(t, int64(3), uid(userX), "a deleted identifier's UID is not reused")
}

func TestLicencePlatesFoldOnlyOneToOne(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	plate := func(linkID, number string) access.Identifier {
		id := card(linkID, number)
		id.Type = access.LicensePlate
		return id
	}
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{plate(cardA, "SIS 123"), plate(userX, "ав 777")})
	require.NoError(t, err)
	tests := []struct {
		presented string
		want      access.Reason
	}{
		{"SIS 123", access.Granted},
		{"sis 123", access.Granted},
		{" SIS 123 ", access.Granted},
		{"ſıſ 123", access.UnknownCredential}, // long s and dotless i are not S and I
		{"ſIS 123", access.UnknownCredential},
		{"SIS  123", access.UnknownCredential},
		{"АВ 777", access.Granted},           // Cyrillic pairs are one to one
		{"AB 777", access.UnknownCredential}, // Latin look-alikes are other letters
		{"SIS\t123", access.UnknownCredential},
	}
	for _, tc := range tests {
		d, err := s.Decide(ctx, access.Request{Type: access.LicensePlate, Number: tc.presented, Lock: access.FirstDoor, At: morning})
		require.NoError(t, err)
		assert.Equal(t, tc.want, d.Reason, "%q", tc.presented)
	}
	for _, bad := range []string{"SIS\x00123", "SIS\t123", "\xff", "   "} {
		_, err := s.UpsertIdentifiers(ctx, []access.Identifier{plate(seedA, bad)})
		require.EqualError(t, err, "access: item 0: value `identifier_number` was of the wrong type", "%q", bad)
	}
	rs, err := s.UpsertIdentifiers(ctx, []access.Identifier{plate(seedA, "sis 123"), plate(seedB, "ſıſ 123")})
	require.NoError(t, err)
	assert.Equal(t, access.NumberTakenByAnotherIdentifier, rs[0].ExtendedInfo, "one plate in either case")
	assert.Equal(t, access.Created, rs[1].ExtendedInfo, "a different plate, not a taken number")
}

// slowFaces checks photos one at a time, slowly, counting how many run
// at once.
type slowFaces struct {
	running, most atomic.Int32
	delay         time.Duration
}

func (f *slowFaces) CheckFace(ctx context.Context, payload string) error {
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.most.Load()
		if n <= m || f.most.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return fakeFaces{}.CheckFace(ctx, payload)
}

func faceItems(n int) []access.Identifier {
	ids := make([]access.Identifier, n)
	for i := range ids {
		ids[i] = card(fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), "face")
		ids[i].Type = access.FaceID
	}
	return ids
}

func TestFacesAreCheckedInParallel(t *testing.T) {
	f := &slowFaces{delay: 20 * time.Millisecond}
	s := newService(t, access.WithFaceChecker(f))
	start := time.Now()
	rs, err := s.UpsertIdentifiers(context.Background(), faceItems(8))
	require.NoError(t, err)
	require.Len(t, rs, 8)
	if runtime.GOMAXPROCS(0) > 1 {
		assert.Greater(t, f.most.Load(), int32(1), "more than one check at once")
		assert.Less(t, time.Since(start), 8*20*time.Millisecond, "faster than one by one")
	}
	assert.LessOrEqual(t, f.most.Load(), int32(runtime.GOMAXPROCS(0)), "no more at once than CPUs")
}

func TestABatchWhoseClientIsGoneIsNotWritten(t *testing.T) {
	f := &slowFaces{delay: time.Second}
	s := newService(t, access.WithFaceChecker(f))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	ids := append(faceItems(4), card(cardA, "4242"))
	_, err := s.UpsertIdentifiers(ctx, ids)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = s.GetIdentifier(context.Background(), cardA)
	require.ErrorIs(t, err, access.ErrNotFound, "nothing of the batch was written")

	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.UpsertUsers(done, []access.User{user(userX, "Late")})
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.GetUser(context.Background(), userX)
	require.ErrorIs(t, err, access.ErrNotFound)
}
