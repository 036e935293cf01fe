package httpadapter_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/httpadapter"
)

// The document describes exactly the routes the adapter serves, and each
// answers a request without credentials as the document says.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	cfg, _, _ := newConfig(t, envConfig{})
	routes := httpadapter.Routes(cfg) // the table the mux is registered from
	require.Contains(t, routes, "POST /api/v1/access/decide")
	e := newEnv(t, envConfig{})
	r := e.do("GET", "/openapi.json", "", nil)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	assert.ElementsMatch(t, routes, documented)

	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		path = strings.Replace(path, "{link_id}", linkB5, 1)
		r := e.do(method, path, "", nil)
		switch {
		case path == "/openapi.json", path == "/api/system/info": // public, as on the device
			assert.Equal(t, 200, r.status)
		case path == "/api/v1/login", path == "/api/v0/devices/login": // no credentials: Required parameters missed
			assert.Equal(t, 400, r.status)
		default:
			assert.Equal(t, 401, r.status, route)
		}
	}
}

// The validator is not lenient: a response that breaks the document is
// reported.
func TestOpenAPIValidatorCatchesMismatches(t *testing.T) {
	e := newEnv(t, envConfig{noCheck: true})
	admin := e.login("admin", adminPassword)
	req := "/api/v1/access/users/link"
	r := e.do("GET", req, "", admin)
	require.Equal(t, 200, r.status)
	assert.True(t, e.valid("GET", req, admin, 200, r.body))
	for _, body := range []string{`{"list_items":[]}`, `{"list_items":[{"name":"x"}],"next":""}`, `{"list_items":[],"next":"","extra":1}`} {
		assert.False(t, e.valid("GET", req, admin, 200, body), body)
	}
	assert.False(t, e.valid("GET", req, admin, 418, `{"error":"x"}`), "an undocumented status")
	assert.True(t, e.valid("PUT", "/api/dir/update", basic("admin", "x"), 200, `{"success":false,"error":{"code":12,"description":"x"}}`))
	assert.False(t, e.valid("PUT", "/api/dir/update", basic("admin", "x"), 200, `{"success":true,"result":{"users":[]}}`), "series is required")
	assert.False(t, e.valid("PUT", "/api/dir/update", basic("admin", "x"), 200, `{"success":false,"error":{"code":99,"description":"x"}}`))
}
