package httpadapter_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type pulled struct {
	Success bool `json:"success"`
	Result  struct {
		Events []struct {
			ID      uint64         `json:"id"`
			UTCTime int64          `json:"utcTime"`
			Event   string         `json:"event"`
			Params  map[string]any `json:"params"`
		} `json:"events"`
	} `json:"result"`
}

func subscribe(t *testing.T, e *env, query string, auth map[string]string) string {
	t.Helper()
	r := e.do("GET", "/api/log/subscribe"+query, "", auth)
	require.Equal(t, 200, r.status, r.body)
	var sub struct {
		Success bool `json:"success"`
		Result  struct {
			ID uint32 `json:"id"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &sub), r.body)
	require.True(t, sub.Success, r.body)
	return strconv.FormatUint(uint64(sub.Result.ID), 10)
}

func pull(t *testing.T, e *env, id, timeout string, auth map[string]string) pulled {
	t.Helper()
	r := e.do("GET", "/api/log/pull?id="+id+"&timeout="+timeout, "", auth)
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var p pulled
	require.NoError(t, json.Unmarshal([]byte(r.body), &p), r.body)
	require.True(t, p.Success, r.body)
	return p
}

func TestTwoNLog(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	manager := basic("manager", managerPassword)
	r := e.do("POST", "/api/v1/access/identifiers/link/update", identifier(linkB5, "card", "0A:1B:2C:3D", `{"time":{"is_permanent":true},"passes":{"is_permanent":true}}`), admin)
	require.Equal(t, 200, r.status, r.body)

	r = e.do("GET", "/api/log/caps", "", manager)
	assert.Contains(t, r.body, `"CardEntered"`)
	all := subscribe(t, e, "?include=all", manager)
	cards := subscribe(t, e, "?filter=CardEntered,CodeEntered", manager)
	// Decisions are journaled a group commit after they are made: a pull
	// with a timeout waits for them.
	e.do("POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"0a:1b:2c:3d","lock":1}`, admin)
	e.do("POST", "/api/v1/access/decide", `{"identifier_type":"inputCode","identifier_number":"123456","lock":1}`, admin)

	p := pull(t, e, cards, "2", manager)
	for len(p.Result.Events) < 2 { // the two may commit in two groups
		more := pull(t, e, cards, "2", manager)
		require.NotEmpty(t, more.Result.Events)
		p.Result.Events = append(p.Result.Events, more.Result.Events...)
	}
	require.Len(t, p.Result.Events, 2)
	assert.Equal(t, "CardEntered", p.Result.Events[0].Event)
	assert.Equal(t, map[string]any{"direction": "in", "card": "*******C-3D", "valid": true}, p.Result.Events[0].Params)
	assert.Equal(t, "CodeEntered", p.Result.Events[1].Event)
	assert.Equal(t, "****", p.Result.Events[1].Params["code"], "a PIN never shows")
	assert.Empty(t, pull(t, e, cards, "0", manager).Result.Events, "each event once")

	p = pull(t, e, all, "0", manager)
	var names []string
	for _, ev := range p.Result.Events {
		names = append(names, ev.Event)
	}
	assert.Equal(t, []string{"AccessDataChanged", "CardEntered", "CodeEntered"}, names)
	assert.NotContains(t, r.body, "0A:1B:2C:3D")

	// A pull waits for the next event and returns as soon as it commits.
	type result struct {
		p  pulled
		at time.Time
	}
	done := make(chan result)
	go func() {
		p := pull(t, e, cards, "5", manager)
		done <- result{p, time.Now()}
	}()
	time.Sleep(50 * time.Millisecond)
	decided := time.Now()
	e.do("POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"99","lock":1}`, admin)
	select {
	case res := <-done:
		require.Len(t, res.p.Result.Events, 1)
		assert.Equal(t, false, res.p.Result.Events[0].Params["valid"])
		assert.Less(t, res.at.Sub(decided), 50*time.Millisecond, "the pull returned within 50 ms of the decision")
	case <-time.After(3 * time.Second):
		t.Fatal("the pull did not return")
	}

	for query, want := range map[string]string{
		"/api/log/pull":                           `"code":11`,
		"/api/log/pull?id=12345":                  `"code":12`,
		"/api/log/pull?id=x":                      `"code":12`,
		"/api/log/pull?id=" + all + "&timeout=-1": `"code":12`,
		"/api/log/subscribe?include=some":         `"code":12`,
		"/api/log/subscribe?filter=Nope":          `"code":12`,
		"/api/log/subscribe?duration=0":           `"code":12`,
	} {
		r := e.do("GET", query, "", manager)
		assert.Contains(t, r.body, want, query)
	}
	assert.Contains(t, e.doUndocumented("GET", "/api/log/nothing", "", manager).body, `"code":2`)
	r = e.do("GET", "/api/log/unsubscribe?id="+all, "", manager)
	assert.JSONEq(t, `{"success":true}`, r.body)
	assert.Contains(t, e.do("GET", "/api/log/pull?id="+all, "", manager).body, `"code":12`, "closed")
	assert.Equal(t, 401, e.do("GET", "/api/log/caps", "", nil).status)
}

func TestBASIPLog(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	manager := e.login("manager", managerPassword)
	r := e.do("POST", "/api/v1/access/identifiers/link/update", identifier(linkB5, "card", "0A:1B:2C:3D", `{"time":{"is_permanent":true},"passes":{"is_permanent":true}}`), admin)
	require.Equal(t, 200, r.status, r.body)
	for _, body := range []string{
		`{"identifier_type":"card","identifier_number":"0a:1b:2c:3d","lock":1}`,
		`{"identifier_type":"card","identifier_number":"77","lock":1}`,
		`{"identifier_type":"inputCode","identifier_number":"1234","lock":2}`,
	} {
		require.Equal(t, 200, e.do("POST", "/api/v1/access/decide", body, admin).status)
	}
	e.do("GET", "/api/v1/login?username=admin&password=00000000000000000000000000000000", "", nil)

	type page struct {
		ListItems []struct {
			ID   uint64         `json:"id"`
			Name string         `json:"name"`
			Info map[string]any `json:"info"`
		} `json:"list_items"`
		ListOption struct {
			Pagination map[string]int `json:"pagination"`
		} `json:"list_option"`
	}
	get := func(query string) page {
		t.Helper()
		r := e.do("GET", "/api/v1/log/items"+query, "", manager)
		require.Equal(t, 200, r.status, r.body)
		var p page
		require.NoError(t, json.Unmarshal([]byte(r.body), &p))
		return p
	}
	var p page
	require.Eventually(t, func() bool { // decisions are journaled a group commit later
		p = get("?limit=10")
		return len(p.ListItems) == 5
	}, 5*time.Second, 5*time.Millisecond)
	var names []string
	for _, it := range p.ListItems {
		names = append(names, it.Name)
	}
	assert.Equal(t, []string{"login_failed", "access_denied_by_input_code", "access_denied_by_unknown_card",
		"access_granted_by_valid_identifier", "access_data_changed"}, names, "newest first")
	assert.Equal(t, map[string]int{"current_page": 1, "items_on_page": 10, "total_items": 5, "total_pages": 1}, p.ListOption.Pagination)
	assert.Equal(t, "*******C-3D", p.ListItems[3].Info["identifier_number"])

	p = get("?limit=2&page_number=2&order_by=asc")
	require.Len(t, p.ListItems, 2)
	assert.Equal(t, "access_denied_by_unknown_card", p.ListItems[0].Name)
	assert.Equal(t, 3, p.ListOption.Pagination["total_pages"])

	p = get("?filter=" + strings.ReplaceAll("name eq access_granted_by_valid_identifier or lock_number eq 2", " ", "%20"))
	require.Len(t, p.ListItems, 2)
	p = get("?filter=" + strings.ReplaceAll("not name eq login_failed and id gt 1", " ", "%20"))
	assert.Len(t, p.ListItems, 3)

	for _, bad := range []string{"?limit=0", "?limit=101", "?page_number=0", "?order_by=sideways", "?filter=name%20like%20x", "?filter=name%20eq"} {
		assert.Equal(t, 400, e.do("GET", "/api/v1/log/items"+bad, "", manager).status, bad)
	}
}

func TestLoginAnswerIsNotCached(t *testing.T) {
	e := newEnv(t, envConfig{})
	r := e.do("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), "", nil)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	r = e.do("GET", "/api/v1/login?username=admin&password=x", "", nil)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
}
