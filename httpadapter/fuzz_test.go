package httpadapter_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lintelhq/lintel/httpadapter"
)

// fuzzHandler is one adapter shared by a fuzz target's runs.
func fuzzHandler(f *testing.F) (http.Handler, string) {
	e := newEnv(f, nil, httpadapter.Limits{MaxBodyBytes: 64 << 10})
	e.srv.Close()
	return e.srv.Config.Handler, e.login2()
}

// login2 logs in through the handler itself (the test server is closed).
func (e *env) login2() string {
	rec := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), nil))
	var out struct{ Token string }
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out.Token
}

// FuzzPanelRoutes: any body on any batch route is answered 200 with
// results, 400 or 413 with an error, always JSON, never a panic.
func FuzzPanelRoutes(f *testing.F) {
	routes := []string{"/api/v1/access/users/link/update", "/api/v1/access/users/link/delete", "/api/v1/access/identifiers/link/update",
		"/api/v1/access/identifiers/link/delete", "/api/v1/access/timeprofile/link/update", "/api/v1/apartments/link/update",
		"/api/v1/access/kone/link/update", "/api/v1/access/decide"}
	f.Add(0, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"A","auth_factors":["card"]}]}`)
	f.Add(1, `{"link_ids":["91c615e3-1040-4815-8ecb-039a18b756b5"]}`)
	f.Add(2, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","identifier_type":"card","identifier_number":"1","valid":{"time":{"from":"x"}}}]}`)
	f.Add(4, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","time_options":{"date_from":1,"date_to":2},"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"custom"}}}]}`)
	f.Add(5, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","apartment_address":{"building":1}}]}`)
	f.Add(7, `{"identifier_type":"card","identifier_number":"1","lock":2}`)
	h, token := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, route int, body string) {
		path := routes[(route%len(routes)+len(routes))%len(routes)]
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: not JSON: %q", path, rec.Body)
		}
	})
}

// FuzzDirectoryRoutes: any body on the 2N functions gets the envelope.
func FuzzDirectoryRoutes(f *testing.F) {
	f.Add("update", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","access.pin":"hello"}]}`)
	f.Add("create", `{"users":[{"name":"x","callPos":[{"peer":"a"},{"grouped":"no"}]}]}`)
	f.Add("query", `{"series":"1","iterator":{"timestamp":-5},"fields":["callPos.peer"]}`)
	f.Add("delete", `{"owner":"My2N"}`)
	f.Add("get", `{"users":[{"uuid":5}]}`)
	h, _ := fuzzHandler(f)
	methods := map[string]string{"update": "PUT", "create": "PUT", "delete": "PUT", "get": "POST", "query": "POST", "template": "GET"}
	f.Fuzz(func(t *testing.T, fn, body string) {
		method := methods[fn]
		if method == "" {
			method = "POST"
		}
		req := httptest.NewRequest(method, "/api/dir/x", strings.NewReader(body))
		req.URL.Path = "/api/dir/" + fn
		req.SetBasicAuth("admin", adminPassword)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == 301 || rec.Code == 307 || rec.Code == 308 {
			return // ServeMux redirects an unclean path ("/api/dir/./x") to its clean form
		}
		var env struct {
			Success *bool `json:"success"`
		}
		if rec.Code != 200 && rec.Code != 404 || json.Unmarshal(rec.Body.Bytes(), &env) != nil || (rec.Code == 200 && env.Success == nil) {
			t.Fatalf("%s: %d %q", fn, rec.Code, rec.Body)
		}
	})
}
