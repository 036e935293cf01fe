package access_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/memory"
)

func journaled(t testing.TB, st store.Store) (*access.Service, *journal.Journal) {
	t.Helper()
	j, err := journal.Open(context.Background(), st, journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	s, err := access.New(context.Background(), st, access.WithFaceChecker(fakeFaces{}), access.WithJournal(j))
	require.NoError(t, err)
	return s, j
}

func events(t *testing.T, j *journal.Journal, kind journal.Kind) []journal.Event {
	t.Helper()
	require.NoError(t, j.Flush(context.Background()))
	evs, err := j.Events(context.Background(), 0, journal.Filter{Kinds: []journal.Kind{kind}}, 0)
	require.NoError(t, err)
	return evs
}

func TestDecisionsAreJournaledMasked(t *testing.T) {
	ctx := journal.WithSource(context.Background(), "door-1")
	s, j := journaled(t, memory.New())
	pin := card(seedB, "123456")
	pin.Type = access.InputCode
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{card(cardA, "0A:1B:2C:3D"), pin})
	require.NoError(t, err)
	u := user(userX, "Ada")
	u.IdentifierLinkIDs, u.LockNumber = []string{cardA}, 1
	_, err = s.UpsertUsers(ctx, []access.User{u})
	require.NoError(t, err)

	for _, r := range []access.Request{
		{Type: access.Card, Number: "0a-1b-2c-3d", Lock: access.FirstDoor, At: morning},
		{Type: access.Card, Number: "0a-1b-2c-3d", Lock: access.SecondDoor, At: morning},
		{Type: access.InputCode, Number: "123456", Lock: access.FirstDoor, At: morning},
		{Type: access.InputCode, Number: "654321", Lock: access.FirstDoor, At: morning},
		{Type: access.Card, Number: "99:88:77:66:55", Lock: access.FirstDoor, At: morning},
	} {
		_, err := s.Decide(ctx, r)
		require.NoError(t, err)
	}
	_, err = s.Check(ctx, access.Request{Type: access.Card, Number: "0a-1b-2c-3d", Lock: access.FirstDoor, At: morning})
	require.NoError(t, err)

	evs := events(t, j, journal.Decision)
	require.Len(t, evs, 5, "a dry run is not journaled")
	want := []journal.Event{
		{Granted: true, Reason: "granted", CredentialType: "card", Number: "*******C-3D", IdentifierLinkID: cardA, UserLinkID: userX, UserName: "Ada", Lock: 1},
		{Reason: "wrong_lock", CredentialType: "card", Number: "*******C-3D", IdentifierLinkID: cardA, UserLinkID: userX, UserName: "Ada", Lock: 2},
		{Granted: true, Reason: "granted", CredentialType: "inputCode", Number: "****", IdentifierLinkID: seedB, Lock: 1},
		{Reason: "unknown_credential", CredentialType: "inputCode", Number: "****", Lock: 1},
		{Reason: "unknown_credential", CredentialType: "card", Number: "**********6:55", Lock: 1},
	}
	for i, ev := range evs {
		w := want[i]
		w.ID, w.Time, w.Kind, w.Source = ev.ID, morning, journal.Decision, "door-1"
		assert.Equal(t, w, ev, "event %d", i)
		assert.NotContains(t, ev.Number, "123456")
	}
}

func TestBatchesAreJournaledInTheirTransaction(t *testing.T) {
	ctx := journal.WithSource(context.Background(), "admin")
	s, j := journaled(t, memory.New())
	_, err := s.UpsertIdentifiers(ctx, []access.Identifier{card(cardA, "1"), card(seedB, "1")})
	require.NoError(t, err)
	_, err = s.DeleteUsers(ctx, []string{userX})
	require.NoError(t, err)
	apt := access.Apartment{LinkID: seedA, Address: access.Address{Building: 1}}
	other := apt
	other.LinkID = seedD
	_, err = s.UpsertApartments(ctx, []access.Apartment{apt, other})
	require.ErrorIs(t, err, access.ErrAddressTaken, "rolled back: no event")

	evs := events(t, j, journal.Batch)
	require.Len(t, evs, 2)
	assert.Equal(t, journal.Event{ID: evs[0].ID, Time: evs[0].Time, Kind: journal.Batch, Source: "admin", Name: "upsert", Entity: "identifiers",
		Items: []journal.Item{{LinkID: cardA, Outcome: "created"}, {LinkID: seedB, Outcome: "number_taken_by_another_identifier"}}}, evs[0])
	assert.Equal(t, "delete", evs[1].Name)
	assert.Equal(t, []journal.Item{{LinkID: userX, Outcome: "not_found"}}, evs[1].Items)
}

// BenchmarkDecideJournal compares decisions with the journal off and on,
// on the memory and the file store, in one run.
func BenchmarkDecideJournal(b *testing.B) {
	for _, kind := range []string{"memory", "file"} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/journal=%v", kind, on), func(b *testing.B) {
				ctx := context.Background()
				var st store.Store = memory.New()
				if kind == "file" {
					f, err := file.Open(filepath.Join(b.TempDir(), "lintel.db"), nil)
					require.NoError(b, err)
					b.Cleanup(func() { _ = f.Close() })
					st = f
				}
				var s *access.Service
				if on {
					s, _ = journaled(b, st)
				} else {
					var err error
					s, err = access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
					require.NoError(b, err)
				}
				fillIdentifiers(b, s, 10_000)
				r := access.Request{Type: access.Card, Number: "1", Lock: access.FirstDoor, At: morning}
				_, _ = s.Decide(ctx, r)
				b.ReportAllocs()
				for b.Loop() {
					if d, err := s.Decide(ctx, r); err != nil || !d.Allow {
						b.Fatal(d, err)
					}
				}
			})
		}
	}
}
