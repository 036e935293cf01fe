package httpadapter_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/httpadapter"
)

// The code descriptions, pinned.
func TestCodeSpellings(t *testing.T) {
	for code, want := range map[httpadapter.Code]string{
		2: "invalid request path", 3: "invalid request method", 9: "authorization required", 10: "insufficient privileges",
		11: "missing mandatory parameter", 12: "invalid parameter value", 13: "parameter data too big", 14: "processing error",
		18: "rejected", 99: "error 99",
	} {
		assert.Equal(t, want, code.Description(), code)
	}
	for code, want := range map[httpadapter.Code]int{
		httpadapter.CodeInvalidPath: 2, httpadapter.CodeInvalidMethod: 3, httpadapter.CodeAuthRequired: 9, httpadapter.CodeNoPrivileges: 10,
		httpadapter.CodeMissingParam: 11, httpadapter.CodeInvalidParam: 12, httpadapter.CodeDataTooBig: 13, httpadapter.CodeProcessingError: 14,
		httpadapter.CodeRejected: 18,
	} {
		assert.Equal(t, want, int(code))
	}
}

// digestClient answers Digest challenges as RFC 7616 describes.
type digestClient struct {
	user, password, alg, nonce string
	nc                         int
}

func newDigestClient(t testing.TB, challenge, user, password, alg string) *digestClient {
	t.Helper()
	m := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(challenge)
	require.NotNil(t, m, challenge)
	return &digestClient{user: user, password: password, alg: alg, nonce: m[1]}
}

func (c *digestClient) h(s string) string {
	if c.alg == "SHA-256" {
		return sha256hex(s)
	}
	return md5hex(s)
}

// auth is the Authorization header of the client's next request.
func (c *digestClient) auth(method, uri string) map[string]string {
	c.nc++
	nc := fmt.Sprintf("%08x", c.nc)
	ha1, ha2 := c.h(c.user+":lintel:"+c.password), c.h(method+":"+uri)
	resp := c.h(strings.Join([]string{ha1, c.nonce, nc, "0a4f113b", "auth", ha2}, ":"))
	return map[string]string{"Authorization": fmt.Sprintf(
		`Digest username=%q, realm="lintel", nonce=%q, uri=%q, algorithm=%s, qop=auth, nc=%s, cnonce="0a4f113b", response=%q, opaque="lintel"`,
		c.user, c.nonce, uri, c.alg, nc, resp)}
}

func TestDirectoryAuthentication(t *testing.T) {
	e := newEnv(t, envConfig{})
	r := e.do("GET", "/api/dir/template", "", nil)
	assert.Equal(t, 401, r.status)
	assert.Equal(t, `{"success":false,"error":{"code":9,"description":"authorization required"}}`+"\n", r.body, "byte for byte")
	challenges := r.header.Values("WWW-Authenticate")
	require.Len(t, challenges, 3)
	assert.Regexp(t, `^Digest realm="lintel", qop="auth", algorithm=SHA-256, nonce="[\w-]+", opaque="lintel"$`, challenges[0])
	assert.Regexp(t, `^Digest realm="lintel", qop="auth", algorithm=MD5, nonce="[\w-]+", opaque="lintel"$`, challenges[1])
	assert.Equal(t, `Basic realm="lintel", charset="UTF-8"`, challenges[2])

	challenge := func(path string) string { // a fresh nonce
		return e.do("POST", path, "", nil).header.Get("WWW-Authenticate")
	}
	for _, alg := range []string{"SHA-256", "MD5"} {
		c := newDigestClient(t, challenge("/api/dir/template"), "admin", adminPassword, alg)
		for range 3 { // one nonce, counted up
			r = e.do("GET", "/api/dir/template", "", c.auth("GET", "/api/dir/template"))
			assert.Equal(t, 200, r.status, alg)
			assert.True(t, strings.HasPrefix(r.body, `{"success":true,"result":{"users":[{"uuid":"","deleted":false,`), r.body)
		}
	}

	c := newDigestClient(t, challenge("/api/dir/template"), "admin", adminPassword, "SHA-256")
	replay := c.auth("POST", "/api/dir/template")
	assert.Equal(t, 200, e.do("POST", "/api/dir/template", "", replay).status)
	r = e.do("POST", "/api/dir/template", "", replay)
	assert.Equal(t, 401, r.status, "a nonce count is used once")
	assert.Contains(t, r.header.Get("WWW-Authenticate"), "stale=true", "the client may retry with a fresh nonce")

	for name, h := range map[string]map[string]string{
		"wrong password": newDigestClient(t, challenges[0], "admin", "wrong", "SHA-256").auth("GET", "/api/dir/template"),
		"unknown user":   newDigestClient(t, challenges[0], "nobody", "x", "MD5").auth("GET", "/api/dir/template"),
		"other uri":      newDigestClient(t, challenges[0], "admin", adminPassword, "MD5").auth("GET", "/api/dir/query"),
		"other method":   newDigestClient(t, challenges[0], "admin", adminPassword, "MD5").auth("POST", "/api/dir/template"),
		"foreign nonce":  (&digestClient{user: "admin", password: adminPassword, alg: "MD5", nonce: "bm9uY2U"}).auth("GET", "/api/dir/template"),
		"MD5-sess":       {"Authorization": strings.Replace(c.auth("GET", "/api/dir/template")["Authorization"], "SHA-256", "MD5-sess", 1)},
		"no qop":         {"Authorization": strings.Replace(c.auth("GET", "/api/dir/template")["Authorization"], "qop=auth, ", "", 1)},
		"bad nc":         {"Authorization": regexp.MustCompile(`nc=\w+`).ReplaceAllString(c.auth("GET", "/api/dir/template")["Authorization"], "nc=1")},
		"other realm":    {"Authorization": strings.Replace(c.auth("GET", "/api/dir/template")["Authorization"], `realm="lintel"`, `realm="x"`, 1)},
		"bearer":         bearer("x"),
		"broken basic":   {"Authorization": "Basic !!"},
		"wrong basic":    basic("admin", "wrong"),
	} {
		r = e.do("GET", "/api/dir/template", "", h)
		assert.Equal(t, 401, r.status, name)
		assert.NotContains(t, r.header.Get("WWW-Authenticate"), "stale", name)
	}

	stale := newDigestClient(t, challenges[0], "admin", adminPassword, "SHA-256")
	e.clock.Add(10 * time.Minute)
	r = e.do("GET", "/api/dir/template", "", stale.auth("GET", "/api/dir/template"))
	assert.Equal(t, 401, r.status, "nonces expire")
	assert.Contains(t, r.header.Get("WWW-Authenticate"), "stale=true")
	fresh := newDigestClient(t, r.header.Get("WWW-Authenticate"), "admin", adminPassword, "SHA-256")
	assert.Equal(t, 200, e.do("GET", "/api/dir/template", "", fresh.auth("GET", "/api/dir/template")).status)

	uri := newDigestClient(t, challenge("/api/dir/query?x=1"), "manager", managerPassword, "MD5")
	assert.Equal(t, 200, e.do("POST", "/api/dir/query?x=1", "", uri.auth("POST", "/api/dir/query?x=1")).status, "the uri includes the query")
	assert.Equal(t, 200, e.do("POST", "/api/dir/template", "", basic("manager", managerPassword)).status)
}

func TestDirectoryErrors(t *testing.T) {
	e := newEnv(t, envConfig{limits: httpadapter.Limits{MaxBodyBytes: 4096, MaxListItems: 3}})
	admin, manager := basic("admin", adminPassword), basic("manager", managerPassword)
	for _, tc := range []struct {
		method, path, body string
		auth               map[string]string
		want               string
	}{
		{"PUT", "/api/dir/update", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF"}]}`, manager, `{"code":10,"description":"insufficient privileges"}`},
		{"PUT", "/api/dir/create", `{"users":[{}]}`, manager, `{"code":10,"description":"insufficient privileges"}`},
		{"PUT", "/api/dir/delete", `{"owner":"x"}`, manager, `{"code":10,"description":"insufficient privileges"}`},
		{"PUT", "/api/dir/update", `{}`, admin, `{"code":11,"param":"users","description":"users must hold at least one entry"}`},
		{"PUT", "/api/dir/update", `{"users":null}`, admin, `{"code":11,"param":"users","description":"missing mandatory parameter"}`},
		{"PUT", "/api/dir/update", `{"users":[]}`, admin, `{"code":11,"param":"users","description":"users must hold at least one entry"}`},
		{"PUT", "/api/dir/delete", `{}`, admin, `{"code":11,"param":"users","description":"users must hold at least one entry"}`}, // 2N's test suite: no parameter
		{"PUT", "/api/dir/delete", ``, admin, `{"code":11,"param":"users","description":"users must hold at least one entry"}`},
		{"POST", "/api/dir/get", `{}`, admin, `{"code":11,"param":"users","description":"users must hold at least one entry"}`},
		{"PUT", "/api/dir/update", `{"users":5}`, admin, `{"code":12,"param":"users","description":"invalid parameter value"}`},
		{"PUT", "/api/dir/update", `{"users":[{},7]}`, admin, `{"code":12,"param":"users[1]","description":"*"}`},
		{"PUT", "/api/dir/update", `not json`, admin, `{"code":12,"param":"body","description":"invalid parameter value"}`},
		{"PUT", "/api/dir/update", `[]`, admin, `{"code":12,"param":"body","description":"invalid parameter value"}`},
		{"PUT", "/api/dir/delete", `{"users":[{"uuid":5}]}`, admin, `{"code":12,"param":"users[0].uuid","description":"invalid parameter value"}`},
		{"PUT", "/api/dir/delete", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF"}],"owner":"x"}`, admin,
			`{"code":17,"param":"owner","description":"give users or owner, not both"}`},
		{"POST", "/api/dir/query", `{"iterator":{"timestamp":"x"}}`, admin, `{"code":12,"param":"iterator.timestamp","description":"invalid parameter value"}`},
		{"POST", "/api/dir/query", `{"fields":"name"}`, admin, `{"code":12,"param":"fields","description":"invalid parameter value"}`},
		{"PUT", "/api/dir/create?force=2", `{"users":[{}]}`, admin, `{"code":12,"param":"force","description":"invalid parameter value"}`},
		{"PUT", "/api/dir/create", `{"users":[{},{},{},{}]}`, admin, `{"code":13,"param":"users","description":"parameter data too big"}`},
		{"PUT", "/api/dir/create", `{"users":[{"name":"` + strings.Repeat("x", 5000) + `"}]}`, admin, `{"code":13,"param":"body","description":"parameter data too big"}`},
	} {
		r := e.do(tc.method, tc.path, tc.body, tc.auth)
		assert.Equal(t, 200, r.status, tc.body)
		if strings.Contains(tc.want, `"description":"*"`) { // directory's own words
			r.body = regexp.MustCompile(`"description":"[^"]+"`).ReplaceAllString(r.body, `"description":"*"`)
		}
		assert.JSONEq(t, `{"success":false,"error":`+tc.want+`}`, r.body, tc.path+" "+tc.body)
	}

	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/api/dir/template", "GET, POST"},
		{"GET", "/api/dir/update", "PUT"},
		{"POST", "/api/dir/create", "PUT"},
		{"GET", "/api/dir/query", "POST"},
	} {
		r := e.doUndocumented(tc.method, tc.path, "", nil)
		assert.JSONEq(t, `{"success":false,"error":{"code":3,"description":"invalid request method"}}`, r.body, "before authentication")
		assert.Equal(t, tc.allow, r.header.Get("Allow"))
	}
	for _, path := range []string{"/api/dir/", "/api/dir/nonsense", "/api/dir/template/x"} {
		r := e.doUndocumented("GET", path, "", admin)
		assert.JSONEq(t, `{"success":false,"error":{"code":2,"description":"invalid request path"}}`, r.body, path)
	}

	require.NoError(t, e.st.Close())
	r := e.do("POST", "/api/dir/query", `{}`, admin)
	assert.JSONEq(t, `{"success":false,"error":{"code":14,"description":"processing error"}}`, r.body, "the store is closed")
}

func TestDirectoryThrottle(t *testing.T) {
	e := newEnv(t, envConfig{limits: httpadapter.Limits{LoginFailures: 2, LoginWindow: time.Minute}})
	r := e.do("GET", "/api/dir/template", "", nil)
	wrong := newDigestClient(t, r.header.Get("WWW-Authenticate"), "admin", "guess", "SHA-256")
	for range 2 {
		assert.Equal(t, 401, e.do("GET", "/api/dir/template", "", wrong.auth("GET", "/api/dir/template")).status)
	}
	r = e.do("GET", "/api/dir/template", "", basic("admin", adminPassword))
	assert.Equal(t, 429, r.status)
	assert.JSONEq(t, `{"success":false,"error":{"code":18,"description":"too many failed logins, try again later"}}`, r.body)
	assert.Equal(t, "60", r.header.Get("Retry-After"))
	e.clock.Add(time.Minute)
	assert.Equal(t, 200, e.do("GET", "/api/dir/template", "", basic("admin", adminPassword)).status)
}

// The seed dir-update.txt over HTTP, JSON-equal, and the functions around
// it.
func TestSeedDirUpdate(t *testing.T) {
	e := newEnv(t, envConfig{})
	auth := basic("admin", adminPassword)
	fill := make([]string, 37)
	for i := range fill {
		fill[i] = fmt.Sprintf(`{"name":"filler %d"}`, i)
	}
	require.Equal(t, 200, e.do("PUT", "/api/dir/create", `{"users":[`+strings.Join(fill, ",")+`]}`, auth).status)
	r := e.do("PUT", "/api/dir/create?force=0", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"old"}]}`, auth)
	assert.JSONEq(t, `{"success":true,"result":{"series":"`+series+`","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","timestamp":38}]}}`, r.body)
	r = e.do("PUT", "/api/dir/update", `{ "users": [ { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "name": "ABCD", "email": "abcd@def.cz", "access": { "pin": "1234" } }, { "uuid": "76543210-68FF-18CA-3210-FEDCBA987654", "name": "ABCD2", "owner": "My2N", "email": "abcd2@def.cz" }, { "uuid": "01234567-89A-CDEF-0123-456789ABCDEF", "name": "ABCD3", "owner": "My2N", "email": "abcd3@def.cz" }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "name": "ABCD4", "owner": "My2N", "email": "abcd4@def.cz", "albert": "einstein" }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "name": "ABCD4", "owner": "My2N", "email": "abcd4@def.cz", "access.pin": "hello" } ] }`, auth)
	assert.Equal(t, 200, r.status)
	assert.JSONEq(t, `{ "success": true, "result": { "series": "6423407687606431951", "users": [ { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "timestamp": 39 }, { "uuid": "76543210-68FF-18CA-3210-FEDCBA987654", "errors": [ { "code": "EDIR_UUID_DOES_NOT_EXIST" } ] }, { "uuid": "01234567-89A-CDEF-0123-456789ABCDEF", "errors": [ { "code": "EDIR_UUID_INVALID_FORMAT" } ] }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "errors": [ { "code": "EDIR_FIELD_NAME_UNKNOWN", "field": "albert" } ] }, { "uuid": "01234567-89AB-CDEF-0123-456789ABCDEF", "errors": [ { "code": "EDIR_FIELD_VALUE_ERROR", "field": "access.pin" } ] } ] } }`, r.body)

	r = e.do("POST", "/api/dir/query", `{"series":"`+series+`","iterator":{"timestamp":38},"fields":["name","access.pin"]}`, auth)
	assert.JSONEq(t, `{"success":true,"result":{"series":"`+series+`","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"ABCD","access":{"pin":"1234"},"timestamp":39}]}}`, r.body)
	r = e.do("POST", "/api/dir/get", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF"},{"uuid":"76543210-68FF-18CA-3210-FEDCBA987654"}],"fields":["email"]}`, auth)
	assert.JSONEq(t, `{"success":true,"result":{"series":"`+series+`","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","email":"abcd@def.cz","timestamp":39},
		{"uuid":"76543210-68FF-18CA-3210-FEDCBA987654","errors":[{"code":"EDIR_UUID_DOES_NOT_EXIST"}]}]}}`, r.body)
	r = e.do("POST", "/api/dir/get", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF"}],"fields":[]}`, auth)
	assert.Contains(t, r.body, `"callPos":[{"peer":""`, "fields [] is every field")
	r = e.do("PUT", "/api/dir/delete", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF"}]}`, auth)
	assert.JSONEq(t, `{"success":true,"result":{"series":"`+series+`","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","timestamp":40}]}}`, r.body)
	r = e.do("POST", "/api/dir/query", `{"series":"`+series+`","iterator":{"timestamp":39}}`, auth)
	assert.JSONEq(t, `{"success":true,"result":{"series":"`+series+`","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","deleted":true,"timestamp":40}]}}`, r.body)
	r = e.do("PUT", "/api/dir/delete", `{"owner":"nobody"}`, auth)
	assert.JSONEq(t, `{"success":true,"result":{"series":"`+series+`","users":[]}}`, r.body)
}
