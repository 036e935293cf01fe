// Package store defines the small transactional key-value interface that the
// rest of Lintel keeps its data in.
//
// A [Store] runs read-only transactions with [Store.View] and read-write
// transactions with [Store.Update]. Inside a transaction, a [Tx] reads,
// writes, deletes and scans keys in named buckets. Keys within a bucket are
// kept in ascending byte order, so prefix and range scans return them sorted.
//
// The contract every backend keeps, and that package storetest checks:
//
//   - Atomicity: if the function passed to Update returns an error or
//     panics, nothing it wrote is kept; otherwise everything is, durably as
//     far as the backend promises durability.
//   - Isolation: a View sees the state after some set of whole committed
//     Updates, never part of one. Updates are serialised (one writer).
//   - Cancellation: a context that is done before the transaction starts or
//     commits makes View and Update return its error; an Update whose
//     context ends before commit is rolled back.
//   - After Close, View and Update return [ErrClosed].
//
// Byte slices returned by a Tx (from Get or passed to a scan callback) are
// valid only until the transaction ends and must not be modified; copy them
// to keep them. Put copies its arguments, so the caller may reuse them.
//
// Backends live in sub-packages: store/memory (an ordered in-memory tree),
// store/file (a single bbolt file) and store/postgres (PostgreSQL, for
// several servers). A Gate gives a backend the close-waits-for-transactions
// behaviour the contract asks for. Domain packages keep their own secondary
// indexes in buckets of their own, written in the same transaction as the
// records they index.
package store

import (
	"bytes"
	"context"
	"errors"
	"sync"
)

// Errors returned by backends. Backends wrap them with context; test with
// errors.Is.
var (
	// ErrNotFound is returned by Tx.Get when the key is not in the bucket.
	ErrNotFound = errors.New("store: key not found")
	// ErrBucketNotFound is returned when a transaction names a bucket that
	// does not exist.
	ErrBucketNotFound = errors.New("store: bucket not found")
	// ErrBucketExists is returned by Tx.CreateBucket for an existing bucket.
	ErrBucketExists = errors.New("store: bucket already exists")
	// ErrReadOnly is returned when a write is attempted inside View.
	ErrReadOnly = errors.New("store: transaction is read-only")
	// ErrClosed is returned by View and Update after Close.
	ErrClosed = errors.New("store: store is closed")
	// ErrInvalidName is returned for an empty bucket name or an empty key.
	ErrInvalidName = errors.New("store: empty bucket name or key")
	// ErrTxDone is returned by a Tx used after its transaction ended.
	ErrTxDone = errors.New("store: transaction has ended")
)

// ErrStopScan may be returned by a scan callback to end the scan early;
// the scan then returns nil.
var ErrStopScan = errors.New("store: stop scan")

// Store is a transactional, bucketed, ordered key-value store.
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
	// Writable reports whether this is a read-write transaction.
	Writable() bool

	// CreateBucket creates a bucket; ErrBucketExists if it is there.
	CreateBucket(name []byte) error
	// CreateBucketIfNotExists creates a bucket unless it exists.
	CreateBucketIfNotExists(name []byte) error
	// DeleteBucket removes a bucket and all of its keys.
	DeleteBucket(name []byte) error
	// BucketExists reports whether a bucket exists.
	BucketExists(name []byte) bool

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
	// ends the scan with a nil result. fn must not write to the same
	// bucket.
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

// Gate is for backends: it admits transactions until Close, and lets
// Close wait for those in progress. The zero value is open.
type Gate struct {
	mu     sync.RWMutex
	closed bool
}

// Enter checks ctx and admits a transaction, or returns ctx's error or
// ErrClosed. Call Leave when an admitted transaction ends.
func (g *Gate) Enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Leave ends a transaction that Enter admitted.
func (g *Gate) Leave() { g.mu.RUnlock() }

// Close waits for admitted transactions and refuses new ones. It reports
// whether this call closed the gate (false when it was closed already).
func (g *Gate) Close() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.closed = true
	return true
}
