package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// routes are the adapter's routes as http.ServeMux patterns (paths only:
// a wrong method still counts under its route), plus the server's own.
// They are the route label of the metrics; a request on no route is
// counted as "other", so no raw path, link_id, card number or query
// string ever becomes a label. TestRouteLabels holds this list to the
// adapter's OpenAPI document.
var routes = func() []string {
	r := []string{"/api/v1/login", "/api/v1/logout", "/api/v1/access/decide"}
	for _, base := range []string{"/api/v1/access/users/link", "/api/v1/access/identifiers/link",
		"/api/v1/access/timeprofile/link", "/api/v1/apartments/link", "/api/v1/access/kone/link"} {
		r = append(r, base+"/update", base+"/delete", base, base+"/{link_id}")
	}
	for _, f := range []string{"template", "create", "update", "delete", "get", "query"} {
		r = append(r, "/api/dir/"+f)
	}
	for _, f := range []string{"caps", "subscribe", "pull", "unsubscribe"} {
		r = append(r, "/api/log/"+f)
	}
	for _, f := range []string{"system/info", "system/status", "switch/caps", "switch/status", "switch/ctrl", "io/caps", "io/status",
		"accesspoint/blocking/status", "accesspoint/blocking/ctrl", "config/holidays"} {
		r = append(r, "/api/"+f)
	}
	r = append(r, "/api/io/ctrl", "/api/accesspoint/grantaccess", // 2N
		"/api/v1/access/identifier/items/link", "/api/v1/apartment/items/link", "/api/v1/access/timeprofile/items/link", // Camdroid
		"/api/v1/remote/access", "/api/v0/devices/login", "/api/v0/devices/logs", "/api/v0/devices/pong", "/api/v0/devices/refresh")
	return append(r, "/api/v1/log/items", "/openapi.json", "/healthz", "/readyz")
}()

// otherRoute labels a request on no known route.
const otherRoute = "other"

// What a route's answer tells the metrics.
type routeKind int

const (
	plainRoute  routeKind = iota
	panelBatch            // {"result":[...]}: one result per item and its warnings
	dirBatch              // {"success":true,"result":{"users":[...]}}: one per item
	decideRoute           // {"allow":..,"reason":..}
	panelLogin            // a 429 is a throttled login
	dirRoute              // every 2N function authenticates: a 429 is a throttled login
)

func kindOf(route string) routeKind {
	switch {
	case route == "/api/v1/access/decide":
		return decideRoute
	case route == "/api/v1/login", route == "/api/v0/devices/login":
		return panelLogin
	case strings.HasPrefix(route, "/api/v1/") && (strings.HasSuffix(route, "/update") || strings.HasSuffix(route, "/delete") ||
		strings.HasSuffix(route, "/items/link")):
		return panelBatch
	case route == "/api/dir/create" || route == "/api/dir/update" || route == "/api/dir/delete":
		return dirBatch
	case strings.HasPrefix(route, "/api/dir/"):
		return dirRoute
	}
	return plainRoute
}

// warnings are the results that follow an item's own result in a panel
// batch (access.UpsertUsers, access.UpsertIdentifiers): they add no item.
var warnings = map[access.ExtendedInfo]bool{
	access.BoundApartmentDoesntExist: true, access.BoundTimeProfileDoesntExist: true,
	access.BoundIdentifierDoesntExist: true, access.BoundKoneRuleDoesntExist: true,
}

// reasons are the decision reasons that may be a label; any other is
// counted as "other".
var reasons = map[access.Reason]bool{
	access.Granted: true, access.UnknownCredential: true, access.UserBlocked: true, access.OwnerRemoved: true,
	access.WrongLock: true, access.NotYetValid: true, access.Expired: true, access.NoPassesLeft: true,
	access.TimeProfileMissing: true, access.OutsideTimeProfile: true,
}

// maxCapture bounds the answer an instrumented request keeps to count
// its items or read its decision; a larger answer is not counted.
const maxCapture = 4 << 20

// metrics are the server's Prometheus metrics, in a registry of their own.
type metrics struct {
	reg        *prometheus.Registry
	classify   *http.ServeMux
	known      map[string]bool // routes
	requests   *prometheus.CounterVec
	durations  *prometheus.HistogramVec
	batchItems *prometheus.HistogramVec
	batchTimes *prometheus.HistogramVec
	storeTimes *prometheus.HistogramVec
	throttled  *prometheus.CounterVec
	decisions  *prometheus.CounterVec
}

// watchJournal exports the journal's lag: events queued, not yet committed.
func (m *metrics) watchJournal(j *journal.Journal) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lintel_journal_pending_events",
		Help: "Events of the access log queued and not yet committed."}, func() float64 { return float64(j.Pending()) }))
}

func newMetrics() *metrics {
	m := &metrics{
		reg:      prometheus.NewRegistry(),
		classify: http.NewServeMux(),
		known:    map[string]bool{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lintel_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code."}, []string{"route", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lintel_http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		batchItems: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lintel_batch_items",
			Help:    "Items in a batch that was answered with per-item results, by route pattern.",
			Buckets: []float64{1, 10, 100, 1000, 10000, 100000}}, []string{"route"}),
		batchTimes: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lintel_batch_duration_seconds",
			Help:    "Time to answer a batch with per-item results, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}, []string{"route"}),
		storeTimes: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lintel_store_update_duration_seconds",
			Help:    "Time of a store write transaction (store.Store.Update), commit included, by result: committed or failed.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2.5, 12)}, []string{"result"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lintel_login_throttled_total",
			Help: "Logins refused with 429 by the login throttle, by API: panel (/api/v1/login) or dir (/api/dir/*)."}, []string{"api"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lintel_decisions_total",
			Help: "Access decisions answered by /api/v1/access/decide, by outcome and reason."}, []string{"allow", "reason"}),
	}
	m.reg.MustRegister(m.requests, m.durations, m.batchItems, m.batchTimes, m.storeTimes, m.throttled, m.decisions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range routes {
		m.classify.Handle(r, http.NotFoundHandler()) // only its pattern is used
		m.known[r] = true
	}
	// Zero series for the counters a dashboard looks for, so that "none
	// yet" reads 0 rather than absent.
	m.throttled.WithLabelValues("panel")
	m.throttled.WithLabelValues("dir")
	return m
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	return mux
}

// route is the label of the route r is on.
func (m *metrics) route(r *http.Request) string {
	// Handler may answer a redirect's target path rather than a pattern
	// (for CONNECT): only a known pattern is a label.
	if _, pattern := m.classify.Handler(r); m.known[pattern] {
		return pattern
	}
	return otherRoute
}

// instrument counts the requests that next answers.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := m.route(r)
		kind := kindOf(route)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		rec.capture = kind == panelBatch || kind == dirBatch || kind == decideRoute
		start := time.Now()
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		m.durations.WithLabelValues(route).Observe(took.Seconds())
		if rec.status == http.StatusTooManyRequests {
			switch kind {
			case panelLogin:
				m.throttled.WithLabelValues("panel").Inc()
			case dirRoute, dirBatch:
				m.throttled.WithLabelValues("dir").Inc()
			}
		}
		if rec.status != http.StatusOK || !rec.capture {
			return
		}
		switch kind {
		case panelBatch, dirBatch:
			if n, ok := batchItems(kind, rec.body.Bytes()); ok {
				m.batchItems.WithLabelValues(route).Observe(float64(n))
				m.batchTimes.WithLabelValues(route).Observe(took.Seconds())
			}
		case decideRoute:
			var d struct {
				Allow  *bool         `json:"allow"`
				Reason access.Reason `json:"reason"`
			}
			if json.Unmarshal(rec.body.Bytes(), &d) != nil || d.Allow == nil {
				return
			}
			reason := string(d.Reason)
			if !reasons[d.Reason] {
				reason = otherRoute
			}
			m.decisions.WithLabelValues(strconv.FormatBool(*d.Allow), reason).Inc()
		}
	})
}

// batchItems counts the items of a batch's answer; false for an answer
// that is no batch result (a 2N error, for one).
func batchItems(kind routeKind, body []byte) (int, bool) {
	if kind == dirBatch {
		var a struct {
			Success bool `json:"success"`
			Result  struct {
				Users []struct{} `json:"users"`
			} `json:"result"`
		}
		if json.Unmarshal(body, &a) != nil || !a.Success {
			return 0, false
		}
		return len(a.Result.Users), true
	}
	var a struct {
		Result *[]struct {
			ExtendedInfo access.ExtendedInfo `json:"extended_info"`
		} `json:"result"`
	}
	if json.Unmarshal(body, &a) != nil || a.Result == nil {
		return 0, false
	}
	n := 0
	for _, r := range *a.Result {
		if !warnings[r.ExtendedInfo] {
			n++
		}
	}
	return n, true
}

// recorder notes the status of an answer and, when capture is set, keeps
// up to maxCapture bytes of a 200 answer's body.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	capture     bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader && code >= 200 { // 1xx answers are not the status
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	if r.capture && r.status == http.StatusOK {
		if r.body.Len()+len(p) > maxCapture {
			r.capture = false
			r.body = bytes.Buffer{}
		} else {
			r.body.Write(p)
		}
	}
	return r.ResponseWriter.Write(p)
}

// Flush lets a streaming handler flush through the recorder.
func (r *recorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }

// Unwrap gives http.ResponseController the writer underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// timedStore is a store.Store whose write transactions are timed.
type timedStore struct {
	store.Store
	times *prometheus.HistogramVec
}

func (s timedStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	start := time.Now()
	err := s.Store.Update(ctx, fn)
	result := "committed"
	if err != nil {
		result = "failed"
	}
	s.times.WithLabelValues(result).Observe(time.Since(start).Seconds())
	return err
}

// timedCounterStore keeps the optional store.CounterReader of the store
// underneath, which access's decision cache uses to skip a transaction;
// timedDecrementerStore keeps store.Decrementer as well (PostgreSQL), with
// which a limited-pass decision takes its pass in one statement.
type (
	timedCounterStore struct {
		timedStore
		store.CounterReader
	}
	timedDecrementerStore struct {
		timedCounterStore
		store.Decrementer
	}
)

// timeStore wraps st so that m sees the time of every Update, keeping the
// optional interfaces access uses.
func (m *metrics) timeStore(st store.Store) store.Store {
	t := timedStore{Store: st, times: m.storeTimes}
	cr, ok := st.(store.CounterReader)
	if !ok {
		return t
	}
	tc := timedCounterStore{timedStore: t, CounterReader: cr}
	if d, ok := st.(store.Decrementer); ok {
		return timedDecrementerStore{timedCounterStore: tc, Decrementer: d}
	}
	return tc
}
