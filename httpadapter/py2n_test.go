package httpadapter_test

import (
	"encoding/json"
	"mime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// py2nCall performs one request as py2n's api_request does and applies
// its checks: the Content-Type's media type must be exactly
// application/json, the body a JSON object with "success"; an
// unsuccessful answer is an error with its code. It returns "result".
func py2nCall(t *testing.T, e *env, method, path, body string, auth map[string]string) map[string]any {
	t.Helper()
	r := e.do(method, path, body, auth)
	mt, _, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	require.NoError(t, err, path)
	require.Equal(t, "application/json", mt, "%s: py2n raises DeviceUnsupportedError on another content type", path)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &out), path)
	require.Contains(t, out, "success", "%s: py2n raises 'response malformed'", path)
	require.Equal(t, true, out["success"], "%s: %s", path, r.body)
	result, _ := out["result"].(map[string]any)
	return result
}

// TestPy2NDeviceCreate replays, request for request, what py2n's
// Py2NDevice.create sends (system info, log caps, io caps and status,
// system status, switch status) and its directory helpers (template,
// query, update), and reads every key py2n reads by name.
func TestPy2NDeviceCreate(t *testing.T) {
	e := newEnv(t, envConfig{})
	auth := basic("admin", adminPassword) // aiohttp.BasicAuth, py2n's default

	info := py2nCall(t, e, "GET", "/api/system/info", "", auth)
	for _, k := range []string{"deviceName", "variant", "serialNumber", "macAddr", "swVersion", "buildType", "hwVersion"} {
		assert.IsType(t, "", info[k], k)
		assert.NotEmpty(t, info[k], k)
	}
	assert.Equal(t, info, py2nCall(t, e, "GET", "/api/system/info", "", nil), "also without credentials")

	caps := py2nCall(t, e, "GET", "/api/log/caps", "", auth)
	assert.Contains(t, caps["events"], "SwitchStateChanged")

	ioCaps := py2nCall(t, e, "GET", "/api/io/caps", "", auth)
	ioStatus := py2nCall(t, e, "GET", "/api/io/status", "", auth)
	states := map[string]any{}
	for _, s := range ioStatus["ports"].([]any) {
		st := s.(map[string]any)
		states[st["port"].(string)] = st["state"]
	}
	require.NotEmpty(t, ioCaps["ports"])
	for _, c := range ioCaps["ports"].([]any) { // get_ports joins caps and status by "port"
		cp := c.(map[string]any)
		assert.Contains(t, []any{"input", "output"}, cp["type"])
		assert.Contains(t, states, cp["port"])
	}

	status := py2nCall(t, e, "GET", "/api/system/status", "", auth)
	assert.IsType(t, float64(0), status["upTime"])

	switches := py2nCall(t, e, "GET", "/api/switch/status", "", auth)["switches"].([]any)
	require.NotEmpty(t, switches)
	first := switches[0].(map[string]any)
	for _, k := range []string{"switch", "active", "locked"} {
		assert.Contains(t, first, k)
	}

	// set_switch(1, True), then update_switch_status
	assert.Nil(t, py2nCall(t, e, "GET", "/api/switch/ctrl?switch=1&action=on", "", auth))
	switches = py2nCall(t, e, "GET", "/api/switch/status", "", auth)["switches"].([]any)
	assert.Equal(t, true, switches[0].(map[string]any)["active"], "the switch action is visible to the next status call")
	pulled := py2nCall(t, e, "GET", "/api/log/subscribe?include=all&duration=90", "", auth)
	events := py2nCall(t, e, "GET", "/api/log/pull?id="+jsonNumber(pulled["id"])+"&timeout=0", "", auth)["events"].([]any)
	var names []string
	for _, ev := range events {
		names = append(names, ev.(map[string]any)["event"].(string))
	}
	assert.Contains(t, names, "SwitchStateChanged", "and in the log")

	// get_dir_template, update_dir, query_dir
	tmpl := py2nCall(t, e, "GET", "/api/dir/template", "", auth)
	require.NotEmpty(t, tmpl["users"])
	created := py2nCall(t, e, "PUT", "/api/dir/create", `{"users":[{"name":"Py Two"}]}`, auth)["users"].([]any)
	uuid := created[0].(map[string]any)["uuid"].(string)
	updated := py2nCall(t, e, "PUT", "/api/dir/update", `{"users":[{"uuid":"`+uuid+`","email":"py@example.org"}]}`, auth)
	require.NotEmpty(t, updated["users"])
	query := py2nCall(t, e, "POST", "/api/dir/query", `{"iterator":{"timestamp":0}}`, auth)
	assert.True(t, strings.Contains(jsonString(t, query["users"]), "py@example.org"))
}

// Device functions: blocking, holidays and their errors, as a client
// sees them.
func TestDeviceFunctions(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin, manager := basic("admin", adminPassword), basic("manager", managerPassword)
	r := e.do("GET", "/api/accesspoint/blocking/ctrl?id=0&action=on", "", admin)
	assert.JSONEq(t, `{"success":true}`, r.body)
	assert.Contains(t, e.do("GET", "/api/accesspoint/blocking/status", "", manager).body, `{"id":0,"blocked":true}`)
	r = e.do("GET", "/api/accesspoint/blocking/ctrl?id=0&action=off", "", manager)
	assert.Contains(t, r.body, `"code":10`, "a manager may only read")

	for _, tc := range []struct{ path, want string }{
		{"/api/switch/ctrl?switch=9&action=on", `{"success":false,"error":{"code":12,"param":"switch","description":"invalid parameter value"}}`},
		{"/api/switch/ctrl?switch=1&action=dance", `{"success":false,"error":{"code":12,"param":"action","description":"invalid parameter value"}}`},
		{"/api/switch/ctrl?action=on", `{"success":false,"error":{"code":11,"param":"switch","description":"missing mandatory parameter"}}`},
		{"/api/accesspoint/blocking/ctrl?id=7&action=on", `{"success":false,"error":{"code":12,"param":"id","description":"invalid parameter value"}}`},
		{"/api/nothing/here", `{"success":false,"error":{"code":2,"description":"invalid request path"}}`},
	} {
		r := e.doUndocumented("GET", tc.path, "", admin)
		assert.JSONEq(t, tc.want, r.body, tc.path)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"), tc.path)
	}

	r = e.do("PUT", "/api/config/holidays", `{"dates":["01/01","24/12","01/04/2018"]}`, admin)
	assert.JSONEq(t, `{"success":true}`, r.body)
	assert.JSONEq(t, `{"success":true,"result":{"dates":["01/01","24/12","01/04/2018"]}}`, e.do("GET", "/api/config/holidays", "", manager).body)
	body, ct := multipartBody(t, [2]string{"blob-json", `{"dates":["31/04"]}`})
	r = e.do("PUT", "/api/config/holidays", body, with(admin, "Content-Type", ct))
	assert.Contains(t, r.body, `"code":12`)
	assert.JSONEq(t, `{"success":true,"result":{"dates":["01/01","24/12","01/04/2018"]}}`, e.do("GET", "/api/config/holidays", "", manager).body, "nothing written")
}

func jsonNumber(v any) string { b, _ := json.Marshal(v); return string(b) }

func jsonString(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// A number of seconds so large that it wraps around time.Duration must
// not land inside a bound: 2^55+5 seconds is 5 s modulo 2^64 ns.
func TestHugeSecondsAreRefused(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := basic("admin", adminPassword)
	const wraps = "36028797018963973" // 2^55 + 5
	for _, tc := range []struct{ path, param string }{
		{"/api/switch/ctrl?switch=1&action=on&timeout=" + wraps, "timeout"},
		{"/api/log/subscribe?include=-" + wraps, "include"},
		{"/api/log/subscribe?duration=" + wraps, "duration"},
		{"/api/switch/status?switch=" + strings.Repeat("1,", 100) + "1", "switch"},
	} {
		r := e.doUndocumented("GET", tc.path, "", admin)
		assert.JSONEq(t, `{"success":false,"error":{"code":12,"param":"`+tc.param+`","description":"invalid parameter value"}}`, r.body, tc.path)
	}
	sub := py2nCall(t, e, "GET", "/api/log/subscribe", "", admin)
	r := e.doUndocumented("GET", "/api/log/pull?id="+jsonNumber(sub["id"])+"&timeout="+wraps, "", admin)
	assert.Contains(t, r.body, `"param":"timeout"`)
}
