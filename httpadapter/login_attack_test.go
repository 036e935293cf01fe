package httpadapter_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/httpadapter"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

// The tests here replay the attacks found against the built server. They
// call the handler directly, so that each request can come from an
// address of its own (r.RemoteAddr), and count the password checks.

// countingAccounts counts the checks of the Accounts it wraps; a check
// waits for gate, when there is one, and sleeps delay.
type countingAccounts struct {
	httpadapter.Accounts
	gate     chan struct{}
	delay    time.Duration
	checks   atomic.Int64
	inFlight atomic.Int64
}

func (c *countingAccounts) enter() func() {
	c.checks.Add(1)
	c.inFlight.Add(1)
	if c.gate != nil {
		<-c.gate
	}
	time.Sleep(c.delay)
	return func() { c.inFlight.Add(-1) }
}

func (c *countingAccounts) CheckPassword(ctx context.Context, username, md5hex string) (httpadapter.Account, error) {
	defer c.enter()()
	return c.Accounts.CheckPassword(ctx, username, md5hex)
}

func (c *countingAccounts) DigestHA1(ctx context.Context, username string, alg httpadapter.DigestAlgorithm) (string, httpadapter.Account, error) {
	defer c.enter()()
	return c.Accounts.DigestHA1(ctx, username, alg)
}

type attackConfig struct {
	limits   httpadapter.Limits
	capacity int                           // of the throttle's tables; 0: the default
	options  []httpadapter.AccountsOption  // after WithBcryptCost(bcrypt.MinCost)
	compare  func(hash, pass []byte) error // replaces bcrypt's comparison
}

type attackEnv struct {
	t        *testing.T
	h        http.Handler
	st       store.Store
	counter  *countingAccounts
	clock    *clock
	entries  func() int // the throttle's entries, with a capacity
	accounts *httpadapter.StoreAccounts
}

func newAttackEnv(t *testing.T, cfg attackConfig) *attackEnv {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	svc, err := access.New(ctx, st)
	require.NoError(t, err)
	d, err := directory.Open(ctx, st)
	require.NoError(t, err)
	accounts, err := httpadapter.NewStoreAccounts(ctx, st, "lintel", append([]httpadapter.AccountsOption{httpadapter.WithBcryptCost(bcrypt.MinCost)}, cfg.options...)...)
	require.NoError(t, err)
	require.NoError(t, accounts.Set(ctx, "admin", httpadapter.Admin, adminPassword))
	require.NoError(t, accounts.Set(ctx, "manager", httpadapter.Manager, managerPassword))
	if cfg.compare != nil {
		httpadapter.SetCompare(accounts, cfg.compare)
	}
	e := &attackEnv{t: t, st: st, counter: &countingAccounts{Accounts: accounts}, accounts: accounts,
		clock: &clock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}}
	hcfg := httpadapter.Config{Access: svc, Directory: d, Accounts: e.counter, Limits: cfg.limits, Now: e.clock.Now}
	if cfg.capacity > 0 {
		e.h, e.entries = httpadapter.NewWithThrottleCapacity(hcfg, cfg.capacity)
	} else {
		e.h = httpadapter.New(hcfg)
	}
	return e
}

// from is the i-th client address.
func from(i int) string { return fmt.Sprintf("10.%d.%d.%d:40000", i>>16&255, i>>8&255, i&255) }

func (e *attackEnv) serve(method, target, remote string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remote
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// login is the panel API's login.
func (e *attackEnv) login(user, password, remote string) *httptest.ResponseRecorder {
	return e.serve("GET", "/api/v1/login?username="+url.QueryEscape(user)+"&password="+md5hex(password), remote, nil)
}

// basic is a 2N request with HTTP Basic.
func (e *attackEnv) basic(user, password, remote string) *httptest.ResponseRecorder {
	return e.serve("GET", "/api/dir/template", remote, basic(user, password))
}

// digest is a 2N request with HTTP Digest, on a fresh nonce.
func (e *attackEnv) digest(user, password, remote string) *httptest.ResponseRecorder {
	challenge := e.serve("GET", "/api/dir/template", remote, nil).Header().Get("WWW-Authenticate")
	c := newDigestClient(e.t, challenge, user, password, "SHA-256")
	return e.serve("GET", "/api/dir/template", remote, c.auth("GET", "/api/dir/template"))
}

// guessers are the ways to check a password: the panel's login and 2N's
// HTTP Basic, with the status of a success.
var guessers = []struct {
	name  string
	guess func(e *attackEnv, user, password, remote string) *httptest.ResponseRecorder
}{
	{"login", (*attackEnv).login},
	{"basic", (*attackEnv).basic},
}

func TestLoginsBusySpelling(t *testing.T) {
	assert.Equal(t, "Too many logins at once, try again later", string(httpadapter.MsgLoginsBusy))
}

// 100 wrong guesses at once, for one user from one address, run at most
// the limit of password checks.
func TestConcurrentGuessesRunAtMostTheLimit(t *testing.T) {
	for _, g := range guessers {
		t.Run(g.name, func(t *testing.T) {
			e := newAttackEnv(t, attackConfig{})
			e.counter.delay = 2 * time.Millisecond // a check takes time, as bcrypt does
			var wg sync.WaitGroup
			var throttled atomic.Int64
			for i := range 100 {
				wg.Go(func() {
					if g.guess(e, "admin", fmt.Sprint("guess", i), "192.0.2.1:5000").Code == 429 {
						throttled.Add(1)
					}
				})
			}
			wg.Wait()
			assert.LessOrEqual(t, e.counter.checks.Load(), int64(5), "LoginFailures checks, not one per request")
			assert.Equal(t, 100-e.counter.checks.Load(), throttled.Load(), "the others are refused")
		})
	}
}

// The right password, sent while wrong guesses hold the last attempt the
// limit allows, gets no token.
func TestConcurrentGuessesCannotSlipPastTheLimit(t *testing.T) {
	for _, g := range guessers {
		t.Run(g.name, func(t *testing.T) {
			e := newAttackEnv(t, attackConfig{})
			const remote = "192.0.2.1:5000"
			for i := range 4 { // limit-1 failures
				require.NotEqual(t, 200, g.guess(e, "admin", fmt.Sprint("wrong", i), remote).Code)
			}
			before := e.counter.checks.Load()
			e.counter.gate = make(chan struct{}) // checks wait until the last guess is sent
			var wg sync.WaitGroup
			var answered atomic.Int64
			settled := func(n int64) bool { return e.counter.inFlight.Load()+answered.Load() == n }
			for i := range 19 {
				wg.Go(func() { g.guess(e, "admin", fmt.Sprint("guess", i), remote); answered.Add(1) })
			}
			require.Eventually(t, func() bool { return settled(19) }, 5*time.Second, time.Millisecond)
			var last *httptest.ResponseRecorder
			wg.Go(func() { last = g.guess(e, "admin", adminPassword, remote); answered.Add(1) })
			require.Eventually(t, func() bool { return settled(20) }, 5*time.Second, time.Millisecond)
			close(e.counter.gate)
			wg.Wait()
			assert.Equal(t, 429, last.Code, "no token: the last attempt was taken")
			assert.LessOrEqual(t, e.counter.checks.Load()-before, int64(1))
		})
	}
}

// Failures lock out the pair of a user name and an address, not the user
// name: admin still logs in from another address, through both APIs.
func TestLockoutIsOfThePairOnly(t *testing.T) {
	for _, g := range guessers {
		t.Run(g.name, func(t *testing.T) {
			e := newAttackEnv(t, attackConfig{})
			const a, b = "192.0.2.1:5000", "198.51.100.7:6000"
			for i := range 5 {
				require.NotEqual(t, 200, g.guess(e, "admin", fmt.Sprint("wrong", i), a).Code)
			}
			assert.Equal(t, 429, e.login("admin", adminPassword, a).Code, "the pair is locked")
			assert.Equal(t, 429, e.basic("admin", adminPassword, a).Code, "the pair is locked")
			assert.Equal(t, 200, e.login("admin", adminPassword, b).Code)
			assert.Equal(t, 200, e.basic("admin", adminPassword, b).Code)
			assert.Equal(t, 200, e.digest("admin", adminPassword, b).Code)
			assert.Equal(t, 200, e.login("manager", managerPassword, a).Code, "the address has failed 5 times of its 20")
		})
	}
}

// A flood of user names from many addresses neither refuses a fresh
// legitimate login nor grows the throttle past its bound.
func TestFloodDoesNotLockEveryoneOut(t *testing.T) {
	const capacity = 32
	e := newAttackEnv(t, attackConfig{capacity: capacity})
	for i := range 60 {
		for j := range 2 {
			name := fmt.Sprintf("%s%d-%d", strings.Repeat("x", 200), i, j)
			assert.Equal(t, 401, e.basic(name, "guess", from(i)).Code)
			assert.Equal(t, 401, e.basic(strings.Repeat("y", 1000)+name, "guess", from(i)).Code, "a name too long for any account")
		}
		if i%10 == 9 {
			assert.Equal(t, 200, e.login("admin", adminPassword, from(10000+i)).Code, "a fresh login during the flood")
			assert.Equal(t, 200, e.basic("manager", managerPassword, from(20000+i)).Code, "a fresh login during the flood")
		}
		assert.LessOrEqual(t, e.entries(), 4*capacity, "pairs, addresses, user names and known addresses")
	}
	assert.Equal(t, 200, e.login("admin", adminPassword, "203.0.113.9:1").Code)
	assert.Equal(t, 200, e.basic("admin", adminPassword, "203.0.113.10:1").Code)
	assert.Equal(t, 200, e.digest("manager", managerPassword, "203.0.113.11:1").Code)
}

// A guess at admin from many addresses is slowed by admin's budget, but
// admin at an address that logged in before is never refused.
func TestDistributedGuessIsSlowed(t *testing.T) {
	e := newAttackEnv(t, attackConfig{})
	const known = "192.0.2.10:7000"
	require.Equal(t, 200, e.login("admin", adminPassword, known).Code)
	before := e.counter.checks.Load()
	for i := range 200 {
		require.NotEqual(t, 200, e.login("admin", fmt.Sprint("guess", i), from(i)).Code)
	}
	assert.LessOrEqual(t, e.counter.checks.Load()-before, int64(20), "LoginUserFailures, 4 x LoginFailures, per window")
	assert.Equal(t, 200, e.login("admin", adminPassword, known).Code, "a known address is never refused")
	assert.Equal(t, 200, e.basic("admin", adminPassword, known).Code)
	assert.Equal(t, 429, e.login("admin", adminPassword, "203.0.113.9:1").Code, "an unknown address waits for the window")
	assert.Equal(t, 200, e.login("manager", managerPassword, "203.0.113.9:1").Code, "other users are not concerned")

	e.clock.Add(15 * time.Minute)
	assert.Equal(t, 200, e.login("admin", adminPassword, "203.0.113.9:1").Code, "the budget is per window")
}

// Concurrent Basic requests and logins never run more bcrypt comparisons
// at once than the bound.
func TestPasswordHashingIsBounded(t *testing.T) {
	var inFlight, most atomic.Int64
	compare := func(hash, pass []byte) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		return bcrypt.CompareHashAndPassword(hash, pass)
	}
	e := newAttackEnv(t, attackConfig{compare: compare, options: []httpadapter.AccountsOption{httpadapter.WithHashConcurrency(2)}})
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			code := e.basic(fmt.Sprint("user", i), "guess", from(i)).Code
			assert.Contains(t, []int{401, 429}, code)
		})
		wg.Go(func() {
			code := e.login("admin", "guess", from(100+i)).Code
			assert.Contains(t, []int{400, 429}, code)
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, most.Load(), int64(2))
	assert.Positive(t, most.Load())
}

// When no comparison can start within the wait, the client is told to
// come back at once, and the attempt does not count as a failure.
func TestBusyHashingAnswersQuickly(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	compare := func(hash, pass []byte) error {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		return bcrypt.CompareHashAndPassword(hash, pass)
	}
	e := newAttackEnv(t, attackConfig{limits: httpadapter.Limits{LoginFailures: 1}, compare: compare,
		options: []httpadapter.AccountsOption{httpadapter.WithHashConcurrency(1), httpadapter.WithHashWait(20 * time.Millisecond)}})
	var wg sync.WaitGroup
	var slow *httptest.ResponseRecorder
	wg.Go(func() { slow = e.basic("admin", adminPassword, "192.0.2.1:1") })
	<-entered

	r := e.login("manager", managerPassword, "192.0.2.2:1")
	assert.Equal(t, 429, r.Code)
	assert.Equal(t, "1", r.Header().Get("Retry-After"))
	assert.JSONEq(t, errJSON(httpadapter.MsgLoginsBusy), r.Body.String())
	r = e.basic("manager", managerPassword, "192.0.2.3:1")
	assert.Equal(t, 429, r.Code)
	assert.Equal(t, "1", r.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"success":false,"error":{"code":18,"description":"too many logins at once, try again later"}}`, r.Body.String())

	close(release)
	wg.Wait()
	assert.Equal(t, 200, slow.Code)
	assert.Equal(t, 200, e.login("manager", managerPassword, "192.0.2.2:1").Code, "a busy answer is no failure")
	assert.Equal(t, 200, e.basic("manager", managerPassword, "192.0.2.3:1").Code, "a busy answer is no failure")
}

// A right Basic password is checked with bcrypt once, then served from
// the cache, until the password changes (through any server).
func TestVerifiedCredentialsAreCached(t *testing.T) {
	var compares atomic.Int64
	compare := func(hash, pass []byte) error { compares.Add(1); return bcrypt.CompareHashAndPassword(hash, pass) }
	e := newAttackEnv(t, attackConfig{compare: compare})
	const a = "192.0.2.1:1"
	require.Equal(t, 200, e.basic("admin", adminPassword, a).Code)
	require.Equal(t, int64(1), compares.Load())
	require.Equal(t, 200, e.basic("admin", adminPassword, a).Code)
	require.Equal(t, 200, e.login("admin", adminPassword, a).Code, "the login checks the same MD5")
	assert.Equal(t, int64(1), compares.Load(), "served from the cache")
	for range 2 {
		require.Equal(t, 401, e.basic("admin", "wrong", a).Code)
	}
	assert.Equal(t, int64(3), compares.Load(), "failures are never cached")

	ctx := context.Background()
	other, err := httpadapter.NewStoreAccounts(ctx, e.st, "lintel", httpadapter.WithBcryptCost(bcrypt.MinCost)) // another server
	require.NoError(t, err)
	require.NoError(t, other.Set(ctx, "admin", httpadapter.Admin, "changed"))
	assert.Equal(t, 401, e.basic("admin", adminPassword, a).Code, "the old password")
	assert.Equal(t, int64(4), compares.Load())
	assert.Equal(t, 200, e.basic("admin", "changed", a).Code)
	assert.Equal(t, 200, e.basic("admin", "changed", a).Code)
	assert.Equal(t, int64(5), compares.Load())
}
