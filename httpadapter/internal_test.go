package httpadapter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseDigest(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{`username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nc=00000001, qop=auth`,
			map[string]string{"username": "Mufasa", "realm": "http-auth@example.org", "uri": "/dir/index.html", "algorithm": "SHA-256", "nc": "00000001", "qop": "auth"}},
		{`Username = "a\"b\\c" ,REALM=x`, map[string]string{"username": `a"b\c`, "realm": "x"}},
		{`uri="/a,b", cnonce="c"`, map[string]string{"uri": "/a,b", "cnonce": "c"}},
		{`a="unterminated`, map[string]string{}},
		{`a=1, b`, map[string]string{"a": "1"}},
		{``, map[string]string{}},
	} {
		assert.Equal(t, tc.want, parseDigest(tc.in), tc.in)
	}
}

// RFC 7616 section 3.9.1's example, SHA-256 and MD5, through the adapter's
// hashing.
func TestDigestRFCExample(t *testing.T) {
	for alg, want := range map[DigestAlgorithm]string{
		DigestSHA256: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		DigestMD5:    "8ca523f5e9506fed4657c9700eebdbec",
	} {
		ha1 := alg.hash("Mufasa:http-auth@example.org:Circle of Life")
		ha2 := alg.hash("GET:/dir/index.html")
		nonce := "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		assert.Equal(t, want, alg.hash(strings.Join([]string{ha1, nonce, "00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth", ha2}, ":")), alg)
	}
}

func TestClientAddr(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.7:5000":              "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:5000": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:1":    "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:5000":     "192.0.2.7",
		"[fe80::1%eth0]:80":           "fe80::/64",
		"not an address":              "not an address",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		assert.Equal(t, want, clientAddr(r), remote)
	}
}

func TestNonces(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := newNonces(time.Minute, func() time.Time { return now })
	nonce := n.issue()
	assert.NotEqual(t, nonce, n.issue(), "each client has a nonce of its own, even within one second")
	fresh, ok := n.check(nonce)
	assert.True(t, fresh && ok)
	_, ok = n.check(nonce[:len(nonce)-2] + "AA")
	assert.False(t, ok, "a nonce this server did not sign")
	_, ok = newNonces(time.Minute, func() time.Time { return now }).check(nonce)
	assert.False(t, ok, "another process's key")

	assert.True(t, n.use(nonce, "00000001"))
	assert.False(t, n.use(nonce, "00000001"), "a replay")
	assert.True(t, n.use(nonce, "00000003"), "counts may come out of order")
	assert.True(t, n.use(nonce, "00000002"))
	for i := 4; i <= maxNonceUses; i++ {
		n.use(nonce, fmt.Sprintf("%08x", i))
	}
	assert.False(t, n.use(nonce, fmt.Sprintf("%08x", maxNonceUses+1)), "a nonce serves a bounded number of requests")

	now = now.Add(2 * time.Minute)
	fresh, ok = n.check(nonce)
	assert.True(t, ok)
	assert.False(t, fresh)
	assert.True(t, n.use(n.issue(), "00000001"))
	assert.Len(t, n.used, 1, "expired nonces are forgotten")
}

// A batch cut short by its deadline or its client is answered 503, with
// a message that says nothing was written.
func TestContextErrorsAreNotWritten(t *testing.T) {
	p := &panelAPI{cfg: withDefaults(Config{Accounts: nopAccounts{}})}
	for _, err := range []error{context.DeadlineExceeded, fmt.Errorf("access: batch not written: %w", context.Canceled)} {
		w := httptest.NewRecorder()
		p.fail(w, httptest.NewRequest("POST", "/api/v1/access/users/link/update", nil), err)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		assert.JSONEq(t, `{"error":"Request ended before it was written"}`, w.Body.String())
	}
}

type nopAccounts struct{}

func (nopAccounts) CheckPassword(context.Context, string, string) (Account, error) {
	return Account{}, ErrBadCredentials
}

func (nopAccounts) DigestHA1(context.Context, string, DigestAlgorithm) (string, Account, error) {
	return "", Account{}, ErrBadCredentials
}

func (nopAccounts) Realm() string { return "lintel" }
