package directory_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

func TestCardsMatch(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", false},
		{"", "0A1B2C", false},
		{"0A1B2C", "", false},
		{"0A", "0A", true},
		{"0a", "0A", true},
		{"0A", "0B", false},
		{"1", "1", true},
		{"0A1B2C", "0a1b2c", true},
		{"0A1B2C3D", "0A1B2C3D", true},
		{"0A1B2C3D", "0A1B2C3E", false},
		{"0A1B2C3D", "FA1B2C3D", false}, // equal lengths: every character
		{"0A1B2C3D4E", "2C3D4E", true},  // 6 from the end
		{"2c3d4e", "0A1B2C3D4E", true},  // either order, either case
		{"0A1B2C3D4E", "1B2C3D4E", true},
		{"0A1B2C3D4E", "C3D4E", false}, // 5 is too few
		{"0A1B2C3D4E", "3D4E", false},
		{"0A1B2C3D4E", "0A1B2C", false}, // a prefix is not a suffix
		{"0A1B2C3D4E", "2C3D4F", false},
		{"0A1B2C3D4E", "FF2C3D4E", false},
		{"000000000000", "000000", true},
		{"ABCDEF", "ABCDEFABCDEF", true},
		{"ABCDE", "ABCDE", true}, // short, but equal lengths
		{"ABCDE", "FABCDE", false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, directory.CardsMatch(tc.a, tc.b), "%q %q", tc.a, tc.b)
		assert.Equal(t, tc.want, directory.CardsMatch(tc.b, tc.a), "%q %q", tc.b, tc.a)
	}
}

func TestFindCard(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	res, err := d.Create(ctx, raws(t, `[
		{"uuid":"00000000-0000-4000-8000-000000000001","access":{"card":["0A1B2C3D4E",""]}},
		{"uuid":"00000000-0000-4000-8000-000000000002","access":{"card":["","991B2C3D4E"]}},
		{"uuid":"00000000-0000-4000-8000-000000000003","access":{"card":["ABCD","123456"]}},
		{"uuid":"00000000-0000-4000-8000-000000000004","access":{"card":["FF123456",""]}},
		{"uuid":"00000000-0000-4000-8000-000000000005","access":{"card":["5555555555","5555555555"]}}]`), false)
	require.NoError(t, err)
	for _, u := range res.Users {
		require.Empty(t, u.Errors)
	}
	tests := []struct {
		card, uuid string
		err        error
	}{
		{"0A1B2C3D4E", "00000000-0000-4000-8000-000000000001", nil}, // exact wins over 991B2C3D4E
		{"0a1b2c3d4e", "00000000-0000-4000-8000-000000000001", nil}, // case
		{"2C3D4E", "", directory.ErrAmbiguousCard},                  // matches 1 and 2, neither exactly
		{"991B2C3D4E", "00000000-0000-4000-8000-000000000002", nil}, // card[1]
		{"ABCD", "00000000-0000-4000-8000-000000000003", nil},       // short, exact
		{"0ABCD", "", nil}, // short, not equal
		{"123456", "00000000-0000-4000-8000-000000000003", nil},     // exact; 4 holds FF123456 too
		{"00123456", "00000000-0000-4000-8000-000000000003", nil},   // 123456 is its suffix, FF123456 is not
		{"5555555555", "00000000-0000-4000-8000-000000000005", nil}, // both cards of one entry
		{"555555", "00000000-0000-4000-8000-000000000005", nil},     // one entry, both cards by suffix
		{"", "", nil},
		{"FEDCBA", "", nil},
		{"zz-0A1B2C3D4E", "", nil}, // not a card id, though it ends in one
		{"0A1B2C3D4E" + strings.Repeat("0", 30), "", nil}, // longer than a card id
	}
	for _, tc := range tests {
		uuid, found, err := d.FindCard(ctx, tc.card)
		assert.ErrorIs(t, err, tc.err, tc.card)
		assert.Equal(t, tc.uuid, uuid, tc.card)
		assert.Equal(t, tc.uuid != "", found, tc.card)
	}

	// Two entries with the same card: ambiguous, also for the exact id.
	_, err = d.Create(ctx, raws(t, `[{"uuid":"00000000-0000-4000-8000-000000000006","access":{"card":["0A1B2C3D4E",""]}}]`), false)
	require.NoError(t, err)
	_, found, err := d.FindCard(ctx, "0A1B2C3D4E")
	assert.ErrorIs(t, err, directory.ErrAmbiguousCard)
	assert.False(t, found)
	// A deleted entry holds no card.
	_, err = d.Delete(ctx, []string{"00000000-0000-4000-8000-000000000006"}, "")
	require.NoError(t, err)
	uuid, found, err := d.FindCard(ctx, "0A1B2C3D4E")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "00000000-0000-4000-8000-000000000001", uuid)
	// An update moves the card.
	_, err = d.Update(ctx, raws(t, `[{"uuid":"00000000-0000-4000-8000-000000000001","access.card[0]":""},
		{"uuid":"00000000-0000-4000-8000-000000000003","access.card[1]":"0A1B2C3D4E"}]`))
	require.NoError(t, err)
	uuid, found, err = d.FindCard(ctx, "0A1B2C3D4E")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "00000000-0000-4000-8000-000000000003", uuid)
	// Delete by owner and force create clear the old cards too.
	_, err = d.Update(ctx, raws(t, `[{"uuid":"00000000-0000-4000-8000-000000000003","owner":"acme"}]`))
	require.NoError(t, err)
	_, err = d.Delete(ctx, nil, "acme")
	require.NoError(t, err)
	_, found, err = d.FindCard(ctx, "0A1B2C3D4E")
	require.NoError(t, err)
	assert.False(t, found)
	_, err = d.Create(ctx, raws(t, `[{"uuid":"00000000-0000-4000-8000-000000000002","name":"no cards"}]`), true)
	require.NoError(t, err)
	_, found, err = d.FindCard(ctx, "991B2C3D4E")
	require.NoError(t, err)
	assert.False(t, found)

	// A model without cards finds none.
	ipone, _ := directory.ModelFor("ipone")
	st := memory.New()
	v, err := directory.Open(ctx, st)
	require.NoError(t, err)
	_, err = v.Create(ctx, raws(t, `[{"access":{"card":["0A1B2C3D4E",""]}}]`), false)
	require.NoError(t, err)
	p, err := directory.Open(ctx, st, directory.WithModel(ipone))
	require.NoError(t, err)
	_, found, err = p.FindCard(ctx, "0A1B2C3D4E")
	require.NoError(t, err)
	assert.False(t, found)
}

// A store written before the card index existed is indexed on Open.
func TestCardIndexBuiltOnOpen(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	d, err := directory.Open(ctx, st)
	require.NoError(t, err)
	res, err := d.Create(ctx, raws(t, `[{"access":{"card":["0A1B2C3D4E",""]}},{"access":{"card":["","123456"]}},{"access":{"card":["777777",""]}}]`), false)
	require.NoError(t, err)
	_, err = d.Delete(ctx, []string{res.Users[2].UUID}, "")
	require.NoError(t, err)
	// Take the index away, leave a stale key, as an older version would.
	err = st.Update(ctx, func(tx store.Tx) error {
		var keys [][]byte
		require.NoError(t, tx.Scan([]byte("directory.cards"), nil, func(k, _ []byte) error { keys = append(keys, slices.Clone(k)); return nil }))
		require.Len(t, keys, 2)
		for _, k := range keys {
			require.NoError(t, tx.Delete([]byte("directory.cards"), k))
		}
		require.NoError(t, tx.Put([]byte("directory.cards"), store.Key("777777", res.Users[2].UUID), nil))
		return tx.Delete([]byte("directory.meta"), []byte("cards.layout"))
	})
	require.NoError(t, err)
	_, found, err := d.FindCard(ctx, "0A1B2C3D4E")
	require.NoError(t, err)
	require.False(t, found, "the index is gone")

	d, err = directory.Open(ctx, st)
	require.NoError(t, err)
	for card, want := range map[string]string{"0A1B2C3D4E": res.Users[0].UUID, "00123456": res.Users[1].UUID, "777777": ""} {
		uuid, found, err := d.FindCard(ctx, card)
		require.NoError(t, err)
		assert.Equal(t, want, uuid, card)
		assert.Equal(t, want != "", found, card)
	}
}

// findByScan is FindCard's rule over every live entry of the directory,
// read without the index.
func findByScan(t *testing.T, d *directory.Directory, card string) (string, bool, error) {
	t.Helper()
	var matches, exacts []string
	_, err := d.QueryEntries(context.Background(), "", 0, func(_ string, e directory.Entry) error {
		match, exact := false, false
		for _, path := range []string{"access.card[0]", "access.card[1]"} {
			c, err := e.GetString(path)
			require.NoError(t, err)
			if directory.CardsMatch(c, card) {
				match, exact = true, exact || len(c) == len(card)
			}
		}
		if match {
			matches = append(matches, e.UUID)
		}
		if exact {
			exacts = append(exacts, e.UUID)
		}
		return nil
	})
	require.NoError(t, err)
	switch {
	case len(matches) == 0:
		return "", false, nil
	case len(matches) == 1:
		return matches[0], true, nil
	case len(exacts) == 1:
		return exacts[0], true, nil
	}
	return "", false, directory.ErrAmbiguousCard
}

// FindCard, through its index, answers as a scan of the directory does,
// over random creates, forced creates, updates and deletes (by uuid and by
// owner) in batches.
func TestFindCardMatchesScan(t *testing.T) {
	ctx := context.Background()
	ops := 4000
	if testing.Short() {
		ops = 400
	}
	outcomes := map[string]int{}
	for _, seed := range []uint64{1, 2} {
		rng := rand.New(rand.NewPCG(seed, 99))
		d := open(t)
		pool := make([]string, 24)
		for i := range pool {
			pool[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		}
		// Cards from a small alphabet and a few lengths, so that suffixes
		// collide often.
		card := func() string {
			n := []int{0, 2, 5, 6, 7, 8, 10}[rng.IntN(7)]
			var b strings.Builder
			for range n {
				b.WriteByte("0aA"[rng.IntN(3)])
			}
			return b.String()
		}
		entry := func(id string) string {
			fields := []string{`"uuid":"` + id + `"`}
			for i := range 2 {
				if rng.IntN(3) > 0 {
					fields = append(fields, fmt.Sprintf(`"access.card[%d]":%q`, i, card()))
				}
			}
			if rng.IntN(4) == 0 {
				fields = append(fields, fmt.Sprintf(`"owner":"o%d"`, rng.IntN(3)))
			}
			return "[{" + strings.Join(fields, ",") + "}]"
		}
		for op := range ops {
			var batch []string
			for range 1 + rng.IntN(3) {
				batch = append(batch, pool[rng.IntN(len(pool))])
			}
			var err error
			switch rng.IntN(10) {
			case 0, 1, 2:
				for _, id := range batch {
					_, err = d.Create(ctx, raws(t, entry(id)), rng.IntN(2) == 0)
					require.NoError(t, err)
				}
			case 3, 4, 5, 6:
				var list []string
				for _, id := range batch {
					list = append(list, strings.Trim(entry(id), "[]"))
				}
				_, err = d.Update(ctx, raws(t, "["+strings.Join(list, ",")+"]"))
			case 7, 8:
				_, err = d.Delete(ctx, batch, "")
			default:
				_, err = d.Delete(ctx, nil, fmt.Sprintf("o%d", rng.IntN(3)))
			}
			require.NoError(t, err)
			for range 3 {
				c := card()
				if rng.IntN(4) == 0 {
					c = strings.ToUpper(c)
				}
				gotUUID, gotFound, gotErr := d.FindCard(ctx, c)
				wantUUID, wantFound, wantErr := findByScan(t, d, c)
				outcomes[fmt.Sprint(gotFound, gotErr != nil, len(c) == 0)]++
				if gotUUID != wantUUID || gotFound != wantFound || gotErr != wantErr {
					t.Fatalf("seed %d op %d: FindCard(%q) = %q %v %v, scan %q %v %v", seed, op, c, gotUUID, gotFound, gotErr, wantUUID, wantFound, wantErr)
				}
			}
		}
	}
	t.Logf("outcomes (found, ambiguous, empty card): %v", outcomes)
}
