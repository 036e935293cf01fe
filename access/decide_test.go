package access_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/memory"
)

// officeHours is daily 08:00-18:00 UTC from 2026-01-01.
func officeHours(t testing.TB, linkID string) access.TimeProfile {
	t.Helper()
	var p access.TimeProfile
	require.NoError(t, json.Unmarshal([]byte(`{"link_id":"`+linkID+`","name":"office","time_options":{"date_from":1767254400,"date_to":1767290400},
		"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"day","repeat_end":{"format":"never"}}}}`), &p))
	return p
}

var (
	morning = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	night   = time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
)

func TestDecideReasons(t *testing.T) {
	ctx := context.Background()
	const (
		idPlain, idFirst, idWindow, idProfile, idGone, idBlocked, idUserLock = "00000000-0000-4000-8000-000000000001",
			"00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004",
			"00000000-0000-4000-8000-000000000005", "00000000-0000-4000-8000-000000000006", "00000000-0000-4000-8000-000000000007"
		goneProfile = "00000000-0000-4000-8000-0000000000ff"
	)
	s := newService(t)
	_, err := s.UpsertTimeProfiles(ctx, []access.TimeProfile{officeHours(t, tpID), officeHours(t, goneProfile)})
	require.NoError(t, err)
	first := card(idFirst, "200")
	first.Lock = access.LockFirst
	window := card(idWindow, "300")
	window.Valid.Time.IsPermanent = false
	window.Valid.Time.From, window.Valid.Time.To = morning.Add(-time.Hour).Unix(), morning.Add(time.Hour).Unix()
	withProfile := card(idProfile, "400")
	withProfile.TimeProfiles.LinkIDs = []string{tpID}
	withGone := card(idGone, "500")
	withGone.TimeProfiles.LinkIDs = []string{goneProfile}
	_, err = s.UpsertIdentifiers(ctx, []access.Identifier{card(idPlain, "100"), first, window, withProfile, withGone,
		card(idBlocked, "600"), card(idUserLock, "700")})
	require.NoError(t, err)
	blocked := user(seedA, "Blocked")
	blocked.IsBlocked, blocked.IdentifierLinkIDs = true, []string{idBlocked}
	secondOnly := user(seedB, "Second door only")
	secondOnly.LockNumber, secondOnly.IdentifierLinkIDs = 2, []string{idUserLock}
	_, err = s.UpsertUsers(ctx, []access.User{blocked, secondOnly})
	require.NoError(t, err)
	_, err = s.DeleteTimeProfiles(ctx, []string{goneProfile})
	require.NoError(t, err)

	tests := []struct {
		name   string
		number string
		lock   access.Door
		at     time.Time
		want   access.Reason
	}{
		{"granted", "100", 1, morning, access.Granted},
		{"unknown", "999", 1, morning, access.UnknownCredential},
		{"malformed number", "xyz", 1, morning, access.UnknownCredential},
		{"wrong lock", "200", 2, morning, access.WrongLock},
		{"right lock", "200", 1, morning, access.Granted},
		{"not yet valid", "300", 1, morning.Add(-2 * time.Hour), access.NotYetValid},
		{"valid", "300", 1, morning, access.Granted},
		{"expired", "300", 1, morning.Add(time.Hour), access.Expired},
		{"inside profile", "400", 1, morning, access.Granted},
		{"outside profile", "400", 1, night, access.OutsideTimeProfile},
		{"deleted profile fails closed", "500", 1, morning, access.TimeProfileMissing},
		{"blocked user", "600", 1, morning, access.UserBlocked},
		{"user's lock_number", "700", 1, morning, access.WrongLock},
		{"user's lock_number allows", "700", 2, morning, access.Granted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.Decide(ctx, access.Request{Type: access.Card, Number: tc.number, Lock: tc.lock, At: tc.at})
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Reason)
			assert.Equal(t, tc.want == access.Granted, d.Allow)
		})
	}
	// A user's time profile binds the identifiers it owns.
	secondOnly.TimeProfileLinkIDs = []string{tpID}
	_, err = s.UpsertUsers(ctx, []access.User{secondOnly})
	require.NoError(t, err)
	d, err := s.Decide(ctx, access.Request{Type: access.Card, Number: "700", Lock: 2, At: night})
	require.NoError(t, err)
	assert.Equal(t, access.OutsideTimeProfile, d.Reason, "the user's profile, changed after the cache filled")
	// Re-creating the deleted profile lets its identifiers in again.
	_, err = s.UpsertTimeProfiles(ctx, []access.TimeProfile{officeHours(t, goneProfile)})
	require.NoError(t, err)
	d, err = s.Decide(ctx, access.Request{Type: access.Card, Number: "500", Lock: 1, At: morning})
	require.NoError(t, err)
	assert.True(t, d.Allow)
}

func TestPassesAreConsumedExactly(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	limited := card(seedA, "4242")
	limited.Valid.Passes.IsPermanent, limited.Valid.Passes.MaxPasses = false, 10
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{limited})
	require.NoError(t, err)
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := s.Decide(ctx, access.Request{Type: access.Card, Number: "4242", Lock: 1, At: morning})
			assert.NoError(t, err)
			if d.Allow {
				granted.Add(1)
			} else {
				assert.Equal(t, access.NoPassesLeft, d.Reason)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(10), granted.Load())
	got, err := s.GetIdentifier(ctx, seedA)
	require.NoError(t, err)
	assert.Equal(t, 0, *got.Additional.PassesLeft)
}

func TestTwoServicesOnOneStore(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	a, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
	require.NoError(t, err)
	b, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
	require.NoError(t, err)
	decide := func(s *access.Service) access.Reason {
		d, err := s.Decide(ctx, access.Request{Type: access.Card, Number: "777", Lock: 1, At: morning})
		require.NoError(t, err)
		return d.Reason
	}
	assert.Equal(t, access.UnknownCredential, decide(b))
	_, err = a.UpsertIdentifiers(ctx, []access.Identifier{card(seedA, "777")})
	require.NoError(t, err)
	assert.Equal(t, access.Granted, decide(b), "b sees a's new identifier at once")
	withProfile := card(seedA, "777")
	withProfile.TimeProfiles.LinkIDs = []string{tpID}
	_, err = b.UpsertIdentifiers(ctx, []access.Identifier{withProfile})
	require.NoError(t, err)
	assert.Equal(t, access.TimeProfileMissing, decide(a), "a's cached credential is dropped")
	_, err = a.DeleteIdentifiers(ctx, []string{seedA})
	require.NoError(t, err)
	assert.Equal(t, access.UnknownCredential, decide(b))
}

func TestConcurrentBatchesAndDecisions(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 20 {
				id := fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", w, i)
				_, err := s.UpsertIdentifiers(ctx, []access.Identifier{card(id, fmt.Sprint(w*1000+i))})
				assert.NoError(t, err)
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 50 {
				_, err := s.Decide(ctx, access.Request{Type: access.Card, Number: fmt.Sprint(w*1000 + i%20), Lock: 1, At: morning})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	ids, _, err := s.ListIdentifiers(ctx, access.Page{Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, ids, 80)
}

// fillIdentifiers stores n permanent cards numbered 1..n.
func fillIdentifiers(b testing.TB, s *access.Service, n int) {
	b.Helper()
	const chunk = 10_000
	for start := 0; start < n; start += chunk {
		batch := make([]access.Identifier, 0, chunk)
		for i := start; i < min(n, start+chunk); i++ {
			batch = append(batch, card(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprint(i+1)))
		}
		_, err := s.UpsertIdentifiers(context.Background(), batch)
		require.NoError(b, err)
	}
}

func BenchmarkDecide(b *testing.B) {
	ctx := context.Background()
	s := newService(b)
	fillIdentifiers(b, s, 100_000)
	profiled := card("10000000-0000-4000-8000-000000000000", "9999999")
	profiled.TimeProfiles.LinkIDs = []string{tpID}
	_, err := s.UpsertTimeProfiles(ctx, []access.TimeProfile{officeHours(b, tpID)})
	require.NoError(b, err)
	_, err = s.UpsertIdentifiers(ctx, []access.Identifier{profiled})
	require.NoError(b, err)
	numbers := make([]string, 1000)
	for i := range numbers {
		numbers[i] = fmt.Sprint(i*97 + 1)
	}
	// The floor: a bare map lookup of the same 100,000 numbers and the same
	// checks on a plain struct, measured in the same run.
	b.Run("Floor", func(b *testing.B) {
		type plain struct {
			linkID        string
			lock          access.Lock
			permanent     bool
			from, to      int64
			blocked, gone bool
			limited       bool
			userLocks     []int
			profiles      []int
		}
		type key struct {
			t access.IdentifierType
			n string
		}
		m := make(map[key]*plain, 100_000)
		for i := range 100_000 {
			m[key{access.Card, fmt.Sprint(i*97 + 1)}] = &plain{linkID: fmt.Sprint(i), lock: access.LockAll, permanent: true}
		}
		b.ReportAllocs()
		i, door := 0, access.FirstDoor
		for b.Loop() {
			p := m[key{access.Card, numbers[i%len(numbers)]}]
			at := morning.Unix()
			allow := p != nil && !p.blocked && !p.gone && (p.lock != access.LockFirst || door == access.FirstDoor) &&
				(p.lock != access.LockSecond || door == access.SecondDoor) &&
				(p.permanent || (at >= p.from && at < p.to)) && !p.limited && len(p.userLocks) == 0 && len(p.profiles) == 0
			if !allow {
				b.Fatal(p)
			}
			i++
		}
	})
	b.Run("Card100kWarm", func(b *testing.B) {
		for _, n := range numbers { // fill the cache, as a running panel has
			_, _ = s.Decide(ctx, access.Request{Type: access.Card, Number: n, Lock: 1, At: morning})
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			d, err := s.Decide(ctx, access.Request{Type: access.Card, Number: numbers[i%len(numbers)], Lock: 1, At: morning})
			if err != nil || !d.Allow {
				b.Fatal(d, err)
			}
			i++
		}
	})
	b.Run("WithTimeProfile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, err := s.Decide(ctx, access.Request{Type: access.Card, Number: "9999999", Lock: 1, At: morning})
			if err != nil || !d.Allow {
				b.Fatal(d, err)
			}
		}
	})
	b.Run("Unknown", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d, _ := s.Decide(ctx, access.Request{Type: access.Card, Number: "8888888", Lock: 1, At: morning}); d.Allow {
				b.Fatal(d)
			}
		}
	})
}

func BenchmarkUpsertUsers10000File(b *testing.B) {
	ctx := context.Background()
	users := make([]access.User, 10_000)
	for i := range users {
		users[i] = user(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprintf("Resident %d", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		st, err := file.Open(filepath.Join(b.TempDir(), "lintel.db"), nil)
		require.NoError(b, err)
		s, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
		require.NoError(b, err)
		b.StartTimer()
		rs, err := s.UpsertUsers(ctx, users)
		if err != nil || len(rs) != len(users) {
			b.Fatal(err)
		}
		b.StopTimer()
		require.NoError(b, st.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(len(users)), "users/op")
}
