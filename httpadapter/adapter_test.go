package httpadapter_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/face"
	"github.com/lintelhq/lintel/httpadapter"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

type fakeFaces struct{}

func (fakeFaces) Check(_ context.Context, payload string) (face.Enrollment, error) {
	if payload == "face" {
		return face.Enrollment{Faces: 1, Face: face.Face{Rect: image.Rect(0, 0, 200, 200), Score: 9}}, nil
	}
	return face.Enrollment{}, face.ErrBadImage
}

const (
	adminPassword   = "s3cret!"
	managerPassword = "reader"
)

// env is a running adapter on loopback with an admin and a manager.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	clock *clock
	dir   *directory.Directory
	spec  validator.Validator
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

func newEnv(t testing.TB, st store.Store, limits httpadapter.Limits) *env {
	t.Helper()
	ctx := context.Background()
	if st == nil {
		st = memory.New()
	}
	svc, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
	require.NoError(t, err)
	d, err := directory.Open(ctx, st, directory.WithSeriesGenerator(func() string { return "6423407687606431951" }))
	require.NoError(t, err)
	accounts, err := httpadapter.NewStoreAccounts(ctx, st, "lintel")
	require.NoError(t, err)
	accounts.Cost = bcrypt.MinCost // the tests log in often; the default cost is tested in TestDefaultBcryptCost
	require.NoError(t, accounts.Set(ctx, "admin", httpadapter.Admin, adminPassword))
	require.NoError(t, accounts.Set(ctx, "manager", httpadapter.Manager, managerPassword))
	c := &clock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	h := httpadapter.New(httpadapter.Config{Access: svc, Directory: d, Accounts: accounts, Limits: limits, Now: c.Now})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, clock: c, dir: d}
	e.spec = e.loadSpec()
	return e
}

func (e *env) loadSpec() validator.Validator {
	res, err := http.Get(e.srv.URL + "/openapi.json")
	require.NoError(e.t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	doc, err := libopenapi.NewDocument(body)
	require.NoError(e.t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(e.t, errs)
	ok, docErrs := v.ValidateDocument()
	require.True(e.t, ok, "the OpenAPI document is valid 3.1: %v", docErrs)
	return v
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request and checks the response against the OpenAPI document.
func (e *env) do(method, path, body string, header map[string]string) response {
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
	res.Body = io.NopCloser(bytes.NewReader(raw))
	if ok, errs := e.spec.ValidateHttpResponse(req, res); !ok {
		for _, ve := range errs {
			e.t.Errorf("%s %s: response does not match the OpenAPI document: %s %s", method, path, ve.Message, ve.Reason)
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func md5hex(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }

func (e *env) login(user, password string) string {
	e.t.Helper()
	r := e.do("GET", "/api/v1/login?username="+user+"&password="+strings.ToUpper(md5hex(password)), "", nil)
	require.Equal(e.t, 200, r.status, r.body)
	var out struct{ Token, AccountType string }
	require.NoError(e.t, json.Unmarshal([]byte(r.body), &out))
	return out.Token
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{})
	r := e.do("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), "", nil)
	assert.Equal(t, 200, r.status)
	assert.Regexp(t, `^\{"account_type":"admin","token":"[0-9a-f]{64}"\}\n$`, r.body)
	r = e.do("GET", "/api/v1/login?username=manager&password="+strings.ToUpper(md5hex(managerPassword)), "", nil)
	assert.Contains(t, r.body, `"account_type":"manager"`, "upper-case hex, as the vendor's examples send it")

	for _, q := range []string{"", "?username=admin", "?password=x"} {
		r = e.do("GET", "/api/v1/login"+q, "", nil)
		assert.Equal(t, 400, r.status)
		assert.JSONEq(t, `{"error":"Required parameters missed"}`, r.body)
	}
	r = e.do("GET", "/api/v1/login?username=admin&password="+md5hex("wrong"), "", nil)
	assert.Equal(t, 400, r.status)
	assert.JSONEq(t, `{"error":"Wrong login or password"}`, r.body)
	r = e.do("GET", "/api/v1/login?username=nobody&password="+md5hex("wrong"), "", nil)
	assert.JSONEq(t, `{"error":"Wrong login or password"}`, r.body)
}

func TestFailedLoginsAreThrottled(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{LoginFailures: 3, LoginWindow: time.Minute})
	for range 3 {
		assert.Equal(t, 400, e.do("GET", "/api/v1/login?username=admin&password=00", "", nil).status)
	}
	r := e.do("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), "", nil)
	assert.Equal(t, 429, r.status, "even the right password waits")
	e.clock.Add(2 * time.Minute)
	assert.Equal(t, 200, e.do("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), "", nil).status)
}

func TestTokens(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{})
	path := "/api/v1/access/users/link/delete"
	body := `{"link_ids":["91c615e3-1040-4815-8ecb-039a18b756b1"]}`
	for _, h := range []map[string]string{nil, bearer("nonsense"), {"Authorization": "Basic YWRtaW46eA=="}} {
		r := e.do("POST", path, body, h)
		assert.Equal(t, 401, r.status)
		assert.JSONEq(t, `{"error":"Log In"}`, r.body)
	}
	manager := e.login("manager", managerPassword)
	r := e.do("POST", path, body, bearer(manager))
	assert.Equal(t, 403, r.status)
	assert.JSONEq(t, `{"error":"Administrator rights required"}`, r.body)
	assert.Equal(t, 200, e.do("GET", "/api/v1/access/users/link", "", bearer(manager)).status, "a manager may read")

	admin := e.login("admin", adminPassword)
	assert.Equal(t, 200, e.do("POST", path, body, bearer(admin)).status)
	e.clock.Add(2*time.Hour + time.Second)
	assert.Equal(t, 401, e.do("POST", path, body, bearer(admin)).status, "tokens live 2 hours")

	admin = e.login("admin", adminPassword)
	assert.Equal(t, 200, e.do("POST", "/api/v1/logout", "", bearer(admin)).status)
	assert.Equal(t, 401, e.do("POST", path, body, bearer(admin)).status, "logout ends the token")
}

// The seeds' examples over HTTP, JSON-equal.
func TestSeedsOverHTTP(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{})
	admin := bearer(e.login("admin", adminPassword))
	r := e.do("POST", "/api/v1/access/users/link/update", `{"list_items":[{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","name":"Bob","auth_factors":["card"]}]}`, admin)
	require.Equal(t, 200, r.status, r.body)
	r = e.do("POST", "/api/v1/access/users/link/update", `{"list_items":[
		{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"Alice","auth_factors":["card"]},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","name":"Bob","auth_factors":["card","input_code"],
		 "apartment_link_id":"0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b","time_profile_link_ids":["0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"],
		 "identifier_link_ids":["0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"],"kone_rule_link_id":"0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"}]}`, admin)
	assert.Equal(t, 200, r.status)
	assert.JSONEq(t, `{"result":[
		{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"updated","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"bound_apartment_doesnt_exist","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"bound_time_profile_doesnt_exist","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"bound_identifier_doesnt_exist","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"bound_kone_rule_doesnt_exist","has_dublicates":false}]}`, r.body)

	r = e.do("POST", "/api/v1/access/users/link/delete", `{"link_ids":["91c615e3-1040-4815-8ecb-039a18b756b5","91c615e3-1040-4815-8ecb-039a18b756b5"]}`, admin)
	assert.JSONEq(t, `{"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","extended_info":"deleted","success":true},
		{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":false,"extended_info":"not_found"}]}`, r.body)

	ident := func(typ, number string) string {
		return `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","identifier_type":"` + typ + `","identifier_number":"` + number + `",
			"valid":{"time":{"is_permanent":true},"passes":{"is_permanent":true}}}]}`
	}
	for _, tc := range []struct{ body, want string }{
		{ident("card", "12345"), `{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created"}`},
		{ident("card", "12345"), `{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"updated"}`},
		{ident("face_id", "@@"), `{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":false,"extended_info":"bad_base_64_image_file"}`},
	} {
		r = e.do("POST", "/api/v1/access/identifiers/link/update", tc.body, admin)
		assert.JSONEq(t, `{"result":[`+tc.want+`]}`, r.body)
	}
}

func TestWrongBodies(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{MaxBodyBytes: 4096})
	admin := bearer(e.login("admin", adminPassword))
	users := "/api/v1/access/users/link/update"
	tests := []struct{ path, body, want string }{
		{users, ``, "Wrong JSON body"},
		{users, `not json`, "Wrong JSON body"},
		{users, `[1,2]`, "Wrong JSON body"},
		{users, `{}`, "Wrong JSON body: no value for `list_items`"},
		{users, `{"list_items":{}}`, "Wrong JSON body: value `list_items` was of the wrong type"},
		{users, `{"list_items":[]}`, "List cannot be empty"},
		{users, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","auth_factors":["card"]}]}`, "Wrong JSON body: no value for `list_items[0].name`"},
		{users, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"A","auth_factors":[]}]}`, "Wrong JSON body: no value for `list_items[0].auth_factors`"},
		{users, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"A","auth_factors":["card"],"lock_number":"one"}]}`, "Wrong JSON body: value `list_items[0].lock_number` was of the wrong type"},
		{"/api/v1/access/identifiers/link/update", `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","identifier_type":"card","identifier_number":"1","valid":{"time":{"from":"soon"}}}]}`,
			"Wrong JSON body: value `list_items[0].valid.time.from` was of the wrong type"},
		{"/api/v1/access/users/link/delete", `{"link_ids":[]}`, "List cannot be empty"},
		{"/api/v1/access/users/link/delete", `{"link_ids":[5]}`, "Wrong JSON body: value `link_ids[0]` was of the wrong type"},
	}
	for _, tc := range tests {
		r := e.do("POST", tc.path, tc.body, admin)
		assert.Equal(t, 400, r.status, tc.body)
		assert.JSONEq(t, `{"error":`+mustJSON(tc.want)+`}`, r.body, tc.body)
	}
	r := e.do("POST", users, `{"list_items":[`+strings.Repeat(`{"name":"padding padding"},`, 200)+`{}]}`, admin)
	assert.Equal(t, 413, r.status)
	assert.JSONEq(t, `{"error":"Request body too large"}`, r.body)
}

func mustJSON(s string) string { b, _ := json.Marshal(s); return string(b) }

// Every time-profile message of the seed, as a 400 body.
func TestTimeProfileMessagesOverHTTP(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{})
	admin := bearer(e.login("admin", adminPassword))
	profile := func(format string) string {
		return `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"p","time_options":{"is_all_day":false,"date_from":1767254400,"date_to":1767265200},
			"repeat_options":{"repeat_enable":true,"repeat_format":` + format + `}}]}`
	}
	custom := func(point, looper, options string) string {
		return profile(`{"repeat_type":"custom","repeat_end":{"format":"never"},"repeat_custom":{"repeat_point_type":"` + point + `","repeat_looper":` + looper + `,"repeat_options":` + options + `}}`)
	}
	ord := `{"week_order":"first","day_type":"MON"}`
	for want, body := range map[string]string{
		"Wrong repeat_type":                 profile(`{"repeat_type":"often","repeat_end":{"format":"never"}}`),
		"Wrong format enum name":            profile(`{"repeat_type":"day","repeat_end":{"format":"later"}}`),
		"Wrong repeat_point_type enum name": custom("hour", "1", "null"),
		"Wrong repeat_options enum name":    custom("week", "1", `["FUNDAY"]`),
		"Wrong repeat_looper range":         custom("day", "0", "null"),
		"Set in WeekOptions can't be empty": custom("week", "1", `[]`),
		"Wrong year range":                  custom("year", "1", `{"months":[1]}`),
		"Set in YearOptions can't be empty": custom("year", "1", `{"months":[],"range":`+ord+`}`),
		"Wrong DayOfMonth range":            custom("month", "1", `{"format":"dayNumbers","range":[40]}`),
		"Wrong months range":                custom("year", "1", `{"months":[13],"range":`+ord+`}`),
		"Set in dayNumbers can't be empty":  custom("month", "1", `{"format":"dayNumbers","range":[]}`),
		"Wrong Time Profile Uid":            strings.Replace(profile(`{"repeat_type":"day","repeat_end":{"format":"never"}}`), "91c615e3-1040-4815-8ecb-039a18b756b5", "uid-1", 1),
	} {
		r := e.do("POST", "/api/v1/access/timeprofile/link/update", body, admin)
		assert.Equal(t, 400, r.status, want)
		assert.JSONEq(t, `{"error":`+mustJSON(want)+`}`, r.body)
	}
	r := e.do("POST", "/api/v1/access/timeprofile/link/update", profile(`{"repeat_type":"day","repeat_end":{"format":"never"}}`), admin)
	assert.JSONEq(t, `{"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created"}]}`, r.body)
}

func TestReadsAndDecision(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{})
	admin := bearer(e.login("admin", adminPassword))
	manager := bearer(e.login("manager", managerPassword))
	r := e.do("POST", "/api/v1/access/identifiers/link/update", `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","identifier_type":"card","identifier_number":"0A:1B",
		"lock":"first","valid":{"time":{"is_permanent":true},"passes":{"is_permanent":false,"max_passes":2}}}]}`, admin)
	require.Equal(t, 200, r.status, r.body)
	r = e.do("GET", "/api/v1/access/identifiers/link/91c615e3-1040-4815-8ecb-039a18b756b5", "", manager)
	assert.Equal(t, 200, r.status)
	assert.Contains(t, r.body, `"passes_left":2`)
	assert.Equal(t, 404, e.do("GET", "/api/v1/access/identifiers/link/eae44848-5e81-4861-8e63-861d9bd4ebb3", "", manager).status)
	r = e.do("GET", "/api/v1/access/identifiers/link?limit=10", "", manager)
	assert.Contains(t, r.body, `"next":""`)

	decide := `{"identifier_type":"card","identifier_number":"0a-1b","lock":1}`
	for _, want := range []string{`"allow":true,"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","passes_left":1,"reason":"granted"`,
		`"allow":true,"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","passes_left":0,"reason":"granted"`,
		`"allow":false,"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","passes_left":0,"reason":"no_passes_left"`} {
		r = e.do("POST", "/api/v1/access/decide", decide, manager)
		assert.JSONEq(t, `{`+want+`}`, r.body)
	}
	r = e.do("POST", "/api/v1/access/decide", `{"identifier_number":"1"}`, manager)
	assert.JSONEq(t, `{"error":"Wrong JSON body: no value for `+"`identifier_type`"+`"}`, r.body)
}

// ---- 2N ----

// digest answers a challenge for path as RFC 7616 describes.
func digest(t testing.TB, challenge, method, uri, user, password, alg string) string {
	t.Helper()
	h := func(s string) string {
		if alg == "SHA-256" {
			sum := sha256.Sum256([]byte(s))
			return hex.EncodeToString(sum[:])
		}
		return md5hex(s)
	}
	nonce := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(challenge)[1]
	ha1, ha2 := h(user+":lintel:"+password), h(method+":"+uri)
	resp := h(strings.Join([]string{ha1, nonce, "00000001", "abcdef", "auth", ha2}, ":"))
	return fmt.Sprintf(`Digest username=%q, realm="lintel", nonce=%q, uri=%q, algorithm=%s, qop=auth, nc=00000001, cnonce="abcdef", response=%q, opaque="lintel"`,
		user, nonce, uri, alg, resp)
}

func (e *env) dirDo(method, fn, body string, auth map[string]string) response {
	return e.do(method, "/api/dir/"+fn, body, auth)
}

func TestDirectoryAuthAndEnvelope(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{})
	r := e.dirDo("GET", "template", "", nil)
	assert.Equal(t, 401, r.status)
	assert.JSONEq(t, `{"success":false,"error":{"code":9,"description":"authorization required"}}`, r.body)
	challenges := r.header.Values("WWW-Authenticate")
	require.Len(t, challenges, 3)
	assert.Contains(t, challenges[0], "algorithm=SHA-256")
	assert.Contains(t, challenges[1], "algorithm=MD5")
	assert.Contains(t, challenges[2], "Basic")

	for _, alg := range []string{"SHA-256", "MD5"} {
		auth := map[string]string{"Authorization": digest(t, challenges[0], "GET", "/api/dir/template", "admin", adminPassword, alg)}
		r = e.dirDo("GET", "template", "", auth)
		assert.Equal(t, 200, r.status, alg)
		assert.True(t, strings.HasPrefix(r.body, `{"result":{"users":[{"uuid":""`), r.body)
	}
	bad := map[string]string{"Authorization": digest(t, challenges[0], "GET", "/api/dir/template", "admin", "wrong", "SHA-256")}
	assert.Equal(t, 401, e.dirDo("GET", "template", "", bad).status)
	e.clock.Add(10 * time.Minute)
	stale := map[string]string{"Authorization": digest(t, challenges[0], "GET", "/api/dir/template", "admin", adminPassword, "SHA-256")}
	assert.Equal(t, 401, e.dirDo("GET", "template", "", stale).status, "nonces expire")

	basic := func(user, pass string) map[string]string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pass)
		return map[string]string{"Authorization": req.Header.Get("Authorization")}
	}
	r = e.dirDo("POST", "template", "", basic("admin", adminPassword))
	assert.Equal(t, 200, r.status)
	r = e.dirDo("DELETE", "template", "", basic("admin", adminPassword))
	assert.JSONEq(t, `{"success":false,"error":{"code":3,"description":"invalid request method"}}`, r.body)
	r = e.dirDo("GET", "nonsense", "", basic("admin", adminPassword))
	assert.JSONEq(t, `{"success":false,"error":{"code":2,"description":"invalid request path"}}`, r.body)
	r = e.dirDo("PUT", "update", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF"}]}`, basic("manager", managerPassword))
	assert.JSONEq(t, `{"success":false,"error":{"code":10,"description":"insufficient privileges"}}`, r.body)
	r = e.dirDo("PUT", "update", `{}`, basic("admin", adminPassword))
	assert.JSONEq(t, `{"success":false,"error":{"code":11,"param":"users","description":"missing mandatory parameter"}}`, r.body)
	r = e.dirDo("PUT", "update", `{"users":5}`, basic("admin", adminPassword))
	assert.JSONEq(t, `{"success":false,"error":{"code":12,"param":"users","description":"invalid parameter value"}}`, r.body)
}

// The seed dir-update.txt over HTTP.
func TestSeedDirUpdateOverHTTP(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{})
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("admin", adminPassword)
	auth := map[string]string{"Authorization": req.Header.Get("Authorization")}
	fill := make([]string, 37)
	for i := range fill {
		fill[i] = fmt.Sprintf(`{"name":"filler %d"}`, i)
	}
	require.Equal(t, 200, e.dirDo("PUT", "create", `{"users":[`+strings.Join(fill, ",")+`]}`, auth).status)
	r := e.dirDo("PUT", "create?force=0", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"old"}]}`, auth)
	require.Contains(t, r.body, `"timestamp":38`)
	r = e.dirDo("PUT", "update", `{ "users": [ { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "name": "ABCD", "email": "abcd@def.cz", "access": { "pin": "1234" } }, { "uuid": "76543210-68FF-18CA-3210-FEDCBA987654", "name": "ABCD2", "owner": "My2N", "email": "abcd2@def.cz" }, { "uuid": "01234567-89A-CDEF-0123-456789ABCDEF", "name": "ABCD3", "owner": "My2N", "email": "abcd3@def.cz" }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "name": "ABCD4", "owner": "My2N", "email": "abcd4@def.cz", "albert": "einstein" }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "name": "ABCD4", "owner": "My2N", "email": "abcd4@def.cz", "access.pin": "hello" } ] }`, auth)
	assert.Equal(t, 200, r.status)
	assert.JSONEq(t, `{ "success": true, "result": { "series": "6423407687606431951", "users": [ { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "timestamp": 39 }, { "uuid": "76543210-68FF-18CA-3210-FEDCBA987654", "errors": [ { "code": "EDIR_UUID_DOES_NOT_EXIST" } ] }, { "uuid": "01234567-89A-CDEF-0123-456789ABCDEF", "errors": [ { "code": "EDIR_UUID_INVALID_FORMAT" } ] }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "errors": [ { "code": "EDIR_FIELD_NAME_UNKNOWN", "field": "albert" } ] }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "errors": [ { "code": "EDIR_FIELD_VALUE_ERROR", "field": "access.pin" } ] } ] } }`, r.body)

	r = e.dirDo("POST", "query", `{"series":"6423407687606431951","iterator":{"timestamp":38},"fields":["name","access.pin"]}`, auth)
	assert.JSONEq(t, `{"success":true,"result":{"series":"6423407687606431951","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"ABCD","access":{"pin":"1234"},"timestamp":39}]}}`, r.body)
	r = e.dirDo("POST", "get", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF"}],"fields":["email"]}`, auth)
	assert.JSONEq(t, `{"success":true,"result":{"series":"6423407687606431951","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","email":"abcd@def.cz","timestamp":39}]}}`, r.body)
	r = e.dirDo("PUT", "delete", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF"}]}`, auth)
	assert.JSONEq(t, `{"success":true,"result":{"series":"6423407687606431951","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","timestamp":40}]}}`, r.body)
}

func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, nil, httpadapter.Limits{})
	admin := bearer(e.login("admin", adminPassword))
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				id := fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", w, i)
				r := e.do("POST", "/api/v1/access/identifiers/link/update", `{"list_items":[{"link_id":"`+id+`","identifier_type":"card","identifier_number":"`+
					fmt.Sprint(w*100+i+1)+`","valid":{"time":{"is_permanent":true},"passes":{"is_permanent":true}}}]}`, admin)
				assert.Equal(t, 200, r.status)
				r = e.do("POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"`+fmt.Sprint(w*100+i+1)+`","lock":1}`, admin)
				assert.Contains(t, r.body, `"allow":true`)
			}
		}()
	}
	wg.Wait()
}

func TestDefaultBcryptCost(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	accounts, err := httpadapter.NewStoreAccounts(ctx, st, "lintel")
	require.NoError(t, err)
	assert.Equal(t, bcrypt.DefaultCost, accounts.Cost)
	ok, err := accounts.Exists(ctx)
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, accounts.Set(ctx, "admin", httpadapter.Admin, "pw"))
	acct, err := accounts.CheckPassword(ctx, "admin", strings.ToUpper(httpadapter.MD5Hex("pw")))
	require.NoError(t, err)
	assert.Equal(t, httpadapter.Account{Username: "admin", Type: httpadapter.Admin}, acct)
	_, err = accounts.CheckPassword(ctx, "admin", httpadapter.MD5Hex("other"))
	assert.ErrorIs(t, err, httpadapter.ErrBadCredentials)
	assert.Error(t, accounts.Set(ctx, "a:b", httpadapter.Admin, "pw"), "a colon would break Digest")
}

func TestListTooLong(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	svc, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}), access.WithMaxBatch(2))
	require.NoError(t, err)
	accounts, err := httpadapter.NewStoreAccounts(ctx, st, "lintel")
	require.NoError(t, err)
	accounts.Cost = bcrypt.MinCost
	require.NoError(t, accounts.Set(ctx, "admin", httpadapter.Admin, adminPassword))
	srv := httptest.NewServer(httpadapter.New(httpadapter.Config{Access: svc, Accounts: accounts}))
	defer srv.Close()
	e := &env{t: t, srv: srv}
	e.spec = e.loadSpec()
	admin := bearer(e.login("admin", adminPassword))
	r := e.do("POST", "/api/v1/access/users/link/delete", `{"link_ids":["a","b","c"]}`, admin)
	assert.Equal(t, 400, r.status)
	assert.JSONEq(t, `{"error":"List is too long: 3, at most 2"}`, r.body)
}
