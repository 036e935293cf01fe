package httpadapter_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/httpadapter"
)

// multipartBody is a multipart/form-data body of the parts, in order
// (name, content), and its Content-Type.
func multipartBody(t testing.TB, parts ...[2]string) (string, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w interface{ Write([]byte) (int, error) }
		var err error
		if strings.HasPrefix(p[0], "blob-") {
			w, err = mw.CreateFormFile(p[0], p[0]) // as a browser's FormData sends a Blob
		} else {
			w, err = mw.CreateFormField(p[0])
		}
		require.NoError(t, err)
		_, err = w.Write([]byte(p[1]))
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return buf.String(), mw.FormDataContentType()
}

func with(h map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// Every parameter transport of the 2N API reaches the same function.
func TestParameterTransports(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := basic("admin", adminPassword)

	// multipart blob-dir_new, as npm's 2n-helios-client creates entries
	body, ct := multipartBody(t, [2]string{"blob-dir_new", `{"users":[{"name":"Multi Part","uuid":"AAAAAAAA-0000-0000-0000-000000000001"}]}`})
	r := e.do("PUT", "/api/dir/create", body, with(admin, "Content-Type", ct))
	require.Equal(t, 200, r.status)
	assert.Contains(t, r.body, `"success":true`)
	assert.Contains(t, r.body, `"timestamp"`, r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))

	// multipart blob-json, as it queries
	body, ct = multipartBody(t, [2]string{"blob-json", `{"series":"` + series + `","iterator":{"timestamp":0},"fields":["name"]}`})
	r = e.do("POST", "/api/dir/query", body, with(admin, "Content-Type", ct))
	assert.Contains(t, r.body, `"name":"Multi Part"`)

	// a force flag as a form field beside the blob
	body, ct = multipartBody(t, [2]string{"force", "1"}, [2]string{"blob-dir_new", `{"users":[{"name":"Forced","uuid":"AAAAAAAA-0000-0000-0000-000000000001"}]}`})
	r = e.do("PUT", "/api/dir/create", body, with(admin, "Content-Type", ct))
	assert.NotContains(t, r.body, "EDIR_UUID_ALREADY_EXISTS", r.body)

	// a JSON body sent as a form, as curl -d does
	r = e.do("POST", "/api/dir/get", `{"users":[{"uuid":"AAAAAAAA-0000-0000-0000-000000000001"}],"fields":["name"]}`,
		with(admin, "Content-Type", "application/x-www-form-urlencoded"))
	assert.Contains(t, r.body, `"name":"Forced"`)

	// form-urlencoded scalars, and the same in the query string
	r = e.do("POST", "/api/log/subscribe", "include=all&duration=60", with(admin, "Content-Type", "application/x-www-form-urlencoded"))
	assert.Contains(t, r.body, `"id":`, r.body)
	r = e.do("POST", "/api/log/subscribe", "include=sometimes", with(admin, "Content-Type", "application/x-www-form-urlencoded"))
	assert.JSONEq(t, `{"success":false,"error":{"code":12,"param":"include","description":"invalid parameter value"}}`, r.body)
	r = e.do("GET", "/api/log/subscribe?include=sometimes", "", admin)
	assert.JSONEq(t, `{"success":false,"error":{"code":12,"param":"include","description":"invalid parameter value"}}`, r.body)
}

// Bad and oversized transports are codes 12 and 13, never a 500 or a
// half-read request.
func TestParameterTransportBounds(t *testing.T) {
	e := newEnv(t, envConfig{limits: httpadapter.Limits{MaxBodyBytes: 4 << 10}})
	admin := basic("admin", adminPassword)
	code := func(method, path, body, ct string) string {
		t.Helper()
		r := e.doUndocumented(method, path, body, with(admin, "Content-Type", ct))
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		return r.body
	}
	var many [][2]string
	for i := range 65 {
		many = append(many, [2]string{fmt.Sprint("f", i), "x"})
	}
	body, ct := multipartBody(t, many...)
	assert.Contains(t, code("PUT", "/api/dir/create", body, ct), `"code":13`, "too many parts")

	body, ct = multipartBody(t, [2]string{"blob-json", `{"users":[` + strings.Repeat(`{"name":"x"},`, 400) + `{}]}`})
	assert.Contains(t, code("PUT", "/api/dir/create", body, ct), `"code":13`, "a blob over the body limit")

	body, ct = multipartBody(t, [2]string{"blob-json", `not json`})
	assert.JSONEq(t, `{"success":false,"error":{"code":12,"param":"blob-json","description":"invalid parameter value"}}`, code("PUT", "/api/dir/create", body, ct))

	assert.Contains(t, code("PUT", "/api/dir/create", "--x\r\nbroken", "multipart/form-data; boundary=x"), `"code":12`)
	assert.Contains(t, code("PUT", "/api/dir/create", "a", "multipart/form-data"), `"code":12`, "no boundary")
	assert.Contains(t, code("POST", "/api/log/subscribe", strings.Repeat("a=1&", 70), "application/x-www-form-urlencoded"), `"code":13`)
	assert.Contains(t, code("POST", "/api/log/subscribe", "a=%zz", "application/x-www-form-urlencoded"), `"code":12`)
}
