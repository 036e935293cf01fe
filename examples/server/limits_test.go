package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPanelEmulation: the capability and limit flags make the server
// answer as a panel with those limits does.
func TestPanelEmulation(t *testing.T) {
	s := launch(t, "", "-memory", "-addr", "127.0.0.1:0", "-admin-password", "pw",
		"-face=false", "-max-identifiers", "1", "-max-batch", "2", "-max-body", "1KiB",
		"-dir-capacity", "2", "-dir-max-per-request", "1", "-dir-model", "accessunit")
	s.drain()
	status, token := login(t, s.addr, "admin", "pw")
	require.Equal(t, 200, status)
	card := func(link, number string) string {
		return `{"link_id":"` + link + `","identifier_type":"card","identifier_number":"` + number + `","lock":"first",` +
			`"valid":{"time":{"is_permanent":true},"passes":{"is_permanent":true}}}`
	}
	user := func(i int) string {
		return `{"link_id":"00000000-0000-4000-8000-00000000000` + string(rune('0'+i)) + `","name":"U","auth_factors":["card"]}`
	}
	base := s.url
	for _, tc := range []struct {
		name, method, path, auth, body string
		status                         int
		answer                         string // contained in the answer
	}{
		{"-face=false", "POST", "/api/v1/access/identifiers/link/update", token,
			`{"list_items":[{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb1","identifier_type":"face_id","identifier_number":"aGVsbG8=",` +
				`"valid":{"time":{"is_permanent":true},"passes":{"is_permanent":true}}}]}`, 200, `"extended_info":"face_id_not_supported"`},
		{"first identifier", "POST", "/api/v1/access/identifiers/link/update", token,
			`{"list_items":[` + card("eae44848-5e81-4861-8e63-861d9bd4ebb2", "0A:1B:2C:3D") + `]}`, 200, `"extended_info":"created"`},
		{"-max-identifiers 1", "POST", "/api/v1/access/identifiers/link/update", token,
			`{"list_items":[` + card("eae44848-5e81-4861-8e63-861d9bd4ebb3", "0A:1B:2C:3E") + `]}`, 200, `"extended_info":"number_of_identifiers_exceeded"`},
		{"-max-batch 2", "POST", "/api/v1/access/users/link/update", token,
			`{"list_items":[` + user(1) + `,` + user(2) + `,` + user(3) + `]}`, 400, `List is too long`},
		{"within -max-batch", "POST", "/api/v1/access/users/link/update", token,
			`{"list_items":[` + user(1) + `,` + user(2) + `]}`, 200, `"extended_info":"created"`},
		{"-max-body 1KiB", "POST", "/api/v1/access/users/link/update", token,
			`{"list_items":[` + user(1) + `],"pad":"` + strings.Repeat("x", 1024) + `"}`, 413, `Request body too large`},
		{"-dir-max-per-request 1", "PUT", "/api/dir/create", "admin:pw", `{"users":[{"name":"A"},{"name":"B"}]}`, 200, `"code":13`},
		{"-dir-capacity 2, first", "PUT", "/api/dir/create", "admin:pw", `{"users":[{"name":"A"}]}`, 200, `"success":true`},
		{"-dir-capacity 2, second", "PUT", "/api/dir/create", "admin:pw", `{"users":[{"name":"B"}]}`, 200, `"success":true`},
		{"-dir-capacity 2, full", "PUT", "/api/dir/create", "admin:pw", `{"users":[{"name":"C"}]}`, 200, `"success":false`},
		{"-dir-model accessunit", "PUT", "/api/dir/create", "admin:pw", `{"users":[{"name":"D","callPos":[{"peer":"sip:1@x"}]}]}`, 200, `EDIR_FIELD_NOT_AVAILABLE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, answer := call(t, tc.method, base+tc.path, tc.auth, tc.body)
			assert.Equal(t, tc.status, status, answer)
			assert.Contains(t, answer, tc.answer)
		})
	}
	_, template := call(t, "GET", base+"/api/dir/template", "admin:pw", "")
	assert.NotContains(t, template, "callPos", "an access unit has no call positions")
	assert.Contains(t, template, "access")
}

// TestDefaultLimits: without the flags the server takes what the library
// takes by default: faces, and a batch of more than 2 items.
func TestDefaultLimits(t *testing.T) {
	c, err := parseFlags([]string{"-memory"}, nil, func(string) string { return "" })
	require.NoError(t, err)
	assert.True(t, c.faceID)
	assert.Equal(t, 10_000, c.maxBatch)
	assert.Equal(t, 10_000, c.maxListItems)
	assert.Equal(t, byteSize(16<<20), c.maxBody)
	assert.Equal(t, 10_000, c.dirCapacity)

	c, err = parseFlags([]string{"-memory", "-max-batch", "20000", "-max-body", "64MiB"}, nil, func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, 20_000, c.maxListItems, "the list bound follows a larger -max-batch")
	assert.Equal(t, byteSize(64<<20), c.maxBody)
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want byteSize
		ok   bool
		out  string
	}{
		{"1048576", 1 << 20, true, "1MiB"},
		{"512KiB", 512 << 10, true, "512KiB"},
		{"16MiB", 16 << 20, true, "16MiB"},
		{"1GiB", 1 << 30, true, "1GiB"},
		{"1000", 1000, true, "1000"},
		{"100B", 100, true, "100"},
		{"16MB", 0, false, ""},
		{"-1", 0, false, ""},
		{"", 0, false, ""},
		{"99999999GiB", 0, false, ""},
	} {
		var b byteSize
		err := b.Set(tc.in)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, b, tc.in)
		assert.Equal(t, tc.out, b.String(), tc.in)
	}
}
