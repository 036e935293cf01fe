package store

import (
	"errors"
	"fmt"
)

// ErrNewerLayout is what PrepareLayout answers for a store whose layout
// record is above the caller's: a newer version of the package wrote it.
var ErrNewerLayout = errors.New("store: layout written by a newer version")

// PrepareLayout readies a package's part of a store in tx: it creates the
// buckets that do not exist yet, and records layout (a counter, see
// PutUint64) under key in bucket meta, which must be one of buckets, when
// the record there is missing or older. A newer record is ErrNewerLayout,
// naming both layouts, and nothing is recorded. A package whose layout
// changes migrates its records before it calls PrepareLayout, in the same
// transaction.
func PrepareLayout(tx Tx, meta, key []byte, layout uint64, buckets ...[]byte) error {
	for _, b := range buckets {
		if err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	v, err := GetUint64(tx, meta, key)
	switch {
	case err != nil:
		return err
	case v > layout:
		return fmt.Errorf("%w: layout %d (this version writes %d)", ErrNewerLayout, v, layout)
	case v < layout:
		return PutUint64(tx, meta, key, layout)
	}
	return nil
}
