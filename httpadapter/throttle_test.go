package httpadapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/store/memory"
)

// NewWithThrottleCapacity is New with a throttle whose tables (known
// users included) hold at most capacity entries each, and a function that counts the throttle's
// entries, for the tests of package httpadapter_test.
func NewWithThrottleCapacity(cfg Config, capacity int) (http.Handler, func() int) {
	cfg = withDefaults(cfg)
	th := newThrottle(cfg.Limits, capacity, capacity, cfg.Now)
	return serve(cfg, th), th.entries
}

// SetCompare replaces a's bcrypt comparison, for the tests of package
// httpadapter_test that count or slow the comparisons.
func SetCompare(a *StoreAccounts, compare func(hash, password []byte) error) { a.compare = compare }

// testThrottle is a throttle with budgets of 2 per pair, 4 per address
// and 3 per user name in a minute, on a clock the test moves.
func testThrottle(capacity int) (*throttle, *time.Time) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := Limits{LoginFailures: 2, LoginAddressFailures: 4, LoginUserFailures: 3, LoginWindow: time.Minute}
	return newThrottle(l, capacity, capacity, func() time.Time { return now }), &now
}

// attempt is one check of user from addr that verifies as right or not.
func attempt(th *throttle, user, addr string, right bool) error {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = addr + ":1"
	_, err := th.check(r, user, func() (Account, error) {
		if right {
			return Account{Username: user}, nil
		}
		return Account{}, ErrBadCredentials
	})
	return err
}

func TestThrottleBudgets(t *testing.T) {
	th, now := testThrottle(100)
	assert.ErrorIs(t, attempt(th, "a", "192.0.2.1", false), ErrBadCredentials)
	assert.ErrorIs(t, attempt(th, "a", "192.0.2.1", false), ErrBadCredentials)
	err := attempt(th, "a", "192.0.2.1", true)
	assert.ErrorIs(t, err, errThrottled, "the pair's budget is spent, even for the right password")
	assert.Equal(t, "60", retryAfter(err))
	*now = now.Add(20 * time.Second)
	assert.Equal(t, "40", retryAfter(attempt(th, "a", "192.0.2.1", true)), "when the oldest failure leaves the window")

	assert.NoError(t, attempt(th, "a", "192.0.2.2", true), "another address")
	assert.ErrorIs(t, attempt(th, "b", "192.0.2.1", false), ErrBadCredentials, "another name from the address")
	assert.ErrorIs(t, attempt(th, "c", "192.0.2.1", false), ErrBadCredentials)
	assert.ErrorIs(t, attempt(th, "d", "192.0.2.1", true), errThrottled, "the address's budget (4) is spent")

	*now = now.Add(41 * time.Second)
	assert.NoError(t, attempt(th, "a", "192.0.2.1", true), "the first failures left the window")
	assert.ErrorIs(t, attempt(th, "d", "192.0.2.1", false), ErrBadCredentials)
}

func TestThrottleUserBudget(t *testing.T) {
	th, now := testThrottle(100)
	require.NoError(t, attempt(th, "admin", "192.0.2.1", true)) // a known address
	for i := range 3 {
		assert.ErrorIs(t, attempt(th, "admin", fmt.Sprint("198.51.100.", i), false), ErrBadCredentials)
	}
	assert.ErrorIs(t, attempt(th, "admin", "198.51.100.9", true), errThrottled, "the name's budget (3) is spent for unknown addresses")
	assert.NoError(t, attempt(th, "admin", "192.0.2.1", true), "not for the known one")
	assert.ErrorIs(t, attempt(th, "admin", "192.0.2.1", false), ErrBadCredentials)
	assert.ErrorIs(t, attempt(th, "admin", "192.0.2.1", false), ErrBadCredentials, "a known address's failures do not spend the name's budget")
	assert.ErrorIs(t, attempt(th, "admin", "192.0.2.1", true), errThrottled, "but its pair's")
	assert.ErrorIs(t, attempt(th, "other", "198.51.100.9", false), ErrBadCredentials, "other names keep theirs")

	for i := range 3 { // the budget of a name that never logged in
		assert.ErrorIs(t, attempt(th, "new", fmt.Sprint("203.0.113.", i), false), ErrBadCredentials)
	}
	assert.ErrorIs(t, attempt(th, "new", "203.0.113.9", true), errThrottled)
	*now = now.Add(time.Minute)
	assert.NoError(t, attempt(th, "new", "203.0.113.9", true))

	// A name's failures from before its first login still count after it.
	for i := range 2 {
		assert.ErrorIs(t, attempt(th, "m", fmt.Sprint("203.0.114.", i), false), ErrBadCredentials)
	}
	require.NoError(t, attempt(th, "m", "192.0.2.50", true))
	assert.ErrorIs(t, attempt(th, "m", "203.0.114.7", false), ErrBadCredentials)
	assert.ErrorIs(t, attempt(th, "m", "203.0.114.8", true), errThrottled)
	assert.NoError(t, attempt(th, "m", "192.0.2.50", true))

	// Known addresses are the last knownAddrsPerUser.
	for i := range knownAddrsPerUser + 1 {
		require.NoError(t, attempt(th, "k", fmt.Sprint("10.0.0.", i), true))
	}
	for i := range 3 {
		assert.ErrorIs(t, attempt(th, "k", fmt.Sprint("10.1.0.", i), false), ErrBadCredentials)
	}
	assert.ErrorIs(t, attempt(th, "k", "10.0.0.0", true), errThrottled, "the oldest address was forgotten")
	assert.NoError(t, attempt(th, "k", "10.0.0.1", true))
	*now = now.Add(knownAddrTTL)
	for i := range 3 {
		assert.ErrorIs(t, attempt(th, "k", fmt.Sprint("10.2.0.", i), false), ErrBadCredentials)
	}
	assert.ErrorIs(t, attempt(th, "k", "10.0.0.1", true), errThrottled, "known addresses are forgotten after knownAddrTTL")
}

func TestThrottleRefunds(t *testing.T) {
	th, _ := testThrottle(100)
	boom := errors.New("store down")
	r := httptest.NewRequest("GET", "/", nil)
	for range 10 {
		_, err := th.check(r, "a", func() (Account, error) { return Account{}, boom })
		assert.ErrorIs(t, err, boom)
		_, err = th.check(r, "a", func() (Account, error) { return Account{}, ErrBusy })
		assert.ErrorIs(t, err, ErrBusy)
	}
	assert.Zero(t, th.entries(), "an attempt that could not be checked leaves nothing")
	require.ErrorIs(t, attempt(th, "a", "192.0.2.1", false), ErrBadCredentials)
	require.NoError(t, attempt(th, "a", "192.0.2.1", true))
	require.ErrorIs(t, attempt(th, "a", "192.0.2.1", false), ErrBadCredentials)
	require.ErrorIs(t, attempt(th, "a", "192.0.2.1", false), ErrBadCredentials, "a right password cleared the pair")
	assert.ErrorIs(t, attempt(th, "a", "192.0.2.1", true), errThrottled)

	// A reservation holds its place while its check runs.
	th, _ = testThrottle(100)
	release, checking := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = th.check(r, "x", func() (Account, error) { close(checking); <-release; return Account{}, nil })
	}()
	<-checking
	require.ErrorIs(t, attempt(th, "x", "192.0.2.1", false), ErrBadCredentials)
	assert.ErrorIs(t, attempt(th, "x", "192.0.2.1", true), errThrottled, "one failure and one check running")
	close(release)
	assert.Eventually(t, func() bool { return attempt(th, "x", "192.0.2.1", true) == nil }, time.Second, time.Millisecond,
		"the right check gave its place back")
}

func TestThrottleIsBounded(t *testing.T) {
	th, now := testThrottle(50)
	for i := range 1000 {
		_ = attempt(th, fmt.Sprint("user", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256), false)
		require.LessOrEqual(t, th.entries(), 4*50)
	}
	assert.NoError(t, attempt(th, "fresh", "192.0.2.1", true), "a full table forgets, it does not refuse")
	assert.ErrorIs(t, attempt(th, strings.Repeat("a", maxUserName+1), "192.0.2.1", true), ErrBadCredentials,
		"no account has a longer name")
	*now = now.Add(time.Minute)
	require.ErrorIs(t, attempt(th, "once more", "192.0.2.9", false), ErrBadCredentials)
	assert.Equal(t, 3+1, th.entries(), "the entries without a failure in the window were forgotten, the known user was not")
}

func TestLRU(t *testing.T) {
	l := newLRU[string, int](3)
	l.put("a", 1)
	l.put("b", 2)
	l.put("c", 3)
	v, ok := l.get("a") // a is now the most recent
	assert.True(t, ok)
	assert.Equal(t, 1, v)
	l.put("d", 4) // forgets b
	_, ok = l.peek("b")
	assert.False(t, ok)
	k, v, _ := l.oldest()
	assert.Equal(t, "c", k)
	assert.Equal(t, 3, v)
	l.put("c", 30) // updates and marks used
	k, _, _ = l.oldest()
	assert.Equal(t, "a", k)
	l.remove("a")
	l.remove("nothing")
	assert.Equal(t, 2, l.len())
	v, _ = l.peek("c")
	assert.Equal(t, 30, v)
	l.remove("c")
	l.remove("d")
	_, _, ok = l.oldest()
	assert.False(t, ok)
}

func TestStoreAccountsDefaults(t *testing.T) {
	ctx := context.Background()
	a, err := NewStoreAccounts(ctx, memory.New(), "lintel")
	require.NoError(t, err)
	assert.Equal(t, max(1, runtime.GOMAXPROCS(0)/2), cap(a.hashing))
	assert.Equal(t, 500*time.Millisecond, a.hashWait)
	assert.Equal(t, 5*time.Minute, a.cacheTTL)
	assert.NotNil(t, a.cache)
	a, err = NewStoreAccounts(ctx, memory.New(), "lintel", WithCheckCache(0, time.Minute), WithHashConcurrency(0))
	require.NoError(t, err)
	assert.Nil(t, a.cache)
	assert.Equal(t, 1, cap(a.hashing))
}

func TestCheckCacheExpires(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := NewStoreAccounts(ctx, memory.New(), "lintel", WithBcryptCost(bcrypt.MinCost), WithCheckCache(2, time.Minute))
	require.NoError(t, err)
	a.now = func() time.Time { return now }
	compares := 0
	a.compare = func(hash, pass []byte) error { compares++; return bcrypt.CompareHashAndPassword(hash, pass) }
	for _, u := range []string{"a", "b", "c"} {
		require.NoError(t, a.Set(ctx, u, Admin, "pw"))
	}
	check := func(u string) {
		_, err := a.CheckPassword(ctx, u, MD5Hex("pw"))
		require.NoError(t, err)
	}
	check("a")
	check("a")
	assert.Equal(t, 1, compares)
	now = now.Add(time.Minute)
	check("a")
	assert.Equal(t, 2, compares, "the entry expired")
	check("b")
	check("c") // forgets a, the least recently used
	check("a")
	assert.Equal(t, 5, compares, "the cache holds 2")
	check("c")
	assert.Equal(t, 5, compares)
}

func TestBusyHashing(t *testing.T) {
	ctx := context.Background()
	a, err := NewStoreAccounts(ctx, memory.New(), "lintel", WithHashConcurrency(1), WithHashWait(time.Hour))
	require.NoError(t, err)
	a.hashing <- struct{}{} // a comparison runs
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	err = a.hash(ctx, func() { t.Error("compared") })
	assert.ErrorIs(t, err, ErrBusy)
	assert.ErrorIs(t, err, context.Canceled, "the request ended first")
	assert.Equal(t, "1", retryAfter(err))
}
