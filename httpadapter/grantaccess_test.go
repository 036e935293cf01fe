package httpadapter_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// /api/accesspoint/grantaccess decides with the directory's own data: one
// case per reason 2N answers, and the boundaries of validity. The clock
// stands at 2026-11-23 09:00 UTC (1795424400).
func TestGrantAccess(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin, manager := basic("admin", adminPassword), basic("manager", managerPassword)
	const now = 1795424400
	entry := func(uuid, access string) string {
		return fmt.Sprintf(`{"uuid":%q,"name":"U","access":%s}`, uuid, access)
	}
	const (
		valid     = "00000000-0000-4000-8000-0000000000a1"
		expired   = "00000000-0000-4000-8000-0000000000a2"
		early     = "00000000-0000-4000-8000-0000000000a3"
		exitOff   = "00000000-0000-4000-8000-0000000000a4"
		lastDay   = "00000000-0000-4000-8000-0000000000a5"
		profiles  = "00000000-0000-4000-8000-0000000000a6"
		deleted   = "00000000-0000-4000-8000-0000000000a7"
		stranger  = "00000000-0000-4000-8000-0000000000a8"
		malformed = "not-a-uuid"
	)
	users := []string{
		entry(valid, `{}`),
		entry(expired, fmt.Sprintf(`{"validTo":"%d"}`, now-1)),
		entry(early, fmt.Sprintf(`{"validFrom":"%d"}`, now+1)),
		entry(exitOff, `{"accessPoints":[{"enabled":true},{"enabled":false}]}`),
		entry(lastDay, fmt.Sprintf(`{"validFrom":"%d","validTo":"%d"}`, now, now)),
		entry(profiles, `{"accessPoints":[{"enabled":true,"profiles":"1"}]}`),
		entry(deleted, `{}`),
	}
	r := e.do("PUT", "/api/dir/create", `{"force":true,"users":[`+strings.Join(users, ",")+`]}`, admin)
	require.NotContains(t, r.body, "errors", r.body)
	r = e.do("PUT", "/api/dir/delete", `{"users":[{"uuid":"`+deleted+`"}]}`, admin)
	require.Contains(t, r.body, `"timestamp":8`, r.body)

	grant := func(id, user string) string {
		return e.do("GET", "/api/accesspoint/grantaccess?id="+id+"&user="+user, "", admin).body
	}
	const (
		granted    = `{"success":true,"result":{"accessGranted":true}}`
		invalidAP  = `{"success":true,"result":{"accessGranted":false,"reason":"invalidAp"}}`
		invalidCrd = `{"success":true,"result":{"accessGranted":false,"reason":"invalidCredential"}}`
		blocked    = `{"success":true,"result":{"accessGranted":false,"reason":"accessBlocked"}}`
	)
	tests := []struct{ id, user, want string }{
		{"0", valid, granted},
		{"1", valid, granted},
		{"2", valid, invalidAP},
		{"0", expired, invalidCrd},
		{"0", early, invalidCrd},
		{"0", lastDay, granted},
		{"0", exitOff, granted},
		{"1", exitOff, invalidCrd},
		{"0", profiles, invalidCrd}, // 2N time profiles are not Lintel's: fail closed
		{"0", deleted, invalidCrd},
		{"0", stranger, invalidCrd},
		{"0", malformed, invalidCrd},
	}
	for _, tc := range tests {
		assert.JSONEq(t, tc.want, grant(tc.id, tc.user), "id %s user %s", tc.id, tc.user)
	}
	r = e.do("GET", "/api/accesspoint/blocking/ctrl?id=1&action=on", "", admin)
	require.JSONEq(t, `{"success":true}`, r.body)
	assert.JSONEq(t, blocked, grant("1", valid))
	assert.JSONEq(t, blocked, grant("1", stranger), "blocking is told before the user is looked at")
	assert.JSONEq(t, granted, grant("0", valid))

	for _, tc := range []struct{ path, want string }{
		{"/api/accesspoint/grantaccess?user=" + valid, `"code":11,"param":"id"`},
		{"/api/accesspoint/grantaccess?id=0", `"code":11,"param":"user"`},
		{"/api/accesspoint/grantaccess?id=x&user=" + valid, `"code":12,"param":"id"`},
	} {
		assert.Contains(t, e.do("GET", tc.path, "", admin).body, tc.want, tc.path)
	}
	assert.Contains(t, e.do("GET", "/api/accesspoint/grantaccess?id=0&user="+valid, "", manager).body, `"code":10`, "a manager may not open doors")
}

func TestIOCtrl(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := basic("admin", adminPassword)
	r := e.do("GET", "/api/io/ctrl?port=relay1&action=on", "", admin)
	assert.JSONEq(t, `{"success":true}`, r.body)
	assert.Contains(t, e.do("GET", "/api/io/status?port=relay1", "", admin).body, `{"port":"relay1","state":1}`)
	assert.Contains(t, e.do("GET", "/api/switch/status?switch=1", "", admin).body, `"active":true`, "the relay's switch follows")
	r = e.do("GET", "/api/io/ctrl?port=relay1&action=off", "", admin)
	assert.JSONEq(t, `{"success":true}`, r.body)
	assert.Contains(t, e.do("GET", "/api/io/status?port=relay1", "", admin).body, `{"port":"relay1","state":0}`)
	for _, tc := range []struct{ path, want string }{
		{"/api/io/ctrl?port=input1&action=on", `"code":12,"param":"port"`},
		{"/api/io/ctrl?port=relay9&action=on", `"code":12,"param":"port"`},
		{"/api/io/ctrl?port=relay1&action=trigger", `"code":12,"param":"action"`},
		{"/api/io/ctrl?action=on", `"code":11,"param":"port"`},
		{"/api/io/ctrl?port=relay1", `"code":11,"param":"action"`},
	} {
		assert.Contains(t, e.do("GET", tc.path, "", admin).body, tc.want, tc.path)
	}
}

// A model whose directory has no access points (uni) refuses with the
// directory's reason, invalidAp, though the device has the access point.
func TestGrantAccessOnAModelWithoutAccessPoints(t *testing.T) {
	e := newEnv(t, envConfig{model: "uni"})
	admin := basic("admin", adminPassword)
	const user = "00000000-0000-4000-8000-0000000000b1"
	r := e.do("PUT", "/api/dir/create", `{"users":[{"uuid":"`+user+`","name":"U"}]}`, admin)
	require.NotContains(t, r.body, "errors", r.body)
	r = e.do("GET", "/api/accesspoint/grantaccess?id=0&user="+user, "", admin)
	assert.JSONEq(t, `{"success":true,"result":{"accessGranted":false,"reason":"invalidAp"}}`, r.body)
}
