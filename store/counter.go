package store

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/lintelhq/lintel/store/driver"
)

// ErrBadValue is returned by GetUint64, ReadCounter and DecrementIf for a
// value that is not a counter (or count), and by GetJSON for one that is
// not the JSON of its target.
var ErrBadValue = driver.ErrBadValue

// ErrGuardChanged is returned by Decrementer.DecrementIf when the guard
// counter no longer holds the value the caller expected: the caller's view
// of the data is out of date, and it should read again.
var ErrGuardChanged = driver.ErrGuardChanged

// GetUint64 reads a counter written by PutUint64; a missing key reads as
// 0. A value that is not 8 bytes is ErrBadValue.
func GetUint64(tx Tx, bucket, key []byte) (uint64, error) {
	v, err := tx.Get(bucket, key)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return driver.DecodeCounter(bucket, key, v)
}

// PutUint64 writes a counter as 8 bytes, big-endian, so that counters
// used as keys sort in numeric order.
func PutUint64(tx Tx, bucket, key []byte, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return tx.Put(bucket, key, b[:])
}

// CounterReader is an optional interface of a Store that can read a
// counter of its last committed state without a transaction of the
// caller's: what a cache on a hot path needs to learn whether the data it
// was filled from has changed. ReadCounter reads as GetUint64 does, in a
// state at least as new as every Update that returned before it was
// called. [DB] implements it.
type CounterReader interface {
	ReadCounter(ctx context.Context, bucket, key []byte) (uint64, error)
}

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
// are. [DB] implements it.
type Decrementer interface {
	DecrementIf(ctx context.Context, guardBucket, guardKey []byte, guard uint64, bucket, key []byte) (before uint64, err error)
}

// ReadCounter reads a counter of the last committed state, as GetUint64
// does (it implements [CounterReader]). A driver with a
// driver.CounterReader answers it without a transaction (memory: without
// allocating; postgres: with one statement); otherwise it is a View.
func (db *DB) ReadCounter(ctx context.Context, bucket, key []byte) (uint64, error) {
	if len(bucket) == 0 {
		return 0, ErrInvalidName
	}
	if db.closeSafe { // the hot path of a decision on memory: no shared write
		if err := db.gate.check(ctx); err != nil {
			return 0, err
		}
		return db.counters.ReadCounter(ctx, bucket, key)
	}
	if db.counters == nil {
		var v uint64
		err := db.View(ctx, func(tx Tx) (err error) {
			v, err = GetUint64(tx, bucket, key)
			return err
		})
		return v, err
	}
	if err := db.gate.enter(ctx); err != nil {
		return 0, err
	}
	defer db.gate.leave()
	return db.counters.ReadCounter(ctx, bucket, key)
}

// DecrementIf takes one unit of the count at bucket/key, a big-endian
// unsigned integer of 4 or 8 bytes, if the counter at guardBucket/guardKey
// still equals guard; it implements [Decrementer], whose documentation
// says exactly what it does. It returns the count before the decrement: 0
// means none was left and nothing changed. A driver with a
// driver.Decrementer does it in one step (postgres: one statement);
// otherwise it is one Update. Either way conflicts the driver calls
// retryable are retried, as an Update's are.
func (db *DB) DecrementIf(ctx context.Context, guardBucket, guardKey []byte, guard uint64, bucket, key []byte) (uint64, error) {
	switch {
	case len(guardBucket) == 0 || len(bucket) == 0:
		return 0, ErrInvalidName
	case len(key) == 0:
		return 0, ErrNotFound // no key is empty
	case db.decrementer == nil:
		return db.decrementInUpdate(ctx, guardBucket, guardKey, guard, bucket, key)
	}
	if err := db.gate.enter(ctx); err != nil {
		return 0, err
	}
	defer db.gate.leave()
	backoff := firstBackoff
	for attempt := 0; ; attempt++ {
		before, err := db.decrementer.DecrementIf(ctx, guardBucket, guardKey, guard, bucket, key)
		if again, err := db.again(ctx, attempt, &backoff, err); !again {
			if err != nil {
				return 0, err
			}
			return before, nil
		}
	}
}

// decrementInUpdate is DecrementIf as the Update its documentation shows.
func (db *DB) decrementInUpdate(ctx context.Context, guardBucket, guardKey []byte, guard uint64, bucket, key []byte) (uint64, error) {
	var before uint64
	err := db.Update(ctx, func(tx Tx) error {
		before = 0
		g, err := GetUint64(tx, guardBucket, guardKey)
		if err != nil {
			return err
		}
		if g != guard {
			return ErrGuardChanged
		}
		v, err := tx.Get(bucket, key)
		if err != nil {
			return err
		}
		n, err := driver.DecodeCount(bucket, key, v)
		if err != nil || n == 0 {
			return err
		}
		before = n
		if len(v) == 4 {
			return tx.Put(bucket, key, binary.BigEndian.AppendUint32(nil, uint32(n-1)))
		}
		return tx.Put(bucket, key, binary.BigEndian.AppendUint64(nil, n-1))
	})
	if err != nil {
		return 0, err
	}
	return before, nil
}
