package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
)

// errConflict is the conflict the fake driver of testRetry makes.
var errConflict = errors.New("storetest: a conflict made on purpose")

// conflicts is a driver around the one under test whose write
// transactions fail their commit with errConflict (after rolling back)
// while fail is positive, and which calls errConflict, and nothing else,
// retryable.
type conflicts struct {
	driver.Driver
	fail       atomic.Int64 // commits left to fail
	onConflict func()       // called at each conflict, if set

	mu       sync.Mutex
	attempts []int // TxOptions.Attempt of each write transaction begun
}

func (c *conflicts) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Driver.Begin(ctx, opts)
	if err != nil || !opts.Writable {
		return tx, err
	}
	c.mu.Lock()
	c.attempts = append(c.attempts, opts.Attempt)
	c.mu.Unlock()
	return &conflictTx{Tx: tx, c: c}, nil
}

func (c *conflicts) Retryable(err error) bool { return errors.Is(err, errConflict) }

// begun returns the attempts begun since the last call.
func (c *conflicts) begun() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.attempts
	c.attempts = nil
	return a
}

type conflictTx struct {
	driver.Tx
	c *conflicts
}

func (t *conflictTx) Commit() error {
	if t.c.fail.Add(-1) < 0 {
		t.c.fail.Store(0)
		return t.Tx.Commit()
	}
	_ = t.Tx.Rollback()
	if t.c.onConflict != nil {
		t.c.onConflict()
	}
	return errConflict
}

// testRetry runs the store over a driver that makes conflicts: an Update
// that meets one runs again from the start, on a new transaction that
// knows its attempt, until it commits once; it gives up after MaxRetries
// with ErrTooManyRetries; an error that is not a conflict, or a context
// that ends during the pause, ends it at once.
func testRetry(t *testing.T, newDriver func(t *testing.T) driver.Driver) {
	c := &conflicts{Driver: newDriver(t)}
	s := open(t, c, &store.Options{MaxRetries: 3})
	ctx := context.Background()
	key := []byte("n")
	createBuckets(t, s, bucketA)
	runs := 0
	increment := func(tx store.Tx) error {
		runs++
		n, err := store.GetUint64(tx, bucketA, key)
		if err != nil {
			return err
		}
		return store.PutUint64(tx, bucketA, key, n+1)
	}
	counter := func() uint64 {
		t.Helper()
		var n uint64
		view(t, s, func(tx store.Tx) (err error) { n, err = store.GetUint64(tx, bucketA, key); return err })
		return n
	}
	c.begun()

	c.fail.Store(2)
	update(t, s, increment)
	assert.Equal(t, 3, runs, "two conflicts, then the commit")
	assert.Equal(t, []int{0, 1, 2}, c.begun(), "each attempt is a new transaction that knows its number")
	assert.Equal(t, uint64(1), counter(), "the attempts that conflicted left nothing")

	c.fail.Store(100)
	runs = 0
	err := s.Update(ctx, increment)
	assert.ErrorIs(t, err, store.ErrTooManyRetries)
	assert.ErrorIs(t, err, errConflict, "the last conflict is wrapped")
	assert.Equal(t, 4, runs, "one attempt and MaxRetries retries")
	assert.Equal(t, uint64(1), counter())

	c.fail.Store(0)
	runs = 0
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := increment(tx); err != nil || runs > 1 {
			return err
		}
		return fmt.Errorf("a statement failed: %w", errConflict) // as fn passes up a failed call
	})
	require.NoError(t, err)
	assert.Equal(t, 2, runs, "a conflict that fn returns is retried too")
	assert.Equal(t, uint64(2), counter())

	boom := errors.New("boom")
	runs = 0
	err = s.Update(ctx, func(tx store.Tx) error { runs++; return boom })
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 1, runs, "an error that is not a conflict is not retried")

	canceled, cancel := context.WithCancel(ctx)
	defer cancel()
	c.onConflict = cancel
	c.fail.Store(100)
	runs = 0
	err = s.Update(canceled, increment)
	assert.ErrorIs(t, err, context.Canceled, "the context ended during the pause")
	assert.Equal(t, 1, runs)
	c.fail.Store(0)
	assert.Equal(t, uint64(2), counter())
}
