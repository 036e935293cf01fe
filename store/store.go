// Package store is the transactional key-value layer the rest of Lintel
// keeps its data in: a portable [DB] over a small backend contract, package
// store/driver, in the manner of database/sql over database/sql/driver.
//
// A [Store] runs read-only transactions with [Store.View] and read-write
// transactions with [Store.Update]. Inside a transaction, a [Tx] reads,
// writes, deletes and scans keys in named buckets. Keys within a bucket are
// kept in ascending byte order, so prefix and range scans return them sorted.
// [DB] is the Store of every backend: store/memory (an ordered in-memory
// tree), store/file (a single bbolt file) and store/postgres (PostgreSQL, for
// several servers) each make one with their constructor, and [Open] makes one
// of any driver.Driver. Package storetest is the conformance suite every
// driver runs under a DB.
//
// The contract, which DB enforces once for every backend and storetest
// checks:
//
//   - Atomicity: if the function passed to Update returns an error or
//     panics, nothing it wrote is kept; otherwise everything is, durably as
//     far as the backend promises durability. A panic is re-raised after the
//     rollback.
//   - Isolation: a View sees the state after some set of whole committed
//     Updates, never part of one. Updates are serialisable: one writer at a
//     time (memory, file) or concurrent writers whose conflicts the backend
//     detects, in which case DB runs the function again (postgres; at most
//     [Options.MaxRetries] times, with a growing, jittered pause, then
//     [ErrTooManyRetries]). The function passed to Update may therefore run
//     more than once, and must not have effects outside its Tx.
//   - Cancellation: a context that is done before the transaction starts or
//     commits makes View and Update return its error; an Update whose
//     context ends before commit is rolled back.
//   - Close waits for the transactions in progress; after Close began, View,
//     Update and the other methods of DB return [ErrClosed].
//   - A Tx used after its function returned returns [ErrTxDone]; a write in
//     a View returns [ErrReadOnly]; an empty bucket name, or an empty key to
//     write, returns [ErrInvalidName].
//
// Byte slices returned by a Tx (from Get or passed to a scan callback) are
// valid only until the transaction ends and must not be modified; copy them
// to keep them. Put copies its arguments, so the caller may reuse them.
//
// # One transaction at a time
//
// A transaction's function must not start another transaction on the same
// store (a View or Update, or a DB method such as ReadCounter that runs
// one): the inner transaction does not see the outer one's writes, commits
// or rolls back on its own, and can wait for the outer one for ever. What
// happens when it does anyway:
//
//   - On every backend, once Close has begun, the inner call returns
//     ErrClosed at once instead of waiting (Close waits for the outer
//     transaction, which waits for the inner call).
//   - memory: an Update inside an Update deadlocks (one writer at a time:
//     the inner one waits for the outer one to end). Any other nesting
//     works, as Views hold no lock; an inner View reads the last committed
//     state, without the outer Update's writes.
//   - file (bbolt): an Update inside an Update deadlocks, as on memory. A
//     View or an Update inside a View can deadlock when an Update (the inner
//     one, or another goroutine's) must grow bbolt's memory map: the growth
//     waits for the outer View, and a View that begins while it waits waits
//     for it.
//   - postgres: the inner transaction runs on a connection of its own. An
//     Update inside an Update blocks for ever on a row or the lock the
//     outer one holds, or commits first and makes the outer one fail and
//     run again (inner Update included); any nesting blocks for ever when
//     the pool has no connection left for the inner transaction.
//
// Domain packages keep their own secondary indexes in buckets of their own,
// written in the same transaction as the records they index, and use the
// helpers here: [GetUint64] and [PutUint64] for counters, [GetJSON] and
// [PutJSON] for JSON values, and [Key] for injective composite keys.
package store

import (
	"bytes"
	"context"
	"errors"

	"github.com/lintelhq/lintel/store/driver"
)

// Errors of a store; wrapped with context, test them with errors.Is.
var (
	// ErrNotFound is returned by Tx.Get when the key is not in the bucket.
	ErrNotFound = driver.ErrNotFound
	// ErrBucketNotFound is returned when a transaction names a bucket that
	// does not exist.
	ErrBucketNotFound = driver.ErrBucketNotFound
	// ErrReadOnly is returned when a write is attempted inside View.
	ErrReadOnly = errors.New("store: transaction is read-only")
	// ErrClosed is returned by View and Update after Close.
	ErrClosed = errors.New("store: store is closed")
	// ErrInvalidName is returned for an empty bucket name or an empty key.
	ErrInvalidName = errors.New("store: empty bucket name or key")
	// ErrTxDone is returned by a Tx used after its transaction ended.
	ErrTxDone = errors.New("store: transaction has ended")
	// ErrTooManyRetries wraps the last conflict of an Update (or a
	// DecrementIf) that kept conflicting with concurrent ones.
	ErrTooManyRetries = errors.New("store: update kept conflicting with others")
)

// ErrStopScan may be returned by a scan callback to end the scan early;
// the scan then returns nil.
var ErrStopScan = errors.New("store: stop scan")

// Store is a transactional, bucketed, ordered key-value store. [DB]
// implements it; wrappers (instrumentation, test doubles) may too.
// Its methods are safe for concurrent use.
type Store interface {
	// View runs fn in a read-only transaction. It returns fn's error, or
	// the context's error if ctx is done before fn runs.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction and commits it if fn
	// returns nil. If fn returns an error or panics, or ctx is done before
	// the commit, the transaction is rolled back; a panic is re-raised
	// after the rollback.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store. Transactions in progress finish first.
	Close() error
}

// Tx is one transaction. A Tx must not be used after the function it was
// passed to returns, nor from more than one goroutine at a time.
type Tx interface {
	// CreateBucketIfNotExists creates a bucket unless it exists.
	CreateBucketIfNotExists(name []byte) error

	// Get returns the value of key in bucket, or ErrNotFound.
	Get(bucket, key []byte) ([]byte, error)
	// Put sets key to value in bucket. An empty key is ErrInvalidName; a
	// nil value is stored as an empty one.
	Put(bucket, key, value []byte) error
	// Delete removes key from bucket; deleting a missing key is not an error.
	Delete(bucket, key []byte) error

	// Scan calls fn for each key in bucket that begins with prefix (all keys
	// when prefix is empty), in ascending order. It stops at the first
	// error fn returns and returns that error, except ErrStopScan which
	// ends the scan with a nil result. fn may use the transaction, but
	// must not write to the bucket it scans.
	Scan(bucket, prefix []byte, fn func(key, value []byte) error) error
	// ScanRange is Scan over the keys k with start <= k < end; a nil start
	// means from the first key, a nil end means to the last.
	ScanRange(bucket, start, end []byte, fn func(key, value []byte) error) error
}

// PrefixEnd returns the smallest key greater than every key that begins
// with prefix, for use as the end of ScanRange; nil when there is none (an
// empty prefix, or one made only of 0xff bytes).
func PrefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
