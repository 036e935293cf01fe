package storetest_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
	"github.com/lintelhq/lintel/store/storetest"
)

// The suite is tested the way a test of tests must be: against backends
// broken on purpose ("mutants" of the memory backend), each of which some
// subtests must fail. A failing subtest fails its parent, so every mutant
// runs in a child process (this test binary re-executed) and the parent
// reads the child's report.

const mutantEnv = "LINTEL_STORETEST_MUTANT"

// mutants maps a name to a broken backend and the subtests that must catch
// it.
var mutants = map[string]struct {
	wrap  func(store.Store) store.Store
	fails []string
}{
	// Each write of an Update is its own transaction: no atomicity, no
	// rollback, no end of the Tx, and the context is not looked at.
	"autocommit": {
		wrap: func(s store.Store) store.Store { return autocommit{s} },
		fails: []string{"Isolation", "RollbackOnError", "RollbackOnPanic", "TxAfterEnd",
			"ContextCanceledBefore", "ContextCanceledDuring"},
	},
	// Each read of a View is its own transaction: readers see commits made
	// while their View runs (read committed, not a snapshot).
	"readcommitted": {
		wrap:  func(s store.Store) store.Store { return readCommitted{s} },
		fails: []string{"Isolation", "TxAfterEnd"},
	},
	// Put keeps the caller's slices and stores what they hold at commit.
	"nocopy": {
		wrap:  func(s store.Store) store.Store { return noCopy{s} },
		fails: []string{"PutCopiesArguments"},
	},
}

// TestMutantChild runs the suite against the mutant named by mutantEnv; it
// does nothing in a normal run.
func TestMutantChild(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("runs only as the child of TestSuiteCatchesBrokenBackends")
	}
	m, ok := mutants[name]
	require.True(t, ok, "unknown mutant %q", name)
	storetest.Run(t, func(t *testing.T) store.Store { return m.wrap(memory.New()) })
}

func TestSuiteCatchesBrokenBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	for _, name := range slices.Sorted(maps.Keys(mutants)) {
		m := mutants[name]
		t.Run(name, func(t *testing.T) {
			run := "^TestMutantChild$/^(" + strings.Join(m.fails, "|") + ")$"
			cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1", "-test.v", "-test.timeout=60s")
			cmd.Env = append(os.Environ(), mutantEnv+"="+name, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "the suite passed a broken backend:\n%s", out)
			for _, sub := range m.fails {
				assert.Contains(t, string(out), "--- FAIL: TestMutantChild/"+sub+" ",
					"subtest %s let the %s backend pass", sub, name)
			}
			assert.NotContains(t, string(out), "panic: test timed out")
		})
	}
}

// perOp is a Tx that runs each call in a transaction of its own.
type perOp struct {
	s        store.Store
	writable bool
}

func (p perOp) run(fn func(store.Tx) error) error {
	if p.writable {
		return p.s.Update(context.Background(), fn)
	}
	return p.s.View(context.Background(), fn)
}

func (p perOp) Writable() bool { return p.writable }

func (p perOp) CreateBucket(name []byte) error {
	return p.run(func(tx store.Tx) error { return tx.CreateBucket(name) })
}

func (p perOp) CreateBucketIfNotExists(name []byte) error {
	return p.run(func(tx store.Tx) error { return tx.CreateBucketIfNotExists(name) })
}

func (p perOp) DeleteBucket(name []byte) error {
	return p.run(func(tx store.Tx) error { return tx.DeleteBucket(name) })
}

func (p perOp) BucketExists(name []byte) (ok bool) {
	_ = p.run(func(tx store.Tx) error { ok = tx.BucketExists(name); return nil })
	return ok
}

func (p perOp) Get(bucket, key []byte) (v []byte, err error) {
	err = p.run(func(tx store.Tx) error { v, err = tx.Get(bucket, key); return err })
	return v, err
}

func (p perOp) Put(bucket, key, value []byte) error {
	return p.run(func(tx store.Tx) error { return tx.Put(bucket, key, value) })
}

func (p perOp) Delete(bucket, key []byte) error {
	return p.run(func(tx store.Tx) error { return tx.Delete(bucket, key) })
}

func (p perOp) Scan(bucket, prefix []byte, fn func(key, value []byte) error) error {
	return p.run(func(tx store.Tx) error { return tx.Scan(bucket, prefix, fn) })
}

func (p perOp) ScanRange(bucket, start, end []byte, fn func(key, value []byte) error) error {
	return p.run(func(tx store.Tx) error { return tx.ScanRange(bucket, start, end, fn) })
}

type autocommit struct{ store.Store }

func (a autocommit) Update(_ context.Context, fn func(store.Tx) error) error {
	return fn(perOp{s: a.Store, writable: true})
}

type readCommitted struct{ store.Store }

func (r readCommitted) View(_ context.Context, fn func(store.Tx) error) error {
	return fn(perOp{s: r.Store})
}

type noCopy struct{ store.Store }

func (n noCopy) Update(ctx context.Context, fn func(store.Tx) error) error {
	return n.Store.Update(ctx, func(tx store.Tx) error {
		held := &holdingTx{Tx: tx}
		if err := fn(held); err != nil {
			return err
		}
		for _, p := range held.puts {
			if err := tx.Delete(p.bucket, p.asPut); err != nil {
				return err
			}
			if err := tx.Put(p.bucket, p.key, p.value); err != nil {
				return err
			}
		}
		return nil
	})
}

// holdingTx writes through and keeps the caller's slices; at commit the
// key as it was put is replaced by what the slices hold then.
type holdingTx struct {
	store.Tx
	puts []heldPut
}

type heldPut struct {
	bucket, key, value []byte // the caller's slices
	asPut              []byte // a copy of key at the time of Put
}

func (h *holdingTx) Put(bucket, key, value []byte) error {
	if err := h.Tx.Put(bucket, key, value); err != nil {
		return err
	}
	h.puts = append(h.puts, heldPut{bucket: bucket, key: key, value: value, asPut: bytes.Clone(key)})
	return nil
}
