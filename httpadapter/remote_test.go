package httpadapter_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/httpadapter"
	"github.com/lintelhq/lintel/panel"
)

// remotePanel registers a panel with a remote access secret in e's store,
// through a Registry of its own, as another server sharing the store
// would, and returns the Registry and the secret.
func remotePanel(t testing.TB, e *env, serial string) (*panel.Registry, string) {
	t.Helper()
	ctx := context.Background()
	reg, err := panel.Open(ctx, e.st, panel.WithBcryptCost(bcrypt.MinCost), panel.WithClock(e.clock.Now))
	require.NoError(t, err)
	require.NoError(t, reg.Put(ctx, serial, "Front door"))
	secret, err := panel.NewSecret()
	require.NoError(t, err)
	require.NoError(t, reg.SetSecret(ctx, serial, secret))
	return reg, secret
}

// remoteItems are identifiers of every kind the remote access server
// decides, pushed by an admin; the clock stands at 2026-11-23 09:00 UTC.
func remoteItems(t testing.TB, e *env) {
	t.Helper()
	admin := e.login("admin", adminPassword)
	perm := `"valid":{"time":{"is_permanent":true},"passes":{"is_permanent":true}}`
	id := func(n int, typ, number, lock, valid string) string {
		return fmt.Sprintf(`{"link_id":"00000000-0000-4000-8000-%012d","identifier_type":%q,"identifier_number":%q,"lock":%q,%s}`, n, typ, number, lock, valid)
	}
	expired := `"valid":{"time":{"is_permanent":false,"from":1700000000,"to":1700086400},"passes":{"is_permanent":true}}`
	items := []string{
		id(1, "card", "AA:BB:CC:01", "first", perm),
		id(2, "card", "AA:BB:CC:02", "second", perm),
		id(3, "card", "AA:BB:CC:03", "all", perm),
		id(4, "ukey", "12345678", "first", perm),
		id(5, "inputCode", "4711", "all", perm),
		id(6, "qr", "5f0c4a52-8f4e-4e55-9d2a-0c5e0ad0b001", "first", perm),
		id(7, "card", "AA:BB:CC:07", "first", expired),
		id(8, "card", "AA:BB:CC:08", "first", `"valid":{"time":{"is_permanent":true},"passes":{"is_permanent":false,"max_passes":1}}`),
	}
	r := e.do("POST", "/api/v1/access/identifiers/link/update", `{"list_items":[`+strings.Join(items, ",")+`]}`, admin)
	require.Equal(t, 200, r.status, r.body)
	require.NotContains(t, r.body, `"success":false`)
}

func TestRemoteAccessDecides(t *testing.T) {
	e := newEnv(t, envConfig{})
	remoteItems(t, e)
	_, secret := remotePanel(t, e, "AV04SD-0001")
	granted := func(lock int) string {
		return fmt.Sprintf(`{"handled":true,"access":{"granted":true,"lock_number":%d}}`, lock)
	}
	const denied, unhandled = `{"handled":true,"access":{"granted":false}}`, `{"handled":false}`
	tests := []struct {
		name, query, typ, number, want string
	}{
		{"card of the first lock", "", "card", "AA:BB:CC:01", granted(1)},
		{"card in another spelling", "", "card", "aa-bb-cc-01", granted(1)},
		{"card of the second lock only", "", "card", "AA:BB:CC:02", granted(2)},
		{"card of all locks opens both", "", "card", "AA:BB:CC:03", granted(0)},
		{"card of all locks, the reader's lock named", "&lock=2", "card", "AA:BB:CC:03", granted(2)},
		{"card of the first lock at the second lock's reader", "&lock=2", "card", "AA:BB:CC:01", denied},
		{"card of the second lock at the first lock's reader", "&lock=1", "card", "AA:BB:CC:02", denied},
		{"a key fob read as a card", "", "card", "12345678", granted(1)},
		{"a key fob", "", "ukey", "12345678", granted(1)},
		{"a card read as a key fob", "", "ukey", "AA:BB:CC:01", granted(1)},
		{"input code", "", "input_code", "4711", granted(0)},
		{"wrong input code", "", "input_code", "4712", denied},
		{"qr", "", "qr", "5f0c4a52-8f4e-4e55-9d2a-0c5e0ad0b001", granted(1)},
		{"qr in upper case", "", "qr", "5F0C4A52-8F4E-4E55-9D2A-0C5E0AD0B001", granted(1)},
		{"unknown card", "", "card", "AA:BB:CC:99", denied},
		{"expired card", "", "card", "AA:BB:CC:07", denied},
		{"last pass", "", "card", "AA:BB:CC:08", granted(1)},
		{"no pass left", "", "card", "AA:BB:CC:08", denied},
		{"a type Lintel does not decide", "", "face", "x", unhandled},
		{"a malformed number is unknown", "", "card", "not a card", denied},
	}
	for _, tc := range tests {
		r := e.do("POST", "/api/v1/remote/access?key="+secret+tc.query, fmt.Sprintf(`{"identifier_number":%q,"identifier_type":%q}`, tc.number, tc.typ), nil)
		require.Equal(t, 200, r.status, "%s: %s", tc.name, r.body)
		assert.JSONEq(t, tc.want, r.body, tc.name)
	}

	// Each decision is in the log, named as BAS-IP names it, with the panel.
	admin := e.login("admin", adminPassword)
	require.Eventually(t, func() bool {
		r := e.do("GET", "/api/v1/log/items?limit=100&filter="+strings.ReplaceAll("source eq 'remote:AV04SD-0001'", " ", "%20"), "", admin)
		return strings.Count(r.body, "_by_remote_server_api_call") == len(tests)-1 // the unhandled one decides nothing
	}, 5*time.Second, 10*time.Millisecond)
	r := e.do("GET", "/api/v1/log/items?limit=100", "", admin)
	assert.Contains(t, r.body, `"name":"access_granted_by_remote_server_api_call"`)
	assert.Contains(t, r.body, `"name":"access_denied_by_remote_server_api_call"`)
}

// With RemoteFallback, a credential Lintel does not know is left to the
// panel; one it knows is still decided, denials included.
func TestRemoteAccessFallback(t *testing.T) {
	e := newEnv(t, envConfig{fallback: true})
	remoteItems(t, e)
	_, secret := remotePanel(t, e, "AV04SD-0001")
	ask := func(number string) string {
		r := e.do("POST", "/api/v1/remote/access?key="+secret, `{"identifier_number":"`+number+`","identifier_type":"card"}`, nil)
		require.Equal(t, 200, r.status, r.body)
		return r.body
	}
	assert.JSONEq(t, `{"handled":false}`, ask("AA:BB:CC:99"))
	assert.JSONEq(t, `{"handled":true,"access":{"granted":false}}`, ask("AA:BB:CC:07"))
	assert.JSONEq(t, `{"handled":true,"access":{"granted":true,"lock_number":1}}`, ask("AA:BB:CC:01"))
}

// Panels authenticate with their secret, in the URL or as a Bearer token;
// a wrong one is refused and, repeated from one address, throttled, while
// a panel with the right secret is never refused for it. A removed panel
// or a replaced secret stops working at once, even when changed through
// another Registry.
func TestRemoteAccessAuthentication(t *testing.T) {
	e := newEnv(t, envConfig{limits: httpadapter.Limits{LoginFailures: 3, LoginWindow: time.Minute}})
	remoteItems(t, e)
	reg, secret := remotePanel(t, e, "AV04SD-0001")
	body := `{"identifier_number":"AA:BB:CC:01","identifier_type":"card"}`
	ok := `{"handled":true,"access":{"granted":true,"lock_number":1}}`

	r := e.do("POST", "/api/v1/remote/access", body, map[string]string{"Authorization": "Bearer " + secret})
	assert.JSONEq(t, ok, r.body)
	r = e.do("POST", "/api/v1/remote/access", body, nil)
	assert.Equal(t, 401, r.status)
	assert.JSONEq(t, `{"error":"Log In"}`, r.body)
	for range 2 { // with the one without a secret, 3 failures
		r = e.do("POST", "/api/v1/remote/access?key=0123456789abcdef0123456789abcdef", body, nil)
		assert.Equal(t, 401, r.status)
	}
	r = e.do("POST", "/api/v1/remote/access?key=0123456789abcdef0123456789abcdef", body, nil)
	assert.Equal(t, 429, r.status, "a guesser is throttled")
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	r = e.do("POST", "/api/v1/remote/access?key="+secret, body, nil)
	assert.JSONEq(t, ok, r.body, "the panel from the same address is not")

	for _, bad := range []string{``, `[]`, `{"identifier_type":"card"}`, `{"identifier_number":"1"}`, `{"identifier_number":5,"identifier_type":"card"}`} {
		r = e.do("POST", "/api/v1/remote/access?key="+secret, bad, nil)
		assert.Equal(t, 400, r.status, bad)
	}
	r = e.do("POST", "/api/v1/remote/access?key="+secret+"&lock=3", body, nil)
	assert.Equal(t, 400, r.status)

	e.clock.Add(time.Minute) // the failures leave the window
	ctx := context.Background()
	next, err := panel.NewSecret()
	require.NoError(t, err)
	require.NoError(t, reg.SetSecret(ctx, "AV04SD-0001", next))
	r = e.do("POST", "/api/v1/remote/access?key="+secret, body, nil)
	assert.Equal(t, 401, r.status, "the old secret stops working at once")
	r = e.do("POST", "/api/v1/remote/access?key="+next, body, nil)
	assert.JSONEq(t, ok, r.body)
	require.NoError(t, reg.Remove(ctx, "AV04SD-0001"))
	r = e.do("POST", "/api/v1/remote/access?key="+next, body, nil)
	assert.Equal(t, 401, r.status, "a removed panel is refused at once")
}

// Every reason access denies for is denied by the remote access server
// too, and journaled with that reason under the panel's source.
func TestRemoteAccessEveryReason(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	_, secret := remotePanel(t, e, "AV04SD-0001")
	const now = 1795424400 // the env's clock
	link := func(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
	card := func(n int, valid string, extra string) string {
		return fmt.Sprintf(`{"link_id":%q,"identifier_type":"card","identifier_number":"AA:BB:CC:%02d","lock":"first","valid":%s%s}`, link(n), n, valid, extra)
	}
	perm := `{"time":{"is_permanent":true},"passes":{"is_permanent":true}}`
	post := func(path, body string) {
		t.Helper()
		r := e.do("POST", path, body, admin)
		require.Equal(t, 200, r.status, r.body)
	}
	post("/api/v1/access/timeprofile/link/update", `{"list_items":[{"link_id":"`+link(90)+`","name":"once, long ago",
		"time_options":{"is_all_day":false,"date_from":1767254400,"date_to":1767265200},"repeat_options":{"repeat_enable":false}}]}`)
	post("/api/v1/access/identifiers/link/update", `{"list_items":[`+strings.Join([]string{
		card(1, perm, ""),
		card(2, perm, ""), // its user is blocked
		card(3, fmt.Sprintf(`{"time":{"is_permanent":false,"from":%d,"to":%d},"passes":{"is_permanent":true}}`, now+60, now+3600), ""),
		card(4, fmt.Sprintf(`{"time":{"is_permanent":false,"from":%d,"to":%d},"passes":{"is_permanent":true}}`, now-3600, now-60), ""),
		card(5, perm, `,"time_profiles":{"link_ids":["`+link(91)+`"]}`),
		card(6, perm, `,"time_profiles":{"link_ids":["`+link(90)+`"]}`),
		card(7, `{"time":{"is_permanent":true},"passes":{"is_permanent":false,"max_passes":1}}`, `,"additional":{"passes_left":0}`),
		card(8, perm, ""), // its user is removed
	}, ",")+`]}`)
	post("/api/v1/access/users/link/update", `{"list_items":[
		{"link_id":"`+link(80)+`","name":"Blocked","auth_factors":["card"],"is_blocked":true,"identifier_link_ids":["`+link(2)+`"]},
		{"link_id":"`+link(81)+`","name":"Leaving","auth_factors":["card"],"is_blocked":true,"identifier_link_ids":["`+link(8)+`"]}]}`)
	post("/api/v1/access/users/link/delete", `{"link_ids":["`+link(81)+`"]}`)

	tests := []struct {
		number, query, reason string
	}{
		{"AA:BB:CC:01", "", "granted"},
		{"AA:BB:CC:99", "", "unknown_credential"},
		{"AA:BB:CC:02", "", "user_blocked"},
		{"AA:BB:CC:03", "", "not_yet_valid"},
		{"AA:BB:CC:04", "", "expired"},
		{"AA:BB:CC:05", "", "time_profile_missing"},
		{"AA:BB:CC:06", "", "outside_time_profile"},
		{"AA:BB:CC:07", "", "no_passes_left"},
		{"AA:BB:CC:08", "", "owner_removed"},
		{"AA:BB:CC:01", "&lock=2", "wrong_lock"},
	}
	for _, tc := range tests {
		r := e.do("POST", "/api/v1/remote/access?key="+secret+tc.query, `{"identifier_number":"`+tc.number+`","identifier_type":"card"}`, nil)
		require.Equal(t, 200, r.status, r.body)
		if tc.reason == "granted" {
			assert.JSONEq(t, `{"handled":true,"access":{"granted":true,"lock_number":1}}`, r.body)
		} else {
			assert.JSONEq(t, `{"handled":true,"access":{"granted":false}}`, r.body, tc.reason)
		}
		filter := url.QueryEscape("source eq 'remote:AV04SD-0001'")
		require.Eventually(t, func() bool {
			r := e.do("GET", "/api/v1/log/items?limit=1&filter="+filter, "", admin)
			return strings.Contains(r.body, `"reason":"`+tc.reason+`"`) && strings.Contains(r.body, `_by_remote_server_api_call"`)
		}, 5*time.Second, 5*time.Millisecond, tc.reason)
	}
}
