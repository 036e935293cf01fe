package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -panel registers a BAS-IP panel and prints its remote access URL and
// Link password once; the panel can then ask the remote access server and
// log in on the Link channel. -model is the 2N model the server is.
func TestPanelAndModelFlags(t *testing.T) {
	env := map[string]string{"LINTEL_ADMIN_PASSWORD": "pw-admin"}
	addr, out := inProcess(t, env, "-memory", "-addr", "127.0.0.1:0", "-panel", "AV04SD-0001", "-model", "style")
	printed := out.String()
	remoteURL := regexpFind(t, `panel AV04SD-0001: remote access URL (\S+);`, printed)
	password := regexpFind(t, `Link login AV04SD-0001, password (\S+) \(shown once`, printed)

	status, token := login(t, addr, "admin", "pw-admin")
	require.Equal(t, 200, status)
	status, body := call(t, "POST", "http://"+addr+"/api/v1/access/identifier/items/link", token,
		`{"list_items":[{"link_id":"5f0c4a52-8f4e-4e55-9d2a-0c5e0ad0b001","identifier_type":"card","identifier_number":"AA:BB:CC:DD","lock":"first",`+
			`"identifier_owner":{"name":"Ada","type":"owner"},"valid":{"time":{"is_permanent":true},"passes":{"is_permanent":true}}}]}`)
	require.Equal(t, 200, status, body)

	status, body = call(t, "POST", remoteURL, "", `{"identifier_number":"AA:BB:CC:DD","identifier_type":"card"}`)
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"handled":true,"access":{"granted":true,"lock_number":1}}`, body)
	status, _ = call(t, "POST", "http://"+addr+"/api/v1/remote/access?key=wrong-wrong-wrong-wrong", "", `{"identifier_number":"AA:BB:CC:DD","identifier_type":"card"}`)
	assert.Equal(t, 401, status)

	status, body = call(t, "POST", "http://"+addr+"/api/v0/devices/login", "", `{"login":"AV04SD-0001","password":"`+password+`"}`)
	assert.Equal(t, 200, status, body)
	assert.Contains(t, body, `"token"`)

	status, body = call(t, "GET", "http://"+addr+"/api/system/info", "", "")
	assert.Equal(t, 200, status)
	assert.Contains(t, body, `"firmwarePackage":"style"`)
	assert.False(t, strings.Contains(printed, "pw-admin"))
}
