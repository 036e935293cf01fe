package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
)

// model is the reference a backend is compared with: bucket -> key -> value.
type model map[string]map[string]string

func (m model) clone() model {
	c := make(model, len(m))
	for b, kv := range m {
		c[b] = maps.Clone(kv)
	}
	return c
}

// entries returns the keys of bucket with start <= k < end (nil:
// unbounded), sorted, and their values.
func (m model) entries(bucket string, start, end []byte) (keys, values []string) {
	for k := range m[bucket] {
		if (start == nil || k >= string(start)) && (end == nil || k < string(end)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		values = append(values, m[bucket][k])
	}
	return keys, values
}

// testModel runs seeded random transactions against the store and a model
// of it: every read inside an Update is checked against the model with the
// transaction's own writes (buckets appear over the run, rarely), about one Update in five is rolled back (by an
// error or a panic), and after each Update a View must hold exactly the
// committed model. Keys and bucket names are drawn from a few bytes
// (0x00, 'a', 'b', 0xff) so that prefixes, range ends and PrefixEnd's
// edge cases meet often.
func testModel(t *testing.T, s *store.DB) {
	const transactions, opsPerTx = 150, 20
	rng := rand.New(rand.NewPCG(7, 2026))
	alphabet := []byte{0x00, 'a', 'b', 0xff}
	word := func(maxLen int) []byte {
		w := make([]byte, 1+rng.IntN(maxLen))
		for i := range w {
			w[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return w
	}
	bounds := func() []byte { // a range end or start; nil one time in four
		if rng.IntN(4) == 0 {
			return nil
		}
		return word(3)
	}
	buckets := [][]byte{[]byte("one"), []byte("two"), {0xff}}
	errRollback := errors.New("storetest: rollback on purpose")
	committed := model{}
	ctx := context.Background()

	for n := range transactions {
		next := committed.clone()
		rollback := rng.IntN(5) == 0
		panics := rollback && rng.IntN(2) == 0
		ops := make([]string, 0, opsPerTx) // the transaction, for failure messages
		fn := func(tx store.Tx) error {
			for range opsPerTx {
				b := buckets[rng.IntN(len(buckets))]
				bs := string(b)
				_, exists := next[bs]
				missing := func(err error) bool {
					if exists {
						return false
					}
					assert.ErrorIs(t, err, store.ErrBucketNotFound, "tx %d: %s", n, ops)
					return true
				}
				switch op := rng.IntN(100); {
				case op < 7:
					ops = append(ops, fmt.Sprintf("CreateBucketIfNotExists(%q)", b))
					if assert.NoError(t, tx.CreateBucketIfNotExists(b), "tx %d: %s", n, ops) && !exists {
						next[bs] = map[string]string{}
					}
				case op < 40:
					k, v := word(3), word(4)
					ops = append(ops, fmt.Sprintf("Put(%q, %q, %q)", b, k, v))
					if err := tx.Put(b, k, v); !missing(err) && assert.NoError(t, err, "tx %d: %s", n, ops) {
						next[bs][string(k)] = string(v)
					}
				case op < 55:
					k := word(3)
					ops = append(ops, fmt.Sprintf("Delete(%q, %q)", b, k))
					if err := tx.Delete(b, k); !missing(err) && assert.NoError(t, err, "tx %d: %s", n, ops) {
						delete(next[bs], string(k))
					}
				case op < 75:
					k := word(3)
					ops = append(ops, fmt.Sprintf("Get(%q, %q)", b, k))
					v, err := tx.Get(b, k)
					if missing(err) {
						break
					}
					if want, ok := next[bs][string(k)]; ok {
						assert.NoError(t, err, "tx %d: %s", n, ops)
						assert.Equal(t, want, string(v), "tx %d: %s", n, ops)
					} else {
						assert.ErrorIs(t, err, store.ErrNotFound, "tx %d: %s", n, ops)
					}
				case op < 88:
					prefix := word(2)
					if rng.IntN(5) == 0 {
						prefix = nil
					}
					ops = append(ops, fmt.Sprintf("Scan(%q, %q)", b, prefix))
					keys, values, err := scanned(func(fn func(k, v []byte) error) error { return tx.Scan(b, prefix, fn) })
					if !missing(err) && assert.NoError(t, err, "tx %d: %s", n, ops) {
						wantKeys, wantValues := next.entries(bs, prefix, store.PrefixEnd(prefix))
						assert.Equal(t, wantKeys, keys, "tx %d: %s", n, ops)
						assert.Equal(t, wantValues, values, "tx %d: %s", n, ops)
					}
				default:
					start, end := bounds(), bounds()
					ops = append(ops, fmt.Sprintf("ScanRange(%q, %q, %q)", b, start, end))
					keys, values, err := scanned(func(fn func(k, v []byte) error) error { return tx.ScanRange(b, start, end, fn) })
					if !missing(err) && assert.NoError(t, err, "tx %d: %s", n, ops) {
						wantKeys, wantValues := next.entries(bs, start, end)
						assert.Equal(t, wantKeys, keys, "tx %d: %s", n, ops)
						assert.Equal(t, wantValues, values, "tx %d: %s", n, ops)
					}
				}
				if t.Failed() {
					return errRollback
				}
			}
			switch {
			case panics:
				panic(errRollback)
			case rollback:
				return errRollback
			}
			return nil
		}
		func() {
			if panics {
				defer func() { assert.Equal(t, errRollback, recover(), "tx %d: the panic is re-raised", n) }()
			}
			err := s.Update(ctx, fn)
			if rollback {
				assert.ErrorIs(t, err, errRollback)
			} else {
				require.NoError(t, err)
			}
		}()
		require.False(t, t.Failed(), "tx %d failed: %s", n, strings.Join(ops, "; "))
		if !rollback {
			committed = next
		}
		view(t, s, func(tx store.Tx) error {
			for _, b := range buckets {
				bs := string(b)
				_, exists := committed[bs]
				require.Equal(t, exists, bucketExists(t, tx, b), "after tx %d: bucket %q", n, b)
				if !exists {
					continue
				}
				keys, values := collect(t, func(fn func(k, v []byte) error) error { return tx.Scan(b, nil, fn) })
				wantKeys, wantValues := committed.entries(bs, nil, nil)
				require.Equal(t, wantKeys, keys, "after tx %d: keys of %q", n, b)
				require.Equal(t, wantValues, values, "after tx %d: values of %q", n, b)
			}
			return nil
		})
	}
}
