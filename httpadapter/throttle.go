package httpadapter

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The throttle's bounds. Each of its tables (pairs of a user name and an
// address, addresses, user names) holds at most maxThrottleKeys entries
// and forgets the least recently used one to make room: memory stays
// bounded under any number of names and addresses, and nobody is refused
// because the table is full. An entry is only kept after a failed
// password check, which is itself bounded (StoreAccounts checks a few at
// once), so flushing a table costs an attacker that many checks.
const (
	maxThrottleKeys = 1 << 16
	// maxKnownUsers bounds the user names whose recent addresses the
	// throttle remembers, knownAddrsPerUser the addresses of each (the
	// latest ones), knownAddrTTL how long an address stays known after
	// its last successful login. Only successful logins add to them.
	maxKnownUsers     = 1 << 12
	knownAddrsPerUser = 8
	knownAddrTTL      = 30 * 24 * time.Hour
)

// maxUserName bounds the user names the adapter passes to Accounts. A
// longer name is refused at once: no account has one, so there is no
// password to guess and nothing to remember.
const maxUserName = 256

// errThrottled refuses a login attempt of a user or client that failed
// too often; the error returned is a *throttledError, which tells when to
// come back.
var errThrottled = errors.New("httpadapter: too many failed logins")

type throttledError struct{ retry time.Duration }

func (e *throttledError) Error() string        { return errThrottled.Error() }
func (e *throttledError) Is(target error) bool { return target == errThrottled }

// retryAfter is the Retry-After header, in seconds, of a refused login:
// when the throttle will admit the attempt again, or at once (1 second)
// when the accounts were busy.
func retryAfter(err error) string {
	var te *throttledError
	if !errors.As(err, &te) {
		return "1"
	}
	return strconv.FormatInt(max(1, int64((te.retry+time.Second-1)/time.Second)), 10)
}

// throttle limits failed logins in a sliding window of Limits.LoginWindow,
// under three budgets:
//
//   - a pair of a user name and a client address: LoginFailures. Only
//     that pair is locked out: the name from elsewhere, and the address
//     for other names, are not;
//   - a client address, over all names: LoginAddressFailures, so that an
//     address spraying many names is that address's problem;
//   - a user name, from the addresses that have not logged in as that
//     user recently: LoginUserFailures. A guess from many addresses is
//     slowed down, and the user at an address it logged in from before is
//     never refused for it.
//
// An attempt takes a reservation under the same lock as the check (as
// golang.org/x/time/rate's Reserve): it counts as a failure while its
// password is checked, stays one if the password is wrong, and is given
// back if it is right or could not be checked. So concurrent attempts
// never run more checks than the budgets allow.
type throttle struct {
	pairLimit, addrLimit, userLimit int
	window                          time.Duration
	now                             func() time.Time

	mu    sync.Mutex
	pairs *lru[throttleKey, *window]
	addrs *lru[throttleKey, *window]
	names *lru[throttleKey, *window]    // user names not in known
	known *lru[throttleKey, *knownUser] // user names that logged in

	failed func(r *http.Request, user string) // told of each wrong password checked, if set
}

// newThrottle returns a throttle for l (defaults applied) whose tables
// hold at most capacity entries each and known users at most known.
func newThrottle(l Limits, capacity, known int, now func() time.Time) *throttle {
	return &throttle{
		pairLimit: max(1, l.LoginFailures), addrLimit: max(1, l.LoginAddressFailures), userLimit: max(1, l.LoginUserFailures),
		window: l.LoginWindow, now: now,
		pairs: newLRU[throttleKey, *window](capacity), addrs: newLRU[throttleKey, *window](capacity),
		names: newLRU[throttleKey, *window](capacity), known: newLRU[throttleKey, *knownUser](known),
	}
}

// throttleKey names a pair, an address or a user name: a hash, so that
// an entry's size does not depend on what a client sends.
type throttleKey [16]byte

func keyOf(kind byte, parts ...string) throttleKey {
	b := []byte{kind}
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	sum := sha256.Sum256(b)
	return throttleKey(sum[:16])
}

// window holds the times (Unix nanoseconds) of the failed attempts, and
// of those being checked, under one key.
type window struct{ times []int64 }

// count forgets the times at or before since and counts the others.
func (w *window) count(since int64) int {
	w.times = slices.DeleteFunc(w.times, func(t int64) bool { return t <= since })
	return len(w.times)
}

// retry is how long after now an attempt waits until fewer than limit
// times are within the window (count was just called).
func (w *window) retry(limit int, now int64, d time.Duration) time.Duration {
	if len(w.times) < limit {
		return 0
	}
	sorted := slices.Sorted(slices.Values(w.times))
	return time.Duration(sorted[len(sorted)-limit] + int64(d) - now)
}

// refund removes one time at.
func (w *window) refund(at int64) {
	if i := slices.Index(w.times, at); i >= 0 {
		w.times = slices.Delete(w.times, i, i+1)
	}
}

func (w *window) newest() int64 {
	if len(w.times) == 0 {
		return 0
	}
	return slices.Max(w.times)
}

// knownUser is a user name that logged in: the addresses it did so from
// lately, and its failures from other addresses.
type knownUser struct {
	addrs []knownAddr // oldest first
	fails window
}

type knownAddr struct {
	addr throttleKey
	at   int64
}

func (k *knownUser) knows(addr throttleKey, since int64) bool {
	return slices.ContainsFunc(k.addrs, func(a knownAddr) bool { return a.addr == addr && a.at > since })
}

func (k *knownUser) remember(addr throttleKey, now int64) {
	k.addrs = slices.DeleteFunc(k.addrs, func(a knownAddr) bool { return a.addr == addr })
	k.addrs = append(k.addrs, knownAddr{addr, now})
	if len(k.addrs) > knownAddrsPerUser {
		k.addrs = slices.Delete(k.addrs, 0, len(k.addrs)-knownAddrsPerUser)
	}
}

// reservation is an attempt admitted by the throttle, counted as a
// failure until settled.
type reservation struct {
	at               int64
	pair, addr, name throttleKey
	byName           bool // counted against the user name's budget
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

// check runs verify, the check of user's credentials from r's client, if
// the throttle admits the attempt: a wrong password (ErrBadCredentials)
// counts as a failure, a right one clears the pair's failures and makes
// the address known for user, and any other outcome (busy accounts, a
// failing store) counts for nothing.
func (t *throttle) check(r *http.Request, user string, verify func() (Account, error)) (Account, error) {
	if len(user) > maxUserName {
		return Account{}, ErrBadCredentials
	}
	res, err := t.reserve(user, clientAddr(r))
	if err != nil {
		return Account{}, err
	}
	acct, err := verify()
	t.settle(res, err)
	if errors.Is(err, ErrBadCredentials) && t.failed != nil {
		t.failed(r, user)
	}
	return acct, err
}

// reserve admits an attempt to log in as user from addr, or refuses it
// with a *throttledError.
func (t *throttle) reserve(user, addr string) (reservation, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now().UnixNano()
	since := now - int64(t.window)
	t.expire(now)
	res := reservation{at: now, pair: keyOf('p', user, addr), addr: keyOf('a', addr), name: keyOf('u', user)}

	var nameWin *window
	ku, known := t.known.get(res.name)
	switch {
	case known && ku.knows(res.addr, now-int64(knownAddrTTL)):
		// The user's own address: only the pair and the address count.
	case known:
		nameWin, res.byName = &ku.fails, true
	default:
		nameWin, _ = t.names.get(res.name)
		res.byName = true
	}
	pairWin, _ := t.pairs.get(res.pair)
	addrWin, _ := t.addrs.get(res.addr)

	var retry time.Duration
	for _, b := range []struct {
		w     *window
		limit int
	}{{pairWin, t.pairLimit}, {addrWin, t.addrLimit}, {nameWin, t.userLimit}} {
		if b.w != nil && b.w.count(since) >= b.limit {
			retry = max(retry, b.w.retry(b.limit, now, t.window))
		}
	}
	if retry > 0 {
		return reservation{}, &throttledError{retry: retry}
	}

	pairWin = orPut(t.pairs, res.pair, pairWin)
	addrWin = orPut(t.addrs, res.addr, addrWin)
	pairWin.times = append(pairWin.times, now)
	addrWin.times = append(addrWin.times, now)
	if res.byName {
		if !known {
			nameWin = orPut(t.names, res.name, nameWin)
		}
		nameWin.times = append(nameWin.times, now)
	}
	return res, nil
}

// orPut is w, or a new window put in l under k.
func orPut(l *lru[throttleKey, *window], k throttleKey, w *window) *window {
	if w == nil {
		w = &window{}
		l.put(k, w)
	}
	return w
}

// settle records the outcome err of res's check.
func (t *throttle) settle(res reservation, err error) {
	if errors.Is(err, ErrBadCredentials) {
		return // the reservation is the failure
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	refund := func(l *lru[throttleKey, *window], k throttleKey) {
		if w, ok := l.peek(k); ok {
			w.refund(res.at)
			if len(w.times) == 0 {
				l.remove(k)
			}
		}
	}
	refund(t.addrs, res.addr)
	if res.byName {
		if ku, ok := t.known.peek(res.name); ok {
			ku.fails.refund(res.at)
		} else {
			refund(t.names, res.name)
		}
	}
	if err != nil {
		refund(t.pairs, res.pair)
		return
	}
	t.pairs.remove(res.pair) // the user has shown the password here
	ku, ok := t.known.get(res.name)
	if !ok {
		ku = &knownUser{}
		if w, ok := t.names.peek(res.name); ok { // its failures so far
			ku.fails = *w
			t.names.remove(res.name)
		}
		t.known.put(res.name, ku)
	}
	ku.remember(res.addr, t.now().UnixNano())
}

// expire forgets, from the least recently used end of each table, the
// entries that no longer hold anything within the window.
func (t *throttle) expire(now int64) {
	since := now - int64(t.window)
	for _, l := range []*lru[throttleKey, *window]{t.pairs, t.addrs, t.names} {
		for k, w, ok := l.oldest(); ok && w.newest() <= since; k, w, ok = l.oldest() {
			l.remove(k)
		}
	}
	for k, ku, ok := t.known.oldest(); ok && ku.fails.newest() <= since &&
		!slices.ContainsFunc(ku.addrs, func(a knownAddr) bool { return a.at > now-int64(knownAddrTTL) }); k, ku, ok = t.known.oldest() {
		t.known.remove(k)
	}
}

// entries counts the throttle's entries, in all its tables.
func (t *throttle) entries() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pairs.len() + t.addrs.len() + t.names.len() + t.known.len()
}

// lru is a map of at most capacity entries that forgets the least
// recently used one to make room; every operation is O(1).
type lru[K comparable, V any] struct {
	capacity int
	items    map[K]*lruNode[K, V]
	root     lruNode[K, V] // root.next is the most recently used, root.prev the least
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](capacity int) *lru[K, V] {
	l := &lru[K, V]{capacity: max(1, capacity), items: map[K]*lruNode[K, V]{}}
	l.root.next, l.root.prev = &l.root, &l.root
	return l
}

func (l *lru[K, V]) unlink(n *lruNode[K, V]) { n.prev.next, n.next.prev = n.next, n.prev }

func (l *lru[K, V]) pushFront(n *lruNode[K, V]) {
	n.prev, n.next = &l.root, l.root.next
	n.prev.next, n.next.prev = n, n
}

// get returns k's value and marks it used.
func (l *lru[K, V]) get(k K) (V, bool) {
	n, ok := l.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	l.unlink(n)
	l.pushFront(n)
	return n.val, true
}

// peek returns k's value without marking it used.
func (l *lru[K, V]) peek(k K) (V, bool) {
	n, ok := l.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	return n.val, true
}

// put sets k's value and marks it used, forgetting the least recently
// used entry if there is no room.
func (l *lru[K, V]) put(k K, v V) {
	if n, ok := l.items[k]; ok {
		n.val = v
		l.unlink(n)
		l.pushFront(n)
		return
	}
	if len(l.items) >= l.capacity {
		l.remove(l.root.prev.key)
	}
	n := &lruNode[K, V]{key: k, val: v}
	l.items[k] = n
	l.pushFront(n)
}

func (l *lru[K, V]) remove(k K) {
	if n, ok := l.items[k]; ok {
		l.unlink(n)
		delete(l.items, k)
	}
}

// oldest returns the least recently used entry.
func (l *lru[K, V]) oldest() (K, V, bool) {
	if len(l.items) == 0 {
		var (
			k K
			v V
		)
		return k, v, false
	}
	n := l.root.prev
	return n.key, n.val, true
}

func (l *lru[K, V]) len() int { return len(l.items) }
