package panel

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/lintelhq/lintel/store"
)

// NewSecret returns a new remote access secret: 32 random bytes, in hex
// (64 characters), for SetSecret and the panel's configuration.
func NewSecret() (string, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("panel: reading randomness: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// checkSecret says whether s may be a secret or a password of min to max
// bytes: printable ASCII without space (it travels in a URL or a header).
func checkSecret(s string, minLen, maxLen int) error {
	if len(s) < minLen {
		return fmt.Errorf("%w: %d bytes (at least %d)", ErrWeakSecret, len(s), minLen)
	}
	if len(s) > maxLen {
		return fmt.Errorf("%w: %d bytes (at most %d)", ErrInvalidSecret, len(s), maxLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("%w: byte %#02x at %d (printable ASCII without space only)", ErrInvalidSecret, c, i)
		}
	}
	return nil
}

// SetSecret sets the remote access secret of the panel serial, with which
// the panel calls the server's remote access route; an empty secret
// removes it (the panel's remote access requests then fail). A secret is
// MinSecretBytes to MaxSecretBytes of printable ASCII without space
// (ErrWeakSecret when shorter, ErrInvalidSecret otherwise), and no other
// panel may have it (ErrWeakSecret). The old secret stops working on the
// next call of any Registry on the store.
//
// Only SHA-256(secret) is stored. A fast, unsalted hash is right here, and
// bcrypt would be wrong: the secret is high-entropy (NewSecret makes 256
// random bits; at least 16 bytes are required), so no dictionary or brute
// force attack on a leaked hash is feasible, while the hash is computed on
// the door's critical path (PanelBySecret) and must cost well under a
// microsecond; being unsalted, it also serves as the index from secret to
// panel.
func (r *Registry) SetSecret(ctx context.Context, serial, secret string) error {
	if err := CheckSerial(serial); err != nil {
		return err
	}
	var h [hashBytes]byte
	if secret != "" {
		if err := checkSecret(secret, MinSecretBytes, MaxSecretBytes); err != nil {
			return err
		}
		h = sha256.Sum256([]byte(secret))
	}
	return r.st.Update(ctx, func(tx store.Tx) error {
		rec, err := getRecord(tx, serial)
		if err != nil {
			return err
		}
		newHex := ""
		if secret != "" {
			newHex = hex.EncodeToString(h[:])
		}
		if rec.Secret == newHex {
			return nil
		}
		if secret != "" {
			_, err := tx.Get(bucketSecrets, h[:])
			switch {
			case err == nil:
				return fmt.Errorf("%w: another panel has this secret", ErrWeakSecret)
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			if err := tx.Put(bucketSecrets, h[:], []byte(serial)); err != nil {
				return err
			}
		}
		if err := deleteSecret(tx, rec.Secret); err != nil {
			return err
		}
		rec.Secret = newHex
		return putRecord(tx, serial, rec)
	})
}

// deleteSecret deletes the index entry of a stored secret hash (hex).
func deleteSecret(tx store.Tx, hexHash string) error {
	if hexHash == "" {
		return nil
	}
	h, err := hex.DecodeString(hexHash)
	if err != nil || len(h) != hashBytes {
		return fmt.Errorf("%w: secret hash %q", ErrCorrupt, hexHash)
	}
	return tx.Delete(bucketSecrets, h)
}

// PanelBySecret returns the panel whose remote access secret is secret,
// or ErrBadSecret. It is on the door's critical path: it hashes the secret,
// reads the store's generation counter once and answers from a map in
// memory, rebuilt only when the generation moved (a panel was created,
// renamed or removed, or a secret or password changed, through any
// Registry on the store). So a secret that was changed or removed, or whose
// panel was removed, fails on the next call once the change has returned.
// The candidate found by the first bytes of the hash is compared with
// the whole hash in constant time. LastSeen is the newest this Registry
// knows, which may be older than what Get reads.
func (r *Registry) PanelBySecret(ctx context.Context, secret string) (Panel, error) {
	if len(secret) < MinSecretBytes || len(secret) > MaxSecretBytes {
		return Panel{}, ErrBadSecret
	}
	var buf [MaxSecretBytes]byte // on the stack: []byte(secret) would allocate
	h := sha256.Sum256(buf[:copy(buf[:], secret)])
	c, err := r.current(ctx)
	if err != nil {
		return Panel{}, err
	}
	for _, e := range c.bySecret[selector(&h)] {
		if subtle.ConstantTimeCompare(e.hash[:], h[:]) == 1 {
			p := e.panel
			p.LastSeen = unixTime(max(e.last, r.memoryLast(p.Serial, e.gen)))
			return p, nil
		}
	}
	return Panel{}, ErrBadSecret
}
