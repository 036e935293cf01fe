package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/httpadapter"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

// scrape fetches and parses the metrics at addr with the Prometheus text
// parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	require.NoError(t, err)
	return families
}

// series finds the metric of a family with exactly these labels.
func series(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	family, ok := families[name]
	require.True(t, ok, "metric %s", name)
next:
	for _, m := range family.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		return m
	}
	require.Failf(t, "no series", "%s%v", name, labels)
	return nil
}

// TestMetrics drives both APIs of the built server and reads its metrics
// back through the Prometheus text parser: requests by route pattern and
// status, batch sizes and durations, store commit latency, throttled
// logins and decisions by reason; no label carries a path, link_id, card
// number, user name or password.
func TestMetrics(t *testing.T) {
	s := startServer(t, t.TempDir(), "-admin-password", "pw", "-metrics-addr", "127.0.0.1:0")
	s.drain()
	require.NotEmpty(t, s.metrics)
	_, token := login(t, s.addr, "admin", "pw")
	require.NotEmpty(t, token)
	const (
		user = "91c615e3-1040-4815-8ecb-039a18b756b5"
		card = "eae44848-5e81-4861-8e63-861d9bd4ebb3"
	)
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		// Two users, three results: the first names a card that does not
		// exist yet, a warning.
		{"POST", "/api/v1/access/users/link/update", `{"list_items":[{"link_id":"` + user + `","name":"Ada","auth_factors":["card"],"identifier_link_ids":["` + card + `"]},` +
			`{"link_id":"00000000-0000-4000-8000-000000000002","name":"Bob","auth_factors":["card"]}]}`, 200},
		{"POST", "/api/v1/access/identifiers/link/update", `{"list_items":[{"link_id":"` + card + `","identifier_type":"card","identifier_number":"0A:1B:2C:3D",` +
			`"lock":"first","valid":{"time":{"is_permanent":true},"passes":{"is_permanent":true}}}]}`, 200},
		{"POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"0a-1b-2c-3d","lock":1}`, 200},
		{"POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"99:88:77:66","lock":1}`, 200},
		{"POST", "/api/v1/access/decide", `{"identifier_type":"card"}`, 400},
		{"GET", "/api/v1/access/users/link/" + user, "", 200},
		{"GET", "/api/v1/access/users/link/" + user + "/secret-0A1B2C3D", "", 404},
		{"GET", "/nowhere/0A:1B:2C:3D", "", 404},
		{"POST", "/api/v1/access/users/link/delete", `{"link_ids":["` + user + `"]}`, 200},
		{"GET", "/readyz", "", 200},
	} {
		status, body := call(t, tc.method, s.url+tc.path, token, tc.body)
		require.Equal(t, tc.status, status, "%s %s: %s", tc.method, tc.path, body)
	}
	status, body := call(t, "PUT", s.url+"/api/dir/create", "admin:pw", `{"users":[{"name":"Ada"},{"name":"Bob"},{"name":"Cy"}]}`)
	require.Equal(t, 200, status)
	require.Contains(t, body, `"success":true`)
	// Guess a password until the throttle refuses, then try the 2N API.
	throttled := false
	for range 10 {
		if status, _ := login(t, s.addr, "mallory", "guess"); status == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	require.True(t, throttled, "the login throttle answers 429")
	status, _ = call(t, "POST", s.url+"/api/dir/query", "mallory:guess", `{}`)
	require.Equal(t, http.StatusTooManyRequests, status)

	families := scrape(t, s.metrics)
	requests := func(route, code string) float64 {
		return series(t, families, "lintel_http_requests_total", map[string]string{"route": route, "code": code}).GetCounter().GetValue()
	}
	assert.Equal(t, 1.0, requests("/api/v1/access/users/link/update", "200"))
	assert.Equal(t, 2.0, requests("/api/v1/access/decide", "200"))
	assert.Equal(t, 1.0, requests("/api/v1/access/decide", "400"))
	assert.Equal(t, 1.0, requests("/api/v1/access/users/link/{link_id}", "200"))
	assert.Equal(t, 2.0, requests("other", "404"), "paths on no route")
	assert.Equal(t, 1.0, requests("/readyz", "200"))
	assert.GreaterOrEqual(t, requests("/api/v1/login", "429"), 1.0)
	duration := series(t, families, "lintel_http_request_duration_seconds", map[string]string{"route": "/api/dir/create"}).GetHistogram()
	assert.Equal(t, uint64(1), duration.GetSampleCount())

	items := func(route string) *dto.Histogram {
		return series(t, families, "lintel_batch_items", map[string]string{"route": route}).GetHistogram()
	}
	assert.Equal(t, 2.0, items("/api/v1/access/users/link/update").GetSampleSum(), "two users, their warning not counted")
	assert.Equal(t, 1.0, items("/api/v1/access/identifiers/link/update").GetSampleSum())
	assert.Equal(t, 1.0, items("/api/v1/access/users/link/delete").GetSampleSum())
	assert.Equal(t, 3.0, items("/api/dir/create").GetSampleSum())
	batchTime := series(t, families, "lintel_batch_duration_seconds", map[string]string{"route": "/api/dir/create"}).GetHistogram()
	assert.Equal(t, uint64(1), batchTime.GetSampleCount())
	assert.Positive(t, batchTime.GetSampleSum())

	commits := series(t, families, "lintel_store_update_duration_seconds", map[string]string{"result": "committed"}).GetHistogram()
	assert.GreaterOrEqual(t, commits.GetSampleCount(), uint64(4), "at least one per batch")
	assert.Positive(t, commits.GetSampleSum())

	assert.GreaterOrEqual(t, series(t, families, "lintel_login_throttled_total", map[string]string{"api": "panel"}).GetCounter().GetValue(), 1.0)
	assert.Equal(t, 1.0, series(t, families, "lintel_login_throttled_total", map[string]string{"api": "dir"}).GetCounter().GetValue())

	decisions := func(allow, reason string) float64 {
		return series(t, families, "lintel_decisions_total", map[string]string{"allow": allow, "reason": reason}).GetCounter().GetValue()
	}
	assert.Equal(t, 1.0, decisions("true", "granted"))
	assert.Equal(t, 1.0, decisions("false", "unknown_credential"))

	assert.Contains(t, families, "lintel_journal_pending_events", "the journal's lag")
	assert.Contains(t, families, "go_goroutines")
	assert.Contains(t, families, "process_start_time_seconds")

	// Every label value is bounded: a route pattern, a number, or a word.
	known := map[string]bool{otherRoute: true}
	for _, r := range routes {
		known[r] = true
	}
	for name, family := range families {
		for _, m := range family.GetMetric() {
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				if l.GetName() == "route" {
					assert.True(t, known[v], "%s: route %q", name, v)
				}
				for _, secret := range []string{user, card, "0A", "0a", "99:88", "secret", "nowhere", "mallory", "pw", "Ada", md5hex("pw")} {
					assert.NotContains(t, v, secret, "%s{%s=%q}", name, l.GetName(), v)
				}
			}
		}
	}

	// The metrics address serves metrics only, and the API address none.
	status, _ = call(t, "GET", "http://"+s.metrics+"/api/v1/login?username=admin&password="+md5hex("pw"), "", "")
	assert.Equal(t, 404, status)
	status, _ = call(t, "GET", s.url+"/metrics", "", "")
	assert.Equal(t, 404, status)
}

// TestRouteLabels: every path of the adapter's OpenAPI document is a route
// label of its own, with every method it documents; anything else is
// "other".
func TestRouteLabels(t *testing.T) {
	st := memory.New()
	ctx := context.Background()
	svc, err := access.New(ctx, st)
	require.NoError(t, err)
	dir, err := directory.Open(ctx, st)
	require.NoError(t, err)
	accounts, err := httpadapter.NewStoreAccounts(ctx, st, "lintel")
	require.NoError(t, err)
	adapter := httpadapter.New(httpadapter.Config{Access: svc, Directory: dir, Accounts: accounts})
	rec := httptest.NewRecorder()
	adapter.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	require.Equal(t, 200, rec.Code)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	require.NotEmpty(t, doc.Paths)

	m := newMetrics()
	for path, methods := range doc.Paths {
		url := strings.ReplaceAll(path, "{link_id}", "91c615e3-1040-4815-8ecb-039a18b756b5")
		assert.NotContains(t, url, "{", "a path parameter this test does not know")
		for method := range methods {
			assert.Equal(t, path, m.route(httptest.NewRequest(strings.ToUpper(method), url, nil)), "%s %s", method, path)
		}
	}
	for _, path := range []string{"/", "/api/v1/", "/api/v1/access/users/link/a/b", "/api/dir/", "/api/dir/nope", "/healthz/x", "/0A:1B:2C:3D"} {
		assert.Equal(t, otherRoute, m.route(httptest.NewRequest("GET", path, nil)), path)
	}
	connect := httptest.NewRequest("CONNECT", "/api/v1/login", nil)
	connect.URL.Path = "/x/../api/v1/login"
	assert.Contains(t, []string{otherRoute, "/api/v1/login"}, m.route(connect))
}

// TestBatchItems: a panel batch counts its items, not the warnings that
// follow them; a 2N batch counts its users; anything else is no batch.
func TestBatchItems(t *testing.T) {
	for _, tc := range []struct {
		kind  routeKind
		body  string
		items int
		ok    bool
	}{
		{panelBatch, `{"result":[{"link_id":"a","success":true,"extended_info":"created"},{"link_id":"a","success":true,"extended_info":"bound_identifier_doesnt_exist"},` +
			`{"link_id":"a","success":true,"extended_info":"bound_apartment_doesnt_exist"},{"link_id":"b","success":false,"extended_info":"not_found"}]}`, 2, true},
		{panelBatch, `{"result":[]}`, 0, true},
		{panelBatch, `{"error":"List cannot be empty"}`, 0, false},
		{panelBatch, `not json`, 0, false},
		{dirBatch, `{"success":true,"result":{"series":"1","users":[{"uuid":"x","timestamp":1},{"uuid":"y","timestamp":2}]}}`, 2, true},
		{dirBatch, `{"success":false,"error":{"code":13}}`, 0, false},
	} {
		n, ok := batchItems(tc.kind, []byte(tc.body))
		assert.Equal(t, tc.ok, ok, tc.body)
		assert.Equal(t, tc.items, n, tc.body)
	}
}

// TestTimedStore: the instrumenting wrapper times Update, passes errors
// through, and keeps the store's optional CounterReader.
func TestTimedStore(t *testing.T) {
	m := newMetrics()
	inner := memory.New()
	st := m.timeStore(inner)
	_, isCounter := any(inner).(store.CounterReader)
	_, kept := st.(store.CounterReader)
	assert.Equal(t, isCounter, kept, "an optional interface survives the wrapper")
	_, dec := m.timeStore(decrementer{inner}).(store.Decrementer)
	assert.True(t, dec, "store.Decrementer survives the wrapper")
	ctx := context.Background()
	require.NoError(t, st.Update(ctx, func(tx store.Tx) error { return tx.CreateBucketIfNotExists([]byte("b")) }))
	boom := errors.New("boom")
	require.ErrorIs(t, st.Update(ctx, func(store.Tx) error { return boom }), boom)
	srv := httptest.NewServer(m.handler())
	defer srv.Close()
	families := scrape(t, strings.TrimPrefix(srv.URL, "http://"))
	for _, result := range []string{"committed", "failed"} {
		h := series(t, families, "lintel_store_update_duration_seconds", map[string]string{"result": result}).GetHistogram()
		assert.Equal(t, uint64(1), h.GetSampleCount(), result)
	}
	require.NoError(t, st.Close())
}

// TestHealth: /healthz answers while the process runs; /readyz while the
// store answers a read in time, 503 when it fails or hangs.
func TestHealth(t *testing.T) {
	ok := memory.New()
	closed := memory.New()
	require.NoError(t, closed.Close())
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	release := make(chan struct{})
	defer close(release)
	for _, tc := range []struct {
		name   string
		st     store.Store
		method string
		path   string
		status int
	}{
		{"up", ok, "GET", "/healthz", 200},
		{"up, HEAD", ok, "HEAD", "/healthz", 200},
		{"up even without a store", closed, "GET", "/healthz", 200},
		{"ready", ok, "GET", "/readyz", 200},
		{"store closed", closed, "GET", "/readyz", 503},
		{"store hangs", hangingStore{release: release}, "GET", "/readyz", 503},
		{"method", ok, "POST", "/readyz", 405},
		{"anything else goes on", ok, "GET", "/api/v1/login", http.StatusTeapot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			start := time.Now()
			withHealth(tc.st, slog.New(slog.DiscardHandler), 50*time.Millisecond, next).ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			assert.Equal(t, tc.status, rec.Code)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

// hangingStore is a store whose transactions do not end, whatever their
// context says, until release is closed.
type hangingStore struct {
	store.Store
	release chan struct{}
}

func (s hangingStore) View(context.Context, func(store.Tx) error) error {
	<-s.release
	return nil
}

// TestInProcess runs the server in this process, so that the race
// detector sees its handlers, health checks and metrics at work: both
// health routes answer, and the metrics count them.
func TestInProcess(t *testing.T) {
	_, out := inProcess(t, nil, "-memory", "-addr", "127.0.0.1:0", "-admin-password", "pw", "-metrics-addr", "127.0.0.1:0")
	addr := regexpFind(t, `listening on http://(\S+),`, out.String())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, path := range []string{"/healthz", "/readyz", "/api/v1/access/users/link"} {
				res, err := http.Get("http://" + addr + path)
				if !assert.NoError(t, err) {
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if path == "/api/v1/access/users/link" {
					assert.Equal(t, 401, res.StatusCode)
					continue
				}
				assert.Equal(t, 200, res.StatusCode, path)
				assert.Equal(t, "ok\n", string(body), path)
				assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			}
		})
	}
	wg.Wait()
	families := scrape(t, regexpFind(t, `metrics on http://(\S+)/metrics`, out.String()))
	for route, code := range map[string]string{"/healthz": "200", "/readyz": "200", "/api/v1/access/users/link": "401"} {
		m := series(t, families, "lintel_http_requests_total", map[string]string{"route": route, "code": code})
		assert.Equal(t, 4.0, m.GetCounter().GetValue(), route)
	}
}

// decrementer is a store that says it is a store.Decrementer.
type decrementer struct{ *memory.Store }

func (decrementer) DecrementIf(context.Context, []byte, []byte, uint64, []byte, []byte) (uint64, error) {
	return 0, store.ErrGuardChanged
}
