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
