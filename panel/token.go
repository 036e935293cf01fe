package panel

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// The journal's names for a failed link channel login: an event of kind
// journal.Login, Entity EntityLogin, Name NameFailed, Source the serial
// that was tried.
const (
	EntityLogin = "panel"
	NameFailed  = "failed"
)

// SetPassword sets the link channel password of the panel serial, with
// which the panel logs in (Login); an empty password removes it. A
// password is MinPasswordBytes to MaxPasswordBytes of printable ASCII
// without space (ErrWeakSecret when shorter, ErrInvalidSecret otherwise).
// Only its bcrypt hash is stored. Setting or removing the password ends
// the panel's tokens: it must log in again.
func (r *Registry) SetPassword(ctx context.Context, serial, password string) error {
	if err := CheckSerial(serial); err != nil {
		return err
	}
	var hash []byte
	if password != "" {
		if err := checkSecret(password, MinPasswordBytes, MaxPasswordBytes); err != nil {
			return err
		}
		if err := r.exists(ctx, serial); err != nil { // spend no bcrypt work on nothing
			return err
		}
		var err error
		if hash, err = bcrypt.GenerateFromPassword([]byte(password), r.cost); err != nil {
			return fmt.Errorf("panel: hashing the password: %w", err)
		}
	}
	return r.st.Update(ctx, func(tx store.Tx) error {
		rec, err := getRecord(tx, serial)
		if err != nil {
			return err
		}
		if err := pruneTokens(tx, serial, math.MaxInt64, 0); err != nil {
			return err
		}
		if rec.Password == "" && hash == nil {
			return nil
		}
		rec.Password = string(hash)
		return putRecord(tx, serial, rec)
	})
}

// Login checks the link channel password of the panel serial and returns
// a new token for Authenticate, valid for the token TTL on every Registry
// on the store. A wrong password, an unknown serial and a panel without a
// password are all ErrBadPassword, and all cost the same bcrypt work, so
// that serials cannot be probed by timing. With a journal, a failed login
// is recorded (kind journal.Login, see NameFailed).
//
// A panel keeps at most MaxTokensPerPanel tokens: a login beyond drops
// the oldest, and drops the expired ones, so a panel that logs in in a loop
// does not grow the store.
func (r *Registry) Login(ctx context.Context, serial, password string) (string, error) {
	if err := CheckSerial(serial); err != nil {
		return "", err
	}
	var hash string
	err := r.st.View(ctx, func(tx store.Tx) error {
		rec, err := getRecord(tx, serial)
		hash = rec.Password
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return "", err
	}
	pw := []byte(password)
	if len(pw) > MaxPasswordBytes { // bcrypt would read only the first 72 bytes
		pw = pw[:MaxPasswordBytes]
		hash = ""
	}
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(r.dummy, pw)
		return "", r.failed(ctx, serial)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), pw) != nil {
		return "", r.failed(ctx, serial)
	}
	var raw [tokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("panel: reading randomness: %w", err)
	}
	token := hex.EncodeToString(raw[:])
	th := sha256.Sum256([]byte(token))
	now := r.now().UnixNano()
	expires := now + int64(r.tokenTTL)
	err = r.st.Update(ctx, func(tx store.Tx) error {
		rec, err := getRecord(tx, serial)
		if errors.Is(err, ErrNotFound) || err == nil && rec.Password != hash {
			return fmt.Errorf("%w: the panel or its password changed meanwhile", ErrBadPassword)
		}
		if err != nil {
			return err
		}
		if err := pruneTokens(tx, serial, now, MaxTokensPerPanel-1); err != nil {
			return err
		}
		v := binary.BigEndian.AppendUint64(be64(now), uint64(expires))
		if err := tx.Put(bucketTokens, th[:], append(v, serial...)); err != nil {
			return err
		}
		return tx.Put(bucketTokenIdx, tokenIdxKey(serial, now, th[:]), be64(expires))
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// failed records a failed login and returns ErrBadPassword.
func (r *Registry) failed(ctx context.Context, serial string) error {
	r.log.Info("panel login failed", "serial", serial)
	if r.journal != nil {
		ev := journal.Event{Kind: journal.Login, Time: r.now().UTC(), Source: serial, Name: NameFailed, Entity: EntityLogin}
		if err := r.journal.Append(ctx, ev); err != nil {
			r.log.Warn("panel: journaling a failed login", "serial", serial, "err", err)
		}
	}
	return ErrBadPassword
}

// Authenticate returns the serial of the panel that token was given to by
// Login, on any Registry on the store. An unknown or expired token, or one
// whose panel was removed or whose password changed since, is ErrBadToken;
// an expired token is deleted then. The token is looked up by its SHA-256
// (a token is 256 random bits: a fast hash is enough, and timing reveals
// nothing of the token itself).
func (r *Registry) Authenticate(ctx context.Context, token string) (string, error) {
	if len(token) != 2*tokenBytes {
		return "", ErrBadToken
	}
	th := sha256.Sum256([]byte(token))
	now := r.now().UnixNano()
	var serial string
	var created, expires int64
	err := r.st.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(bucketTokens, th[:])
		if errors.Is(err, store.ErrNotFound) {
			return ErrBadToken
		}
		if err != nil {
			return err
		}
		if len(v) < 17 {
			return fmt.Errorf("%w: token of %d bytes", ErrCorrupt, len(v))
		}
		created, expires = int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:]))
		serial = string(v[16:])
		return nil
	})
	if err != nil {
		return "", err
	}
	if now < expires {
		return serial, nil
	}
	err = r.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete(bucketTokens, th[:]); err != nil {
			return err
		}
		return tx.Delete(bucketTokenIdx, tokenIdxKey(serial, created, th[:]))
	})
	if err != nil {
		r.log.Warn("panel: deleting an expired token", "serial", serial, "err", err)
	}
	return "", ErrBadToken
}

// tokenIdxKey is the key of a token in the per-panel index: the serial,
// the login time (8 bytes big-endian, so a panel's tokens sort oldest
// first) and the token's hash.
func tokenIdxKey(serial string, created int64, hash []byte) []byte {
	return store.Key(serial, string(be64(created)), string(hash))
}

// pruneTokens deletes the tokens of serial that expire at or before now,
// then the oldest until at most keep are left.
func pruneTokens(tx store.Tx, serial string, now int64, keep int) error {
	type tok struct {
		key  []byte
		hash string
		dead bool
	}
	var toks []tok
	live := 0
	err := tx.Scan(bucketTokenIdx, store.Key(serial), func(k, v []byte) error {
		parts, err := store.SplitKey(k)
		if err != nil || len(parts) != 3 || len(v) != 8 {
			return fmt.Errorf("%w: token index key %q", ErrCorrupt, k)
		}
		t := tok{key: append([]byte(nil), k...), hash: parts[2], dead: int64(binary.BigEndian.Uint64(v)) <= now}
		if !t.dead {
			live++
		}
		toks = append(toks, t)
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range toks { // oldest first
		if !t.dead {
			if live <= keep {
				continue
			}
			live--
		}
		if err := tx.Delete(bucketTokens, []byte(t.hash)); err != nil {
			return err
		}
		if err := tx.Delete(bucketTokenIdx, t.key); err != nil {
			return err
		}
	}
	return nil
}
