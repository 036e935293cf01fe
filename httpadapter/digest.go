package httpadapter

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Why a 2N request is not authenticated, besides ErrBadCredentials and
// errThrottled.
var (
	errNoCredentials = errors.New("httpadapter: no usable credentials")
	errStale         = errors.New("httpadapter: stale digest nonce")
)

// authenticate checks a 2N request's HTTP Basic or Digest credentials.
func (s *dir) authenticate(r *http.Request) (Account, error) {
	scheme, params, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Basic"):
		user, pass, ok := r.BasicAuth()
		if !ok {
			return Account{}, errNoCredentials
		}
		return s.logins.check(r, user, func() (Account, error) {
			return s.cfg.Accounts.CheckPassword(r.Context(), user, MD5Hex(pass))
		})
	case strings.EqualFold(scheme, "Digest"):
		return s.digest(r, parseDigest(params))
	}
	return Account{}, errNoCredentials
}

// digest checks Digest credentials (RFC 7616, qop=auth). A response that
// is right for a nonce that has expired, or for a nonce count already
// used, is errStale: the client answers a fresh nonce without asking its
// user again.
func (s *dir) digest(r *http.Request, p map[string]string) (Account, error) {
	alg := DigestAlgorithm(p["algorithm"])
	if alg == "" {
		alg = DigestMD5 // RFC 7616: MD5 when absent
	}
	nonce, nc, user := p["nonce"], p["nc"], p["username"]
	if (alg != DigestMD5 && alg != DigestSHA256) || p["qop"] != "auth" || p["realm"] != s.cfg.Accounts.Realm() ||
		p["uri"] != r.URL.RequestURI() || !validNonceCount(nc) || p["cnonce"] == "" || p["userhash"] == "true" {
		return Account{}, errNoCredentials
	}
	fresh, ok := s.nonces.check(nonce)
	if !ok {
		return Account{}, errNoCredentials // not a nonce of this server
	}
	acct, err := s.logins.check(r, user, func() (Account, error) {
		ha1, acct, err := s.cfg.Accounts.DigestHA1(r.Context(), user, alg)
		if err != nil {
			return Account{}, err
		}
		ha2 := alg.hash(r.Method + ":" + p["uri"])
		want := alg.hash(strings.Join([]string{ha1, nonce, nc, p["cnonce"], "auth", ha2}, ":"))
		if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(p["response"]))) != 1 {
			return Account{}, ErrBadCredentials
		}
		return acct, nil
	})
	if err != nil {
		return Account{}, err
	}
	if !fresh || !s.nonces.use(nonce, nc) {
		return Account{}, errStale
	}
	return acct, nil
}

func validNonceCount(nc string) bool {
	if len(nc) != 8 {
		return false
	}
	for _, c := range nc {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// challenge answers 401 with code 9 and the three challenges: Digest with
// SHA-256, Digest with MD5 (in the order of preference RFC 7616 asks
// for), then Basic.
func (s *dir) challenge(w http.ResponseWriter, stale bool) {
	nonce := s.nonces.issue()
	extra := ""
	if stale {
		extra = ", stale=true"
	}
	realm := s.cfg.Accounts.Realm()
	for _, alg := range []DigestAlgorithm{DigestSHA256, DigestMD5} {
		w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Digest realm=%q, qop="auth", algorithm=%s, nonce=%q, opaque="lintel"%s`, realm, alg, nonce, extra))
	}
	w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q, charset="UTF-8"`, realm))
	s.answer(w, http.StatusUnauthorized, CodeAuthRequired, "", "")
}

// maxNonceUses bounds the requests one Digest nonce authenticates; the
// next gets a stale challenge, so a client moves on to a fresh nonce.
const maxNonceUses = 1 << 10

// nonces issues and checks HTTP Digest nonces. A nonce carries its time of
// issue and is signed with a key of this process, so the server checks any
// nonce it made without keeping it. The nonce counts a client has used with a
// nonce are kept until the nonce expires, so a captured request cannot be
// replayed; only nonces that authenticated a request take memory.
type nonces struct {
	key []byte
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	used  map[string]map[string]bool // nonce -> nonce counts seen
	swept time.Time
}

func newNonces(ttl time.Duration, now func() time.Time) *nonces {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	return &nonces{key: key, ttl: ttl, now: now, used: map[string]map[string]bool{}}
}

// mac is the signature of a nonce's payload.
func (n *nonces) mac(ts []byte) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write(ts)
	return m.Sum(nil)
}

// A nonce is its time of issue (8 bytes), random bytes that make it one
// client's own, and the signature of both.
const (
	nonceRandom  = 12
	noncePayload = 8 + nonceRandom
)

func (n *nonces) issue() string {
	payload := binary.BigEndian.AppendUint64(make([]byte, 0, noncePayload+sha256.Size), uint64(n.now().Unix()))
	payload = payload[:noncePayload]
	_, _ = rand.Read(payload[8:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(append(payload, n.mac(payload)...))
}

// check reports whether nonce was made by this server (ok) and is still
// fresh.
func (n *nonces) check(nonce string) (fresh, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != noncePayload+sha256.Size || !hmac.Equal(n.mac(raw[:noncePayload]), raw[noncePayload:]) {
		return false, false
	}
	age := n.now().Sub(time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0))
	return age >= -time.Minute && age <= n.ttl, true
}

// use records that nonce authenticated a request with nonce count nc; it
// reports false for a count used before, or a nonce used too often.
func (n *nonces) use(nonce, nc string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if now := n.now(); now.Sub(n.swept) >= n.ttl {
		for k := range n.used {
			if fresh, _ := n.check(k); !fresh {
				delete(n.used, k)
			}
		}
		n.swept = now
	}
	seen := n.used[nonce]
	nc = strings.ToLower(nc)
	if seen[nc] || len(seen) >= maxNonceUses {
		return false
	}
	if seen == nil {
		seen = map[string]bool{}
		n.used[nonce] = seen
	}
	seen[nc] = true
	return true
}

// parseDigest splits the parameters of a Digest Authorization header:
// name=token or name="quoted string" (with backslash escapes), separated
// by commas. It stops at the first thing it cannot read.
func parseDigest(s string) map[string]string {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			return out
		}
		name = strings.ToLower(strings.TrimSpace(name))
		rest = strings.TrimLeft(rest, " \t")
		var val strings.Builder
		if strings.HasPrefix(rest, `"`) {
			i, closed := 1, false
			for ; i < len(rest); i++ {
				c := rest[i]
				if c == '\\' && i+1 < len(rest) {
					i++
					c = rest[i]
				} else if c == '"' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return out
			}
			s = rest[i+1:]
		} else {
			token, after, _ := strings.Cut(rest, ",")
			val.WriteString(strings.TrimSpace(token))
			s = after
		}
		out[name] = val.String()
	}
}
