package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// GetUint64 reads a counter written by PutUint64; a missing key reads as
// 0. A value that is not 8 bytes is an error.
func GetUint64(tx Tx, bucket, key []byte) (uint64, error) {
	v, err := tx.Get(bucket, key)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return decodeUint64(bucket, key, v)
}

// PutUint64 writes a counter as 8 bytes, big-endian, so that counters
// used as keys sort in numeric order.
func PutUint64(tx Tx, bucket, key []byte, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return tx.Put(bucket, key, b[:])
}

func decodeUint64(bucket, key, v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("store: %s/%s holds %d bytes, not a counter: %w", bucket, key, len(v), ErrBadValue)
	}
	return binary.BigEndian.Uint64(v), nil
}

// ErrBadValue is returned by GetUint64 for a value PutUint64 did not write.
var ErrBadValue = errors.New("store: malformed value")

// CounterReader is an optional interface of a Store that can read a
// counter of its last committed state without a transaction, cheaply and
// without allocating: what a cache on a hot path needs to learn whether
// the data it was filled from has changed. ReadCounter reads as GetUint64
// does, in a state at least as new as every Update that returned before
// it was called.
type CounterReader interface {
	ReadCounter(ctx context.Context, bucket, key []byte) (uint64, error)
}

// ErrGuardChanged is returned by Decrementer.DecrementIf when the guard
// counter no longer holds the value the caller expected: the caller's view
// of the data is out of date, and it should read again.
var ErrGuardChanged = errors.New("store: guard counter changed")

// Decrementer is an optional interface of a Store that can take one unit
// of a count, guarded by a counter, in one step: what a cache keyed by a
// generation counter needs to spend a limited resource without a
// transaction of its own. DecrementIf acts as one Update that ran
//
//	g, err := GetUint64(tx, guardBucket, guardKey)
//	if g != guard { return 0, ErrGuardChanged }
//	n, err := the count at bucket/key // ErrNotFound when missing, ErrBadValue when not 4 or 8 bytes, big-endian
//	if n > 0 { tx.Put(bucket, key, n-1 in the same width) }
//	return n, nil
//
// and concurrent callers, in any process, never take more units than there
// are.
type Decrementer interface {
	DecrementIf(ctx context.Context, guardBucket, guardKey []byte, guard uint64, bucket, key []byte) (before uint64, err error)
}
