package store

import (
	"encoding/json"
	"fmt"
)

// GetJSON reads the value of key in bucket into v, as json.Unmarshal does.
// A missing key is ErrNotFound, as from Get; a value that does not decode
// into v is an error that wraps ErrBadValue (and the decoder's error) and
// names the bucket and the key.
func GetJSON(tx Tx, bucket, key []byte, v any) error {
	data, err := tx.Get(bucket, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("store: %q/%q: %w: %w", bucket, key, ErrBadValue, err)
	}
	return nil
}

// PutJSON writes v, encoded by json.Marshal, as the value of key in bucket.
// A value that does not encode is an error that names the bucket and the
// key, and nothing is written.
func PutJSON(tx Tx, bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: %q/%q: %w", bucket, key, err)
	}
	return tx.Put(bucket, key, data)
}
