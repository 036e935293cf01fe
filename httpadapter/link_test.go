package httpadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/panel"
)

const linkSerial, linkPassword = "AV04SD-0042", "panel-password-1"

// linkPanel registers a panel with a Link password through a Registry of
// its own on e's store, as another server would.
func linkPanel(t testing.TB, e *env) *panel.Registry {
	t.Helper()
	ctx := context.Background()
	reg, err := panel.Open(ctx, e.st, panel.WithBcryptCost(bcrypt.MinCost), panel.WithClock(e.clock.Now))
	require.NoError(t, err)
	require.NoError(t, reg.Put(ctx, linkSerial, "Entrance 2"))
	require.NoError(t, reg.SetPassword(ctx, linkSerial, linkPassword))
	return reg
}

// linkLogin logs the panel in with a body of contentType (the channel's
// Content-Type is not reliable) and returns its Bearer header.
func linkLogin(t testing.TB, e *env, body, contentType string) map[string]string {
	t.Helper()
	r := e.send("POST", "/api/v0/devices/login", body, map[string]string{"Content-Type": contentType}, contentType == "application/json")
	require.Equal(t, 200, r.status, r.body)
	var out struct{ Token string }
	require.NoError(t, json.Unmarshal([]byte(r.body), &out))
	require.NotEmpty(t, out.Token)
	return bearer(out.Token)
}

// backlog is n events of a panel's log as it pushes them.
func backlog(n int) []map[string]any {
	evs := make([]map[string]any, n)
	for i := range evs {
		evs[i] = map[string]any{"created_at": 1795000000 + int64(i), "category": "access", "code": "access_granted_by_valid_identifier",
			"info": map[string]any{"identifier_number": fmt.Sprintf("AA:BB:%04d", i), "lock_number": 1 + i%2}}
	}
	return evs
}

// A panel logs in, pushes a 250-event backlog in pages of 100, and, as it
// does when the channel is enabled again, replays it: each event is in the
// log once.
func TestLinkChannelBacklogReplayedTwice(t *testing.T) {
	e := newEnv(t, envConfig{})
	reg := linkPanel(t, e)
	auth := linkLogin(t, e, `{"login":"`+linkSerial+`","password":"`+linkPassword+`"}`, "application/json")
	evs := backlog(250)
	for round := range 2 {
		for start := 0; start < len(evs); start += 100 {
			raw, err := json.Marshal(map[string]any{"events": evs[start:min(start+100, len(evs))]})
			require.NoError(t, err)
			// Sent as text/plain: decoded by content.
			h := map[string]string{"Authorization": auth["Authorization"], "Content-Type": "text/plain"}
			r := e.send("PUT", "/api/v0/devices/logs", string(raw), h, false)
			require.Equal(t, 200, r.status, "round %d page %d: %s", round, start/100, r.body)
			assert.JSONEq(t, `{"success":true}`, r.body)
		}
	}
	admin := e.login("admin", adminPassword)
	filter := url.QueryEscape("source eq '" + linkSerial + "' and name eq access_granted_by_valid_identifier")
	r := e.do("GET", "/api/v1/log/items?limit=100&filter="+filter, "", admin)
	require.Equal(t, 200, r.status, r.body)
	var page struct {
		ListItems []struct {
			Date int64 `json:"date"`
		} `json:"list_items"`
		ListOption struct {
			Pagination struct {
				TotalItems int `json:"total_items"`
			} `json:"pagination"`
		} `json:"list_option"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &page))
	assert.Equal(t, 250, page.ListOption.Pagination.TotalItems, "each event once")
	dates := map[int64]bool{}
	for p := 1; p <= 3; p++ {
		r := e.do("GET", fmt.Sprintf("/api/v1/log/items?limit=100&page_number=%d&filter=%s", p, filter), "", admin)
		require.NoError(t, json.Unmarshal([]byte(r.body), &page))
		for _, it := range page.ListItems {
			dates[it.Date] = true
		}
	}
	assert.Len(t, dates, 250, "every event of the backlog is there")

	// The calls are the panel's heartbeat: it is online, on every server.
	p, err := reg.Get(context.Background(), linkSerial)
	require.NoError(t, err)
	assert.True(t, reg.Online(p), "last seen %v", p.LastSeen)
}

func TestLinkChannelLoginAndHeartbeat(t *testing.T) {
	e := newEnv(t, envConfig{})
	reg := linkPanel(t, e)
	// A form body without a Content-Type logs in as well as JSON does.
	form := url.Values{"login": {linkSerial}, "password": {linkPassword}}.Encode()
	auth := linkLogin(t, e, form, "")

	for _, path := range []string{"/api/v0/devices/pong", "/api/v0/devices/refresh"} {
		r := e.do("POST", path, "", auth)
		assert.Equal(t, 200, r.status, path)
		assert.JSONEq(t, `{"success":true}`, r.body)
		r = e.do("POST", path, "", bearer("not-a-token"))
		assert.Equal(t, 401, r.status, path)
		assert.JSONEq(t, `{"error":"Log In"}`, r.body)
		r = e.do("POST", path, "", nil)
		assert.Equal(t, 401, r.status, path)
	}
	p, err := reg.Get(context.Background(), linkSerial)
	require.NoError(t, err)
	assert.False(t, p.LastSeen.IsZero())

	tests := []struct {
		body string
		code int
		want string
	}{
		{`{"login":"` + linkSerial + `","password":"wrong-password"}`, 401, `{"error":"Wrong login or password"}`},
		{`{"login":"NOPE-1","password":"` + linkPassword + `"}`, 401, `{"error":"Wrong login or password"}`},
		{`{"login":"` + linkSerial + `"}`, 400, `{"error":"Required parameters missed"}`},
		{``, 400, `{"error":"Required parameters missed"}`},
		{`{"login":5}`, 400, "*"},
	}
	for _, tc := range tests {
		r := e.do("POST", "/api/v0/devices/login", tc.body, nil)
		assert.Equal(t, tc.code, r.status, tc.body)
		if tc.want != "*" {
			assert.JSONEq(t, tc.want, r.body, tc.body)
		}
	}

	// Each failed login is journaled once, with the serial tried.
	admin := e.login("admin", adminPassword)
	require.Eventually(t, func() bool {
		r := e.do("GET", "/api/v1/log/items?limit=100&filter="+url.QueryEscape("name eq login_failed"), "", admin)
		return strings.Contains(r.body, `"total_items":2`) && strings.Contains(r.body, `"source":"`+linkSerial+`"`) &&
			strings.Contains(r.body, `"source":"NOPE-1"`)
	}, 5*time.Second, 5*time.Millisecond)

	for _, bad := range []string{`{}`, `{"events":5}`, `{"events":[{"created_at":1,"code":"has space"}]}`, `[1]`, `not json`} {
		r := e.do("PUT", "/api/v0/devices/logs", bad, auth)
		assert.Equal(t, 400, r.status, bad)
		assert.True(t, strings.HasPrefix(r.body, `{"error":"`), r.body)
	}
	r := e.do("PUT", "/api/v0/devices/logs", `{"events":[]}`, auth)
	assert.Equal(t, 200, r.status, "an empty page is nothing to store")
	r = e.do("PUT", "/api/v0/devices/logs", `{"events":[]}`+strings.Repeat(" ", 2<<20), auth)
	assert.Equal(t, 413, r.status, "a body over 2 MiB")
	assert.JSONEq(t, `{"error":"Request body too large"}`, r.body)

	// A new password ends the panel's tokens.
	require.NoError(t, reg.SetPassword(context.Background(), linkSerial, "panel-password-2"))
	r = e.do("POST", "/api/v0/devices/pong", "", auth)
	assert.Equal(t, 401, r.status)
}
