package httpadapter

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/store"
)

// AccountType is the panel API's account_type.
type AccountType string

// The account types: an admin may change data, a manager may read it and
// ask for decisions.
const (
	Admin   AccountType = "admin"
	Manager AccountType = "manager"
)

// Account is an authenticated user of the adapter.
type Account struct {
	Username string
	Type     AccountType
}

// DigestAlgorithm is an HTTP Digest algorithm of RFC 7616.
type DigestAlgorithm string

// The Digest algorithms the adapter offers, SHA-256 first.
const (
	DigestSHA256 DigestAlgorithm = "SHA-256"
	DigestMD5    DigestAlgorithm = "MD5"
)

// hash is H() of RFC 7616, in lower-case hex.
func (a DigestAlgorithm) hash(s string) string {
	if a == DigestSHA256 {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ErrBadCredentials is returned by Accounts for an unknown user or a wrong
// password.
var ErrBadCredentials = errors.New("httpadapter: wrong login or password")

// Accounts authenticates the adapter's users; an embedding service can
// bring its own (several servers behind one balancer can share one).
//
// CheckPassword checks the MD5 hex of a password (lower case), which is
// what the panel API's login sends; HTTP Basic passes the MD5 of the
// password it received. HTTP Digest needs H(username:realm:password),
// which a slow password hash cannot give, so DigestHA1 returns it per
// realm and algorithm. Both return ErrBadCredentials for an unknown user
// or a wrong password; any other error is answered as an internal one.
type Accounts interface {
	CheckPassword(ctx context.Context, username, md5hex string) (Account, error)
	DigestHA1(ctx context.Context, username, realm string, alg DigestAlgorithm) (string, Account, error)
}

var bucketAccounts = []byte("httpadapter.accounts")

// StoreAccounts keeps accounts in a store (bucket "httpadapter.accounts"):
// bcrypt over the MD5 hex of the password, for the panel API and HTTP
// Basic, and the Digest HA1 values (MD5 and SHA-256) for one realm. The
// HA1 values are password-equivalent for that realm, as in any Digest
// server: keep the store private.
//
// Every HTTP Basic request checks the bcrypt hash (tens of milliseconds by
// design); clients that call often should use Digest or the panel API's
// tokens. An unknown user name costs a bcrypt comparison too, so that the
// time of an answer does not tell which names exist.
type StoreAccounts struct {
	st    store.Store
	realm string
	// Cost is the bcrypt cost of passwords Set from now on;
	// NewStoreAccounts sets bcrypt.DefaultCost. Tests lower it to
	// bcrypt.MinCost.
	Cost int

	decoyOnce sync.Once
	decoy     []byte // a hash compared for unknown users
}

type storedAccount struct {
	Type      AccountType `json:"type"`
	Bcrypt    []byte      `json:"bcrypt"`
	HA1MD5    string      `json:"ha1_md5"`
	HA1SHA256 string      `json:"ha1_sha256"`
}

// NewStoreAccounts returns accounts kept in st for Digest realm realm.
func NewStoreAccounts(ctx context.Context, st store.Store, realm string) (*StoreAccounts, error) {
	err := st.Update(ctx, func(tx store.Tx) error { return tx.CreateBucketIfNotExists(bucketAccounts) })
	if err != nil {
		return nil, fmt.Errorf("httpadapter: accounts: %w", err)
	}
	return &StoreAccounts{st: st, realm: realm, Cost: bcrypt.DefaultCost}, nil
}

// MD5Hex returns the lower-case hex MD5 of a password, as panel clients
// send it.
func MD5Hex(password string) string { return DigestMD5.hash(password) }

// ErrInvalidAccount is returned by Set for an account the adapter could
// not authenticate: an empty name, one longer than 256 bytes or with a
// colon or a control character (HTTP Basic and Digest could not carry
// it), an empty password, or an unknown type.
var ErrInvalidAccount = errors.New("httpadapter: invalid account")

// Set creates or replaces an account.
func (a *StoreAccounts) Set(ctx context.Context, username string, t AccountType, password string) error {
	if username == "" || len(username) > maxUserName || strings.ContainsFunc(username, func(r rune) bool { return r == ':' || unicode.IsControl(r) }) ||
		password == "" || (t != Admin && t != Manager) {
		return fmt.Errorf("%w: %q of type %q", ErrInvalidAccount, username, t)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(MD5Hex(password)), a.Cost)
	if err != nil {
		return fmt.Errorf("httpadapter: accounts: %w", err)
	}
	secret := username + ":" + a.realm + ":" + password
	rec, err := json.Marshal(storedAccount{Type: t, Bcrypt: h, HA1MD5: DigestMD5.hash(secret), HA1SHA256: DigestSHA256.hash(secret)})
	if err != nil {
		return err
	}
	return a.st.Update(ctx, func(tx store.Tx) error { return tx.Put(bucketAccounts, []byte(username), rec) })
}

// Exists reports whether any account exists.
func (a *StoreAccounts) Exists(ctx context.Context) (bool, error) {
	found := false
	err := a.st.View(ctx, func(tx store.Tx) error {
		return tx.Scan(bucketAccounts, nil, func(_, _ []byte) error { found = true; return store.ErrStopScan })
	})
	return found, err
}

func (a *StoreAccounts) load(ctx context.Context, username string) (storedAccount, error) {
	var rec storedAccount
	err := a.st.View(ctx, func(tx store.Tx) error {
		raw, err := tx.Get(bucketAccounts, []byte(username))
		if errors.Is(err, store.ErrNotFound) {
			return ErrBadCredentials
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &rec)
	})
	return rec, err
}

// CheckPassword checks the MD5 hex of a password, in either case, against
// the bcrypt hash.
func (a *StoreAccounts) CheckPassword(ctx context.Context, username, md5hex string) (Account, error) {
	rec, err := a.load(ctx, username)
	if errors.Is(err, ErrBadCredentials) {
		a.decoyOnce.Do(func() { a.decoy, _ = bcrypt.GenerateFromPassword([]byte("decoy"), a.Cost) })
		_ = bcrypt.CompareHashAndPassword(a.decoy, []byte(md5hex))
	}
	if err != nil {
		return Account{}, err
	}
	if bcrypt.CompareHashAndPassword(rec.Bcrypt, []byte(strings.ToLower(md5hex))) != nil {
		return Account{}, ErrBadCredentials
	}
	return Account{Username: username, Type: rec.Type}, nil
}

// DigestHA1 returns the stored HA1 for the realm and algorithm.
func (a *StoreAccounts) DigestHA1(ctx context.Context, username, realm string, alg DigestAlgorithm) (string, Account, error) {
	if realm != a.realm {
		return "", Account{}, ErrBadCredentials
	}
	rec, err := a.load(ctx, username)
	if err != nil {
		return "", Account{}, err
	}
	ha1 := rec.HA1MD5
	if alg == DigestSHA256 {
		ha1 = rec.HA1SHA256
	}
	return ha1, Account{Username: username, Type: rec.Type}, nil
}
