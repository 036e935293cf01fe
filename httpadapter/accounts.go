package httpadapter

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
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
// which a slow password hash cannot give, so DigestHA1 returns it for the
// accounts' one realm, Realm, which the adapter's challenges name too
// (the one source of the realm: a mismatch would refuse every Digest
// login). Both return ErrBadCredentials for an unknown user
// or a wrong password, and ErrBusy when they cannot check now (the
// adapter answers 429 and does not count a failure); any other error is
// answered as an internal one. An implementation with a slow hash should
// bound the checks it runs at once, as StoreAccounts does: the adapter's
// throttle bounds the failures per user and address, not the requests.
type Accounts interface {
	CheckPassword(ctx context.Context, username, md5hex string) (Account, error)
	DigestHA1(ctx context.Context, username string, alg DigestAlgorithm) (string, Account, error)
	Realm() string
}

// ErrBusy is returned by Accounts when it cannot check a password now:
// as many checks as it may run at once are running, and none ended within
// its wait (or the request ended first). The adapter answers it at once
// with 429 and Retry-After: 1 (the 2N API: code 18), and does not count
// it as a failed login.
var ErrBusy = errors.New("httpadapter: too many password checks at once")

var bucketAccounts = []byte("httpadapter.accounts")

// StoreAccounts keeps accounts in a store (bucket "httpadapter.accounts"):
// bcrypt over the MD5 hex of the password, for the panel API and HTTP
// Basic, and the Digest HA1 values (MD5 and SHA-256) for one realm. The
// HA1 values are password-equivalent for that realm, as in any Digest
// server: keep the store private.
//
// A bcrypt comparison takes tens of milliseconds by design, so
// StoreAccounts runs only a few at once (WithHashConcurrency) and answers
// ErrBusy to a check that waited too long for one (WithHashWait): a flood
// of wrong passwords cannot take every processor. A right password is
// remembered a while (WithCheckCache) under an HMAC-SHA256, with a random
// key of the process, of the user name, the MD5 hex and the stored bcrypt
// hash: a client that sends HTTP Basic with every request pays bcrypt once
// per TTL, and a password changed through any server sharing the store no
// longer matches. Wrong passwords are never remembered. An unknown user
// name costs a bcrypt comparison too, so that the time of an answer does
// not tell which names exist.
type StoreAccounts struct {
	st       store.Store
	realm    string
	cost     int
	compare  func(hash, password []byte) error // bcrypt's; tests count it
	hashing  chan struct{}                     // a token per running comparison
	hashWait time.Duration
	cacheKey []byte
	cacheTTL time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache *lru[[sha256.Size]byte, time.Time] // right checks, until when; nil: none

	decoyOnce sync.Once
	decoy     []byte // a hash compared for unknown users
}

type storedAccount struct {
	Type      AccountType `json:"type"`
	Bcrypt    []byte      `json:"bcrypt"`
	HA1MD5    string      `json:"ha1_md5"`
	HA1SHA256 string      `json:"ha1_sha256"`
}

// AccountsOption configures NewStoreAccounts.
type AccountsOption func(*StoreAccounts)

// WithBcryptCost sets the bcrypt cost of the passwords Set from then on;
// default bcrypt.DefaultCost. Passwords already set keep theirs.
func WithBcryptCost(cost int) AccountsOption { return func(a *StoreAccounts) { a.cost = cost } }

// WithHashConcurrency bounds the bcrypt comparisons that run at once;
// default half of GOMAXPROCS, at least 1, which leaves processors to the
// requests that need no password.
func WithHashConcurrency(n int) AccountsOption {
	return func(a *StoreAccounts) { a.hashing = make(chan struct{}, max(1, n)) }
}

// WithHashWait bounds how long a check waits for a comparison to end
// while WithHashConcurrency of them run; then it is ErrBusy. Default 500
// milliseconds; zero or less does not wait.
func WithHashWait(d time.Duration) AccountsOption { return func(a *StoreAccounts) { a.hashWait = d } }

// WithCheckCache sets how many right checks are remembered (the least
// recently used is forgotten first) and for how long; default 1,024 for 5
// minutes. A size or ttl of zero remembers none.
func WithCheckCache(size int, ttl time.Duration) AccountsOption {
	return func(a *StoreAccounts) {
		a.cacheTTL, a.cache = ttl, nil
		if size > 0 && ttl > 0 {
			a.cache = newLRU[[sha256.Size]byte, time.Time](size)
		}
	}
}

// NewStoreAccounts returns accounts kept in st for Digest realm realm.
func NewStoreAccounts(ctx context.Context, st store.Store, realm string, opts ...AccountsOption) (*StoreAccounts, error) {
	err := st.Update(ctx, func(tx store.Tx) error { return tx.CreateBucketIfNotExists(bucketAccounts) })
	if err != nil {
		return nil, fmt.Errorf("httpadapter: accounts: %w", err)
	}
	a := &StoreAccounts{st: st, realm: realm, cost: bcrypt.DefaultCost, compare: bcrypt.CompareHashAndPassword,
		hashWait: 500 * time.Millisecond, cacheKey: make([]byte, 32), now: time.Now}
	_, _ = rand.Read(a.cacheKey) // never fails (crypto/rand)
	WithHashConcurrency(runtime.GOMAXPROCS(0) / 2)(a)
	WithCheckCache(1024, 5*time.Minute)(a)
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// Cost is the bcrypt cost of the passwords Set from now on.
func (a *StoreAccounts) Cost() int { return a.cost }

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
	h, err := bcrypt.GenerateFromPassword([]byte(MD5Hex(password)), a.cost)
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
		err := store.GetJSON(tx, bucketAccounts, []byte(username), &rec)
		if errors.Is(err, store.ErrNotFound) {
			return ErrBadCredentials
		}
		return err
	})
	return rec, err
}

// CheckPassword checks the MD5 hex of a password, in either case, against
// the bcrypt hash, or finds it among the right checks it remembers. It is
// ErrBusy when no comparison could start in time.
func (a *StoreAccounts) CheckPassword(ctx context.Context, username, md5hex string) (Account, error) {
	md5hex = strings.ToLower(md5hex)
	rec, err := a.load(ctx, username)
	if errors.Is(err, ErrBadCredentials) {
		err = a.hash(ctx, func() {
			a.decoyOnce.Do(func() { a.decoy, _ = bcrypt.GenerateFromPassword([]byte("decoy"), a.cost) })
			_ = a.compare(a.decoy, []byte(md5hex))
		})
		return Account{}, cmp.Or(err, ErrBadCredentials)
	}
	if err != nil {
		return Account{}, err
	}
	acct := Account{Username: username, Type: rec.Type}
	key := a.checkKey(username, md5hex, rec.Bcrypt)
	if a.remembered(key) {
		return acct, nil
	}
	var wrong error
	if err := a.hash(ctx, func() { wrong = a.compare(rec.Bcrypt, []byte(md5hex)) }); err != nil {
		return Account{}, err
	}
	if wrong != nil {
		return Account{}, ErrBadCredentials
	}
	a.remember(key)
	return acct, nil
}

// hash runs compare, a bcrypt comparison, when fewer than the bound run;
// it waits for one to end at most hashWait, and while ctx lasts.
func (a *StoreAccounts) hash(ctx context.Context, compare func()) error {
	select {
	case a.hashing <- struct{}{}:
	default:
		wait := time.NewTimer(a.hashWait)
		defer wait.Stop()
		select {
		case a.hashing <- struct{}{}:
		case <-wait.C:
			return ErrBusy
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
		}
	}
	defer func() { <-a.hashing }()
	compare()
	return nil
}

// checkKey is the cache's key of a right check: an HMAC with the
// process's random key, so that the cache alone tests no password
// quickly, over the stored hash too, so that a new password (Set by any
// server) makes old entries useless.
func (a *StoreAccounts) checkKey(username, md5hex string, hash []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, a.cacheKey)
	for _, part := range [][]byte{[]byte(username), []byte(md5hex), hash} {
		m.Write(binary.AppendUvarint(nil, uint64(len(part))))
		m.Write(part)
	}
	return [sha256.Size]byte(m.Sum(nil))
}

func (a *StoreAccounts) remembered(key [sha256.Size]byte) bool {
	if a.cache == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.cache.get(key)
	if ok && !a.now().Before(until) {
		a.cache.remove(key)
		ok = false
	}
	return ok
}

func (a *StoreAccounts) remember(key [sha256.Size]byte) {
	if a.cache == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cache.put(key, a.now().Add(a.cacheTTL))
}

// Realm is the HTTP Digest realm the accounts' HA1 values are for.
func (a *StoreAccounts) Realm() string { return a.realm }

// DigestHA1 returns the stored HA1 for the algorithm.
func (a *StoreAccounts) DigestHA1(ctx context.Context, username string, alg DigestAlgorithm) (string, Account, error) {
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
