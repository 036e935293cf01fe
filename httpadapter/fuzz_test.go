package httpadapter_test

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/lintelhq/lintel/httpadapter"
)

// fuzzHandler is one adapter shared by a fuzz target's runs, and an admin
// token for it.
func fuzzHandler(f *testing.F) (http.Handler, string) {
	h, _, _ := newHandler(f, envConfig{limits: httpadapter.Limits{MaxBodyBytes: 64 << 10, MaxListItems: 100}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), nil))
	var out struct{ Token string }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Token == "" {
		f.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	return h, out.Token
}

// panelBodyRoutes are the panel routes that take a body, as "METHOD
// path"; the remote access server authenticates panels, not accounts, and
// has a target of its own.
func panelBodyRoutes(t testing.TB) []string {
	cfg, _, _ := newConfig(t, envConfig{})
	var r []string
	for _, route := range httpadapter.Routes(cfg) {
		method, path, _ := strings.Cut(route, " ")
		if (method == "POST" || method == "DELETE") && strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/logout" && path != "/api/v1/remote/access" {
			r = append(r, route)
		}
	}
	return r
}

// FuzzPanelRoutes: any body on any panel route that takes one is answered
// 200 with results, 400 or 413 with an error, always JSON, never a panic.
func FuzzPanelRoutes(f *testing.F) {
	f.Add(uint8(0), `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"A","auth_factors":["card"]}]}`)
	f.Add(uint8(1), `{"link_ids":["91c615e3-1040-4815-8ecb-039a18b756b5",5]}`)
	f.Add(uint8(2), `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","identifier_type":"card","identifier_number":"1","valid":{"time":{"from":"x"}}}]}`)
	f.Add(uint8(4), `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","time_options":{"date_from":1,"date_to":2},"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"custom","repeat_custom":{"repeat_point_type":"month","repeat_looper":1,"repeat_options":{"format":"dayNumbers","range":[1,40]}}}}}]}`)
	f.Add(uint8(6), `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","apartment_address":{"building":1}}]}`)
	f.Add(uint8(8), `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"lift","areas":[1,-2]}]}`)
	f.Add(uint8(10), `{"identifier_type":"card","identifier_number":"1","lock":2,"at":-1}`)
	f.Add(uint8(3), `null`)
	h, token := fuzzHandler(f)
	paths := panelBodyRoutes(f)
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		method, path, _ := strings.Cut(paths[int(route)%len(paths)], " ")
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || (out["error"] == nil) == (rec.Code != 200) {
			t.Fatalf("%s: %d %q", path, rec.Code, rec.Body)
		}
	})
}

// FuzzRemoteAccess: any body and lock a panel with the right secret sends
// to the remote access server is answered 200 with a decision or 400 with
// an error, always JSON, never a panic.
func FuzzRemoteAccess(f *testing.F) {
	f.Add("", `{"identifier_number":"AA:BB:CC:01","identifier_type":"card"}`)
	f.Add("1", `{"identifier_number":"4711","identifier_type":"input_code"}`)
	f.Add("2", `{"identifier_number":"5f0c4a52-8f4e-4e55-9d2a-0c5e0ad0b001","identifier_type":"qr"}`)
	f.Add("3", `{"identifier_number":"x","identifier_type":"face"}`)
	f.Add("", `{"identifier_number":1}`)
	f.Add("", `[]`)
	e := newEnv(f, envConfig{noCheck: true})
	remoteItems(f, e)
	_, secret := remotePanel(f, e, "AV04SD-0001")
	h := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, lock, body string) {
		req := httptest.NewRequest("POST", "/api/v1/remote/access?key="+secret+"&lock="+url.QueryEscape(lock), strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%d %q", rec.Code, rec.Body)
		}
		switch rec.Code {
		case 200:
			if _, ok := out["handled"].(bool); !ok {
				t.Fatalf("no handled: %s", rec.Body)
			}
		case 400:
			if out["error"] == nil {
				t.Fatalf("400 without error: %s", rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzDirectoryRoutes: any body on any 2N function gets the envelope.
func FuzzDirectoryRoutes(f *testing.F) {
	f.Add("update", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","access.pin":"hello"}]}`)
	f.Add("create", `{"users":[{"name":"x","callPos":[{"peer":"a"},{"grouped":"no"}]}]}`)
	f.Add("create?force=1", `{"users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","access":{"card":["0A1B",""]}}]}`)
	f.Add("query", `{"series":"1","iterator":{"timestamp":-5},"fields":["callPos.peer"]}`)
	f.Add("delete", `{"owner":"My2N"}`)
	f.Add("get", `{"users":[{"uuid":5}]}`)
	f.Add("template", ``)
	h, _ := fuzzHandler(f)
	methods := map[string]string{"update": "PUT", "create": "PUT", "delete": "PUT", "get": "POST", "query": "POST", "template": "GET"}
	f.Fuzz(func(t *testing.T, fn, body string) {
		name, _, _ := strings.Cut(fn, "?")
		method := methods[name]
		if method == "" {
			method = "POST"
		}
		req := httptest.NewRequest(method, "/api/dir/x", strings.NewReader(body))
		req.URL.Path, req.URL.RawQuery, _ = strings.Cut("/api/dir/"+fn, "?")
		req.SetBasicAuth("admin", adminPassword)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == 301 || rec.Code == 307 || rec.Code == 308 {
			return // ServeMux redirects an unclean path ("/api/dir/./x") to its clean form
		}
		var env struct {
			Success *bool `json:"success"`
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.Success == nil {
			t.Fatalf("%s: %d %q", fn, rec.Code, rec.Body)
		}
	})
}

// FuzzDirectoryAuthorization: any Authorization header is answered with
// the envelope (200 for the admin's Basic credentials, 401 with a
// challenge otherwise), never a panic.
func FuzzDirectoryAuthorization(f *testing.F) {
	f.Add(`Digest username="admin", realm="lintel", nonce="AAAAAGkC7bw", uri="/api/dir/template", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x", response="00"`)
	f.Add(`Digest username="ad\"min", realm=lintel, nonce=, uri="/api/dir/template"`)
	f.Add(`Digest ,,,=,"`)
	f.Add(`Basic YWRtaW46czNjcmV0IQ==`)
	f.Add(`Basic ####`)
	f.Add(`Bearer x`)
	h, _ := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, authorization string) {
		req := httptest.NewRequest("GET", "/api/dir/template", nil)
		req.Header.Set("Authorization", authorization)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var env struct {
			Success *bool `json:"success"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.Success == nil ||
			!(rec.Code == 200 && *env.Success || rec.Code == 401 && rec.Header().Get("WWW-Authenticate") != "" || rec.Code == 429) {
			t.Fatalf("%q: %d %q", authorization, rec.Code, rec.Body)
		}
	})
}

// FuzzTwoNTransports: any form or multipart body, with any boundary, on
// a 2N function gets the envelope with status 200 and exactly
// application/json, never a panic or a 500.
func FuzzTwoNTransports(f *testing.F) {
	f.Add(true, "x", "--x\r\nContent-Disposition: form-data; name=\"blob-json\"; filename=\"blob\"\r\n\r\n{\"users\":[{\"name\":\"a\"}]}\r\n--x--\r\n")
	f.Add(true, "x", "--x\r\nContent-Disposition: form-data; name=\"force\"\r\n\r\n1\r\n--x\r\nContent-Disposition: form-data; name=\"blob-dir_new\"\r\n\r\n{\"users\":5}\r\n--x--\r\n")
	f.Add(true, "", "--\r\n")
	f.Add(true, "b", "--b\r\nContent-Disposition: form-data; name=\"blob-json\"\r\n\r\nnull\r\n--b\r\n")
	f.Add(false, "", "force=1&users=%5B%5D")
	f.Add(false, "", "%zz=&&=")
	f.Add(false, "", `{"users":[{"name":"b"}]}`)
	h, _ := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, multipart bool, boundary, body string) {
		req := httptest.NewRequest("PUT", "/api/dir/create", strings.NewReader(body))
		ct := "application/x-www-form-urlencoded"
		if multipart {
			ct = mime.FormatMediaType("multipart/form-data", map[string]string{"boundary": boundary})
		}
		req.Header.Set("Content-Type", ct)
		req.SetBasicAuth("admin", adminPassword)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var env struct {
			Success *bool `json:"success"`
		}
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.Success == nil {
			t.Fatalf("%q %q: %d %q", ct, body, rec.Code, rec.Body)
		}
	})
}
