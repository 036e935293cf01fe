package httpadapter

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// maxThrottleKeys bounds the user names and client addresses the throttle
// remembers. When that many have failed within the window, a name or
// address it does not know yet is refused too (fail closed) until the
// window passes: memory stays bounded, and a flood of fresh names cannot
// push a guessed account's failures out.
const maxThrottleKeys = 1 << 16

// maxUserName bounds the user names the adapter passes to Accounts and
// keeps in the throttle.
const maxUserName = 256

// errThrottled refuses a login attempt of a user or client that failed
// too often.
var errThrottled = errors.New("httpadapter: too many failed logins")

// throttle counts failed logins per key (a user name, a client address)
// in a sliding window; a key with limit failures in the window is refused.
type throttle struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time // at most limit per key, oldest first
	swept    time.Time
}

func newThrottle(limit int, window time.Duration, now func() time.Time) *throttle {
	return &throttle{limit: limit, window: window, now: now, failures: map[string][]time.Time{}}
}

// loginKeys are the throttle's keys for an attempt to log in as user from
// r's client. A name longer than any account's is cut, so that no key is
// longer than maxUserName.
func loginKeys(r *http.Request, user string) []string {
	return []string{"user:" + user[:min(len(user), maxUserName)], "addr:" + clientAddr(r)}
}

// clientAddr is the client's IP address; IPv6 clients count per /64, the
// block one subscriber usually has.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.WithZone("").Prefix(64)
		return p.String()
	}
	return ip.Unmap().String()
}

// check runs verify, the check of user's credentials, unless user or r's
// client has failed too often; a failure of verify counts against both.
func (t *throttle) check(r *http.Request, user string, verify func() (Account, error)) (Account, error) {
	keys := loginKeys(r, user)
	if !t.allowed(keys) {
		return Account{}, errThrottled
	}
	acct, err := Account{}, ErrBadCredentials
	if len(user) <= maxUserName {
		acct, err = verify()
	}
	if errors.Is(err, ErrBadCredentials) {
		t.fail(keys)
	}
	return acct, err
}

// allowed reports whether an attempt under keys may be checked at all.
func (t *throttle) allowed(keys []string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.sweep(now)
	for _, k := range keys {
		f, known := t.failures[k]
		if !known && len(t.failures) >= maxThrottleKeys {
			return false
		}
		if len(f) == t.limit && now.Sub(f[0]) < t.window {
			return false
		}
	}
	return true
}

// fail records a failed attempt under keys.
func (t *throttle) fail(keys []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		f := append(t.failures[k], now)
		if len(f) > t.limit {
			f = f[len(f)-t.limit:]
		}
		t.failures[k] = f
	}
}

// sweep forgets, once per window, the keys without a failure in it.
func (t *throttle) sweep(now time.Time) {
	if now.Sub(t.swept) < t.window {
		return
	}
	for k, f := range t.failures {
		if now.Sub(f[len(f)-1]) >= t.window {
			delete(t.failures, k)
		}
	}
	t.swept = now
}
