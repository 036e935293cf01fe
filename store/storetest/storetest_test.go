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

	"github.com/lintelhq/lintel/store/driver"
	"github.com/lintelhq/lintel/store/memory"
	"github.com/lintelhq/lintel/store/storetest"
)

// The suite is tested the way a test of tests must be: against drivers
// broken on purpose ("mutants" of the memory driver), each of which some
// subtests must fail. A failing subtest fails its parent, so every mutant
// runs in a child process (this test binary re-executed) and the parent
// reads the child's report. (What store.DB enforces itself, a driver
// cannot break: the end of a Tx, the context before the start.)

const mutantEnv = "LINTEL_STORETEST_MUTANT"

// mutants maps a name to a broken driver and the subtests that must catch
// it.
var mutants = map[string]struct {
	wrap  func(driver.Driver) driver.Driver
	fails []string
}{
	// Each call of a write transaction is a transaction of its own: no
	// atomicity, no rollback.
	"autocommit": {
		wrap: func(d driver.Driver) driver.Driver { return autocommit{d} },
		fails: []string{"Isolation", "RollbackOnError", "RollbackOnPanic", "ContextCanceledDuring",
			"RetryOnConflict"},
	},
	// Each read of a read-only transaction is a transaction of its own:
	// readers see commits made while they run (read committed, not a
	// snapshot).
	"readcommitted": {
		wrap:  func(d driver.Driver) driver.Driver { return readCommitted{d} },
		fails: []string{"Isolation"},
	},
	// Put keeps the caller's slices and stores what they hold at commit.
	"nocopy": {
		wrap:  func(d driver.Driver) driver.Driver { return noCopy{d} },
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
	storetest.Run(t, func(t *testing.T) driver.Driver { return m.wrap(memory.NewDriver()) })
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

// perOp is a driver.Tx that runs each call in a transaction of its own.
type perOp struct {
	d driver.Driver
}

func (p perOp) run(write bool, fn func(driver.Tx) error) error {
	tx, err := p.d.Begin(context.Background(), driver.TxOptions{Writable: write})
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil || !write {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (p perOp) CreateBucket(name []byte) error {
	return p.run(true, func(tx driver.Tx) error { return tx.CreateBucket(name) })
}

func (p perOp) Get(bucket, key []byte) (v []byte, found bool, err error) {
	err = p.run(false, func(tx driver.Tx) error { v, found, err = tx.Get(bucket, key); return err })
	return v, found, err
}

func (p perOp) Put(bucket, key, value []byte) error {
	return p.run(true, func(tx driver.Tx) error { return tx.Put(bucket, key, value) })
}

func (p perOp) Delete(bucket, key []byte) error {
	return p.run(true, func(tx driver.Tx) error { return tx.Delete(bucket, key) })
}

func (p perOp) Range(bucket, start, end []byte, fn func(key, value []byte) error) error {
	return p.run(false, func(tx driver.Tx) error { return tx.Range(bucket, start, end, fn) })
}

func (p perOp) Commit() error   { return nil }
func (p perOp) Rollback() error { return nil }

type autocommit struct{ driver.Driver }

func (a autocommit) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.Writable {
		return perOp{d: a.Driver}, nil
	}
	return a.Driver.Begin(ctx, opts)
}

type readCommitted struct{ driver.Driver }

func (r readCommitted) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if !opts.Writable {
		return perOp{d: r.Driver}, nil
	}
	return r.Driver.Begin(ctx, opts)
}

type noCopy struct{ driver.Driver }

func (n noCopy) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := n.Driver.Begin(ctx, opts)
	if err != nil || !opts.Writable {
		return tx, err
	}
	return &holdingTx{Tx: tx}, nil
}

// holdingTx writes through and keeps the caller's slices; at commit the
// key as it was put is replaced by what the slices hold then.
type holdingTx struct {
	driver.Tx
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

func (h *holdingTx) Commit() error {
	for _, p := range h.puts {
		if err := h.Tx.Delete(p.bucket, p.asPut); err != nil {
			return err
		}
		if err := h.Tx.Put(p.bucket, p.key, p.value); err != nil {
			return err
		}
	}
	return h.Tx.Commit()
}
