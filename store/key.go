package store

import (
	"encoding/binary"
	"errors"
)

// ErrBadKey is returned by SplitKey for bytes that Key did not make.
var ErrBadKey = errors.New("store: malformed composite key")

// Key joins parts into one composite key that is injective: two different
// lists of parts never give the same key, whatever bytes the parts hold (a
// separator byte would not do: "a\x00b"+"c" and "a"+"b\x00c" would meet).
// Each part is written as its length (a uvarint) followed by its bytes.
//
// The keys of lists that share their first parts share a prefix, so
// Key(a, b) is a prefix for Scan of every Key(a, b, ...), and of nothing
// else. Keys do not sort as the parts would (a shorter part sorts first);
// callers that need an order use fixed-width parts.
func Key(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = AppendKeyPart(k, p)
	}
	return k
}

// AppendKeyPart appends one part of a composite key to k, as Key writes it.
func AppendKeyPart(k []byte, part string) []byte {
	k = binary.AppendUvarint(k, uint64(len(part)))
	return append(k, part...)
}

// SplitKey returns the parts of a key made by Key, or ErrBadKey for any
// other bytes.
func SplitKey(k []byte) ([]string, error) {
	var parts []string
	for len(k) > 0 {
		n, w := binary.Uvarint(k)
		// Refuse a length written in more bytes than it needs: Key never
		// writes one, and accepting it would give one list two keys.
		if w <= 0 || w != len(binary.AppendUvarint(nil, n)) || n > uint64(len(k)-w) {
			return nil, ErrBadKey
		}
		parts = append(parts, string(k[w:w+int(n)]))
		k = k[w+int(n):]
	}
	return parts, nil
}
