package httpadapter_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/httpadapter"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

// fakeFaces stands in for pigo: "face" holds a face, "noface" holds none,
// anything else is no image.
type fakeFaces struct{}

func (fakeFaces) CheckFace(_ context.Context, payload string) error {
	switch payload {
	case "face":
		return nil
	case "noface":
		return access.ErrNoFace
	}
	return access.ErrFaceUnreadable
}

const (
	adminPassword   = "s3cret!"
	managerPassword = "reader"
	series          = "6423407687606431951"
)

// envConfig varies an env.
type envConfig struct {
	store    store.Store // default: a fresh memory store
	limits   httpadapter.Limits
	access   []access.Option // after WithFaceChecker(fakeFaces{})
	logTo    io.Writer       // default: discard
	noCheck  bool            // do not check responses against the OpenAPI document
	fallback bool            // Config.RemoteFallback
	model    string          // the 2N model (directory template, firmwarePackage); default verso
}

// env is a running adapter on loopback with an admin and a manager, whose
// responses are all checked against the adapter's OpenAPI document.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	st    store.Store
	clock *clock
	spec  validator.Validator
	check bool
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newEnv(t testing.TB, cfg envConfig) *env {
	t.Helper()
	h, st, c := newHandler(t, cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, st: st, clock: c, spec: loadSpec(t, srv.URL), check: !cfg.noCheck}
}

// newHandler is the adapter of an env, with its store and clock.
func newHandler(t testing.TB, cfg envConfig) (http.Handler, store.Store, *clock) {
	t.Helper()
	c, st, clk := newConfig(t, cfg)
	return httpadapter.New(c), st, clk
}

// newConfig is the adapter's Config of an env, with its store and clock.
func newConfig(t testing.TB, cfg envConfig) (httpadapter.Config, store.Store, *clock) {
	t.Helper()
	ctx := context.Background()
	st := cfg.store
	if st == nil {
		st = memory.New()
	}
	j, err := journal.Open(ctx, st, journal.Options{FlushDelay: time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	svc, err := access.New(ctx, st, append([]access.Option{access.WithFaceChecker(fakeFaces{}), access.WithJournal(j)}, cfg.access...)...)
	require.NoError(t, err)
	model, ok := directory.ModelFor(cmp.Or(cfg.model, "verso"))
	require.True(t, ok, cfg.model)
	d, err := directory.Open(ctx, st, directory.WithSeriesGenerator(func() string { return series }), directory.WithJournal(j),
		directory.WithModel(model))
	require.NoError(t, err)
	// The tests log in often; TestStoreAccounts checks the default cost.
	accounts, err := httpadapter.NewStoreAccounts(ctx, st, "lintel", httpadapter.WithBcryptCost(bcrypt.MinCost))
	require.NoError(t, err)
	require.NoError(t, accounts.Set(ctx, "admin", httpadapter.Admin, adminPassword))
	require.NoError(t, accounts.Set(ctx, "manager", httpadapter.Manager, managerPassword))
	c := &clock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	logTo := cfg.logTo
	if logTo == nil {
		logTo = io.Discard
	}
	info := device.DefaultInfo()
	info.FirmwarePackage = device.FirmwarePackage(model.Name)
	dev, err := device.Open(ctx, st, device.WithJournal(j), device.WithClock(c.Now), device.WithInfo(info))
	require.NoError(t, err)
	panels, err := panel.Open(ctx, st, panel.WithJournal(j), panel.WithClock(c.Now), panel.WithBcryptCost(bcrypt.MinCost))
	require.NoError(t, err)
	return httpadapter.Config{Access: svc, Directory: d, Journal: j, Device: dev, Panels: panels, Accounts: accounts, Limits: cfg.limits,
		Now: c.Now, RemoteFallback: cfg.fallback, Logger: slog.New(slog.NewTextHandler(logTo, nil))}, st, c
}

// loadSpec reads /openapi.json from a running adapter and checks that it
// is a valid OpenAPI 3.1 document.
func loadSpec(t testing.TB, url string) validator.Validator {
	t.Helper()
	res, err := http.Get(url + "/openapi.json")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body.Close()
	doc, err := libopenapi.NewDocument(body)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	ok, docErrs := v.ValidateDocument()
	require.True(t, ok, "the OpenAPI document is valid 3.1: %v", docErrs)
	return v
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request and checks the response against the OpenAPI
// document.
func (e *env) do(method, path, body string, header map[string]string) response {
	e.t.Helper()
	return e.send(method, path, body, header, e.check)
}

// doUndocumented sends a request the OpenAPI document does not describe
// (a wrong method, an unknown path).
func (e *env) doUndocumented(method, path, body string, header map[string]string) response {
	e.t.Helper()
	return e.send(method, path, body, header, false)
}

func (e *env) send(method, path, body string, header map[string]string, check bool) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	require.NoError(e.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	res.Body.Close()
	if check {
		res.Body = io.NopCloser(bytes.NewReader(raw))
		if ok, errs := e.spec.ValidateHttpResponse(req, res); !ok {
			for _, ve := range errs {
				e.t.Errorf("%s %s: %d %s: response does not match the OpenAPI document: %s %s %v",
					method, path, res.StatusCode, raw, ve.Message, ve.Reason, ve.SchemaValidationErrors)
			}
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: string(raw)}
}

// valid reports whether the OpenAPI document admits a response of status
// and body to method path.
func (e *env) valid(method, path string, header map[string]string, status int, body string) bool {
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	require.NoError(e.t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}
	ok, _ := e.spec.ValidateHttpResponse(req, res)
	return ok
}

func md5hex(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }

func sha256hex(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }

func (e *env) login(user, password string) map[string]string {
	e.t.Helper()
	r := e.do("GET", "/api/v1/login?username="+user+"&password="+strings.ToUpper(md5hex(password)), "", nil)
	require.Equal(e.t, 200, r.status, r.body)
	var out struct{ Token string }
	require.NoError(e.t, json.Unmarshal([]byte(r.body), &out))
	return bearer(out.Token)
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func basic(user, pass string) map[string]string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return map[string]string{"Authorization": req.Header.Get("Authorization")}
}

// errJSON is the panel's error body for msg.
func errJSON[M ~string](msg M) string {
	b, _ := json.Marshal(map[string]string{"error": string(msg)})
	return string(b)
}
