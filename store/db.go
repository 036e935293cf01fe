package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/lintelhq/lintel/store/driver"
)

// DefaultMaxRetries is how many times, by default, a DB runs an Update
// again after a conflict its driver calls retryable.
const DefaultMaxRetries = 10

// Options configure Open. The zero value, or nil, is valid.
type Options struct {
	// MaxRetries bounds the retries of an Update (and of DecrementIf)
	// that lost a conflict with a concurrent one; 0 means
	// DefaultMaxRetries, a negative value no retry.
	MaxRetries int
	// Logger receives a line, at debug level, per retry; nil discards.
	Logger *slog.Logger
}

// DB is the store of every backend: it implements [Store], [CounterReader]
// and [Decrementer] over a driver.Driver, and keeps the contract of the
// package (close, context, read-only, names, ended transactions, panics,
// retries) once for all drivers. It is safe for concurrent use.
type DB struct {
	drv         driver.Driver
	retrier     driver.Retrier       // nil: no retries
	counters    driver.CounterReader // nil: ReadCounter runs a View
	closeSafe   bool                 // counters is a driver.CloseSafeCounterReader
	decrementer driver.Decrementer   // nil: DecrementIf runs an Update
	maxRetries  int
	log         *slog.Logger
	gate        gate
}

var (
	_ Store         = (*DB)(nil)
	_ CounterReader = (*DB)(nil)
	_ Decrementer   = (*DB)(nil)
)

// Open returns a DB over d, which it owns: Close closes d. The optional
// interfaces of d (driver.Retrier, driver.CounterReader,
// driver.Decrementer) are used when it has them.
func Open(d driver.Driver, opts *Options) *DB {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{drv: d, maxRetries: max(o.MaxRetries, 0), log: o.Logger, gate: newGate()}
	db.retrier, _ = d.(driver.Retrier)
	db.counters, _ = d.(driver.CounterReader)
	_, db.closeSafe = d.(driver.CloseSafeCounterReader)
	db.decrementer, _ = d.(driver.Decrementer)
	return db
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(Tx) error) error {
	if err := db.gate.enter(ctx); err != nil {
		return err
	}
	defer db.gate.leave()
	dtx, err := db.drv.Begin(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	t := &tx{d: dtx}
	defer t.end() // also when fn panics
	return fn(t)
}

// Update runs fn in a read-write transaction and commits it when fn
// returns nil and ctx is not done. It runs fn again after a conflict the
// driver calls retryable (see the package documentation).
func (db *DB) Update(ctx context.Context, fn func(Tx) error) error {
	if err := db.gate.enter(ctx); err != nil {
		return err
	}
	defer db.gate.leave()
	backoff := firstBackoff
	for attempt := 0; ; attempt++ {
		err := db.updateOnce(ctx, fn, attempt)
		if again, err := db.again(ctx, attempt, &backoff, err); !again {
			return err
		}
	}
}

func (db *DB) updateOnce(ctx context.Context, fn func(Tx) error, attempt int) error {
	dtx, err := db.drv.Begin(ctx, driver.TxOptions{Writable: true, Attempt: attempt})
	if err != nil {
		return err
	}
	t := &tx{d: dtx, writable: true}
	defer t.end()                     // rolls back unless committed, also when fn panics
	if err := ctx.Err(); err != nil { // done while Begin waited for the writer
		return err
	}
	if err := fn(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: update rolled back: %w", err)
	}
	t.done = true
	return dtx.Commit()
}

// Pauses between retries: jittered, doubled each time up to lastBackoff.
const (
	firstBackoff = time.Millisecond
	lastBackoff  = 100 * time.Millisecond
)

// again decides, after attempt ended with err, whether to run another: when
// err is a conflict the driver calls retryable and retries are left, it
// sleeps the backoff (doubling it for next time) and reports true.
// Otherwise it returns the error to give the caller.
func (db *DB) again(ctx context.Context, attempt int, backoff *time.Duration, err error) (bool, error) {
	if err == nil || db.retrier == nil || !db.retrier.Retryable(err) {
		return false, err
	}
	if attempt >= db.maxRetries {
		return false, fmt.Errorf("%w: %d retries: %w", ErrTooManyRetries, attempt, err)
	}
	db.log.Debug("store: retrying after a conflict", "attempt", attempt+1, "err", err)
	sleep := *backoff/2 + rand.N(*backoff)
	*backoff = min(*backoff*2, lastBackoff)
	timer := time.NewTimer(sleep)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-timer.C:
		return true, nil
	}
}

// Close waits for the transactions in progress, then closes the driver.
// Calls that begin after Close began return ErrClosed (also those made
// inside a transaction in progress, which Close waits for); a second Close
// returns nil at once. Close must not be called inside a transaction's
// function, which it would wait for.
func (db *DB) Close() error {
	if !db.gate.close() {
		return nil
	}
	return db.drv.Close()
}

// Raw runs f with the DB's driver, admitted as a transaction is: it returns
// ctx's error if ctx is done and ErrClosed after Close, and Close waits for
// f. It is for a backend's own operations outside a transaction (such as
// postgres.Store.Get), as database/sql's Conn.Raw is.
func (db *DB) Raw(ctx context.Context, f func(d driver.Driver) error) error {
	if err := db.gate.enter(ctx); err != nil {
		return err
	}
	defer db.gate.leave()
	return f(db.drv)
}

// tx is the Tx of a DB: it checks each call, then hands it to the driver's
// transaction.
type tx struct {
	d        driver.Tx
	writable bool
	done     bool
}

// end rolls the transaction back unless it has ended.
func (t *tx) end() {
	if !t.done {
		t.done = true
		_ = t.d.Rollback()
	}
}

func (t *tx) check(bucket []byte, write bool) error {
	switch {
	case t.done:
		return ErrTxDone
	case write && !t.writable:
		return ErrReadOnly
	case len(bucket) == 0:
		return ErrInvalidName
	}
	return nil
}

func (t *tx) checkWrite(bucket, key []byte) error {
	if err := t.check(bucket, true); err != nil {
		return err
	}
	if len(key) == 0 {
		return ErrInvalidName
	}
	return nil
}

func (t *tx) CreateBucketIfNotExists(name []byte) error {
	if err := t.check(name, true); err != nil {
		return err
	}
	return t.d.CreateBucket(name)
}

func (t *tx) Get(bucket, key []byte) ([]byte, error) {
	if err := t.check(bucket, false); err != nil {
		return nil, err
	}
	v, found, err := t.d.Get(bucket, key)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, ErrNotFound
	case v == nil:
		return []byte{}, nil
	}
	return v, nil
}

func (t *tx) Put(bucket, key, value []byte) error {
	if err := t.checkWrite(bucket, key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	return t.d.Put(bucket, key, value)
}

func (t *tx) Delete(bucket, key []byte) error {
	if err := t.checkWrite(bucket, key); err != nil {
		return err
	}
	return t.d.Delete(bucket, key)
}

func (t *tx) Scan(bucket, prefix []byte, fn func(key, value []byte) error) error {
	return t.ScanRange(bucket, prefix, PrefixEnd(prefix), fn)
}

func (t *tx) ScanRange(bucket, start, end []byte, fn func(key, value []byte) error) error {
	if err := t.check(bucket, false); err != nil {
		return err
	}
	err := t.d.Range(bucket, start, end, fn)
	if errors.Is(err, ErrStopScan) {
		return nil
	}
	return err
}
