// Package driver is the contract between package store and its backends,
// in the manner of database/sql/driver and gocloud.dev/blob/driver: a
// backend implements the small interfaces here, and package store builds
// on them, once for every backend, what its users rely on. Users of a store
// do not import this package; authors of a backend do, and [store.Open]
// makes a store of their [Driver].
//
// # What package store does, so that a driver need not
//
//   - It admits transactions (and calls of the optional methods) until
//     Close, and makes Close wait for those in progress, then calls
//     [Driver.Close] once; after that, nothing (but see
//     [CloseSafeCounterReader]).
//   - It checks the context before [Driver.Begin], again after it (Begin may
//     have waited for a writer lock), and before [Tx.Commit]; a context that
//     ends before the commit gets [Tx.Rollback].
//   - It refuses empty bucket names and empty keys to write, writes inside a
//     read-only transaction, and any use of a Tx after its transaction
//     ended, with its own errors, before a driver sees the call. The
//     optional methods get no empty bucket name either, and DecrementIf no
//     empty key.
//   - It calls Rollback when the transaction's function returns an error or
//     panics (and re-raises the panic), and for every read-only transaction.
//   - It makes prefix scans of Range, and turns a scan ended by
//     store.ErrStopScan into a nil error.
//   - It retries writes that fail with an error a [Retrier] calls
//     retryable, a bounded number of times, with a growing, jittered pause.
//   - It reads counters with a transaction and takes a guarded decrement in
//     one when the driver has no [CounterReader] or [Decrementer].
//   - It hands a driver a non-nil value to Put (an empty one for nil).
//
// # What a driver must do
//
// A [Driver] begins transactions on buckets of ordered keys. Begin may be
// called from many goroutines at once, and the transactions it returns run
// concurrently, with these guarantees:
//
//   - A read-only transaction sees one committed state, the effect of some
//     set of whole committed write transactions and of no part of another,
//     from its first read to its end: a snapshot.
//   - Write transactions are serialisable with each other: either one at a
//     time (Begin waits for the writer), or concurrently with conflicts
//     reported by an error its [Retrier] calls retryable, at a method call or
//     at Commit.
//   - A transaction reads its own writes, in Get and in Range.
//   - Commit applies all of a transaction's writes or none of them, and is
//     as durable as the driver documents.
//
// The methods of one [Tx] are called from one goroutine at a time, never
// concurrently, and never after Commit or Rollback returned: a driver may
// reuse the Tx value for a later transaction then. Put, Delete,
// CreateBucket and Commit are called only in a write transaction; Rollback
// ends every read-only one and every write transaction that is not
// committed, including when the function running in it panicked while a
// Range of the same Tx was on the stack. Commit is called at most once, and
// then Rollback is not: a Commit that fails must leave nothing behind and
// release what the transaction held, as Rollback would.
//
// Buckets are named; bucket names and the keys given to Put and Delete are
// never empty (Get may be given an empty key, which is never found). An
// operation on a bucket that does not exist returns an error that wraps
// [ErrBucketNotFound]. Byte slices a driver returns (from Get, or passed to
// a Range callback) must stay valid and unchanged until the transaction
// ends; the caller does not modify them. A driver must not keep the slices
// it is given once the call returns (Put copies key and value).
//
// A driver need not check contexts beyond what its own waits and I/O need,
// nor names, read-only use or the end of a transaction, nor recover
// panics, nor retry.
//
// # Optional interfaces
//
// A Driver may implement [Retrier] (it can tell a conflict with a concurrent
// transaction, which the same work may not meet again), [CounterReader] (it
// reads a counter without a transaction, cheaper than one; and
// [CloseSafeCounterReader] when that read may outlive Close) and
// [Decrementer] (it takes one unit of a count in one step). Package store
// uses them when they are there and does without them otherwise.
//
// # Nested transactions
//
// Package store does not stop a transaction's function from beginning
// another transaction on the same store; its documentation says what each
// backend then does. A driver's Begin should not assume that the calling
// goroutine holds no other transaction of the driver.
package driver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors a driver returns, wrapped or not; package store re-exports them
// under the same names (store.ErrNotFound is ErrNotFound), so that callers
// test them with errors.Is against either.
var (
	// ErrNotFound is returned by Decrementer.DecrementIf for a missing
	// count. (Tx.Get reports a missing key with found == false.)
	ErrNotFound = errors.New("store: key not found")
	// ErrBucketNotFound is wrapped by every error for an operation on a
	// bucket that does not exist.
	ErrBucketNotFound = errors.New("store: bucket not found")
	// ErrBadValue is returned for a counter or count that does not have
	// the width DecodeCounter or DecodeCount expects.
	ErrBadValue = errors.New("store: malformed value")
	// ErrGuardChanged is returned by Decrementer.DecrementIf when the
	// guard counter does not hold the value the caller expected.
	ErrGuardChanged = errors.New("store: guard counter changed")
)

// TxOptions tell Begin what transaction to begin.
type TxOptions struct {
	// Writable asks for a write transaction.
	Writable bool
	// Attempt counts the earlier attempts of the same write: 0 for the
	// first, n for the n-th retry after a retryable error. A driver may
	// run later attempts in a way that makes a conflict less likely (for
	// example, alone among writers).
	Attempt int
}

// Driver begins transactions; see the package documentation for the
// contract. Its methods may be called concurrently.
type Driver interface {
	// Begin begins a transaction. It may wait (for a writer lock, a
	// connection); ctx bounds that wait and the transaction's I/O.
	Begin(ctx context.Context, opts TxOptions) (Tx, error)
	// Close releases the driver. It is called once, after every
	// transaction ended and every call of an optional method returned.
	Close() error
}

// Tx is one transaction of a Driver; see the package documentation for the
// contract.
type Tx interface {
	// Get returns the value of key in bucket and true, or nil and false
	// when the bucket holds no such key. The value is non-nil when found
	// (an empty value is an empty slice).
	Get(bucket, key []byte) (value []byte, found bool, err error)
	// Put sets key to value in bucket, copying both.
	Put(bucket, key, value []byte) error
	// Delete removes key from bucket; a missing key is not an error.
	Delete(bucket, key []byte) error
	// Range calls fn for each key k of bucket with start <= k < end, in
	// ascending byte order, and stops at the first error fn returns,
	// which it returns as it is. A nil start means from the first key, a
	// nil end means to the last. fn may call the Tx's other methods, but
	// writes only to other buckets.
	Range(bucket, start, end []byte, fn func(key, value []byte) error) error
	// CreateBucket creates a bucket; one that exists is left as it is.
	CreateBucket(name []byte) error
	// Commit makes the transaction's writes durable and visible, all of
	// them or, when it returns an error, none.
	Commit() error
	// Rollback discards the transaction's writes and releases it.
	Rollback() error
}

// Retrier is implemented by a Driver whose write transactions can fail
// because of a concurrent transaction, in a way that running the same work
// again may not meet.
type Retrier interface {
	// Retryable reports whether err, returned by a method of a write
	// transaction, by its Commit or by Decrementer.DecrementIf, is such a
	// conflict: the work is then run again from the start.
	Retryable(err error) bool
}

// CounterReader is implemented by a Driver that can read a counter of its
// last committed state without a transaction, more cheaply than one. The
// store admits each call as it does a transaction: Close waits for it.
type CounterReader interface {
	// ReadCounter reads the counter at bucket/key as DecodeCounter reads
	// its value (a missing key is 0), in a state at least as new as every
	// write transaction whose Commit returned before the call began. A
	// missing bucket is ErrBucketNotFound. It may be called concurrently.
	ReadCounter(ctx context.Context, bucket, key []byte) (uint64, error)
}

// CloseSafeCounterReader is a CounterReader whose ReadCounter uses nothing
// that Close releases (it reads an immutable snapshot in memory, say), so
// that a call may run while Close runs, and end after it. The store then
// only refuses the calls that begin after Close began, and spares each
// call the two shared atomic writes that let Close wait for it (about
// 13 ns on a two-core test machine, a fifth of the memory store's warm
// access decision).
type CloseSafeCounterReader interface {
	CounterReader
	// CloseSafe declares the property; it is never called.
	CloseSafe()
}

// Decrementer is implemented by a Driver that can take one unit of a count,
// guarded by a counter, in one step.
type Decrementer interface {
	// DecrementIf acts as one write transaction that ran
	//
	//	g := the counter at guardBucket/guardKey, read as DecodeCounter reads it
	//	if g != guard { return 0, ErrGuardChanged }
	//	n := the count at bucket/key, read as DecodeCount reads it // ErrNotFound when missing
	//	if n > 0 { put n-1 there, in the same width }
	//	return n, nil
	//
	// and concurrent callers never take more units than there are. A
	// missing bucket is ErrBucketNotFound. Errors its Retrier calls
	// retryable are retried.
	DecrementIf(ctx context.Context, guardBucket, guardKey []byte, guard uint64, bucket, key []byte) (before uint64, err error)
}

// DecodeCounter decodes a counter as store.PutUint64 writes it: 8 bytes,
// big-endian. A nil value, a missing key, is 0; any other width is
// ErrBadValue, with bucket and key in the message.
func DecodeCounter(bucket, key, value []byte) (uint64, error) {
	switch {
	case value == nil:
		return 0, nil
	case len(value) == 8:
		return binary.BigEndian.Uint64(value), nil
	}
	return 0, badValue(bucket, key, value, "counter")
}

// DecodeCount decodes a count of 4 or 8 bytes, big-endian; any other
// width, a missing value included, is ErrBadValue.
func DecodeCount(bucket, key, value []byte) (uint64, error) {
	switch len(value) {
	case 4:
		return uint64(binary.BigEndian.Uint32(value)), nil
	case 8:
		return binary.BigEndian.Uint64(value), nil
	}
	return 0, badValue(bucket, key, value, "count")
}

func badValue(bucket, key, value []byte, what string) error {
	return fmt.Errorf("store: %q/%q holds %d bytes, not a %s: %w", bucket, key, len(value), what, ErrBadValue)
}

// Copy returns copies of key and value in one allocation, for a driver
// that keeps what Put is given. The key's capacity ends at its length, so
// that an append to it cannot reach the value.
func Copy(key, value []byte) (keyCopy, valueCopy []byte) {
	buf := make([]byte, len(key)+len(value))
	n := copy(buf, key)
	copy(buf[n:], value)
	return buf[:n:n], buf[n:]
}

// OpError is an error of a driver with what it was doing: the driver's
// name, the operation ("get", "put", "commit", ...) and the bucket, if
// any. Drivers use it to wrap the errors of what lies under them.
type OpError struct {
	Driver string
	Op     string
	Bucket []byte // nil for an operation on no bucket
	Err    error
}

// Error returns "<driver>: <op> in bucket "<bucket>": <err>", or
// "<driver>: <op>: <err>" without a bucket.
func (e *OpError) Error() string {
	if e.Bucket == nil {
		return e.Driver + ": " + e.Op + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s: %s in bucket %q: %v", e.Driver, e.Op, e.Bucket, e.Err)
}

// Unwrap returns the error underneath.
func (e *OpError) Unwrap() error { return e.Err }

// Wrap returns err as an *OpError of driver, op and bucket, or nil for nil.
// The bucket is copied.
func Wrap(driver, op string, bucket []byte, err error) error {
	if err == nil {
		return nil
	}
	if bucket != nil {
		bucket = append([]byte{}, bucket...)
	}
	return &OpError{Driver: driver, Op: op, Bucket: bucket, Err: err}
}
