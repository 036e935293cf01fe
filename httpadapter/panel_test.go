package httpadapter_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/httpadapter"
)

// Every message's spelling, pinned: the vendor's four, then ours.
func TestMessageSpellings(t *testing.T) {
	for msg, want := range map[httpadapter.Message]string{
		httpadapter.MsgRequiredParameters: "Required parameters missed",
		httpadapter.MsgWrongLogin:         "Wrong login or password",
		httpadapter.MsgLogIn:              "Log In",
		httpadapter.MsgAdminRequired:      "Administrator rights required",
		httpadapter.MsgTooManyLogins:      "Too many failed logins, try again later",
		httpadapter.MsgBodyTooLarge:       "Request body too large",
		httpadapter.MsgListTooLong:        "List is too long",
		httpadapter.MsgWrongLimit:         "Wrong limit: an integer 1..1000",
		httpadapter.MsgNotFound:           "Not found",
		httpadapter.MsgMethodNotAllowed:   "Method not allowed",
		httpadapter.MsgInternal:           "Internal error",
		httpadapter.MsgWrongFilter:        "Wrong filter",
		httpadapter.MsgWrongOrderBy:       "Wrong order_by",
	} {
		assert.Equal(t, want, string(msg))
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, envConfig{})
	r := e.do("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), "", nil)
	assert.Equal(t, 200, r.status)
	assert.Regexp(t, `^\{"token":"[0-9a-f]{64}","account_type":"admin"\}\n$`, r.body)
	r = e.do("GET", "/api/v1/login?username=manager&password="+strings.ToUpper(md5hex(managerPassword)), "", nil)
	assert.Contains(t, r.body, `"account_type":"manager"`, "upper-case hex, as the vendor's examples send it")

	for _, tc := range []struct {
		query string
		want  httpadapter.Message
	}{
		{"", httpadapter.MsgRequiredParameters},
		{"?username=admin", httpadapter.MsgRequiredParameters},
		{"?password=" + md5hex(adminPassword), httpadapter.MsgRequiredParameters},
		{"?username=admin&password=" + md5hex("wrong"), httpadapter.MsgWrongLogin},
		{"?username=nobody&password=" + md5hex(adminPassword), httpadapter.MsgWrongLogin},
		{"?username=admin&password=" + adminPassword, httpadapter.MsgWrongLogin},
		{"?username=" + strings.Repeat("a", 300) + "&password=00", httpadapter.MsgWrongLogin},
	} {
		r = e.do("GET", "/api/v1/login"+tc.query, "", nil)
		assert.Equal(t, 400, r.status, tc.query)
		assert.JSONEq(t, errJSON(tc.want), r.body, tc.query)
	}
}

func TestFailedLoginsAreThrottled(t *testing.T) {
	e := newEnv(t, envConfig{limits: httpadapter.Limits{LoginFailures: 3, LoginAddressFailures: 3, LoginWindow: time.Minute}})
	for range 3 {
		assert.Equal(t, 400, e.do("GET", "/api/v1/login?username=admin&password=00", "", nil).status)
	}
	r := e.do("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), "", nil)
	assert.Equal(t, 429, r.status, "even the right password waits")
	assert.JSONEq(t, errJSON(httpadapter.MsgTooManyLogins), r.body)
	assert.Equal(t, "60", r.header.Get("Retry-After"))
	r = e.do("GET", "/api/v1/login?username=manager&password="+md5hex(managerPassword), "", nil)
	assert.Equal(t, 429, r.status, "the address is throttled too")
	assert.Equal(t, 429, e.do("PUT", "/api/dir/update", `{}`, basic("admin", adminPassword)).status,
		"HTTP Basic shares the throttle: it checks the same passwords")

	e.clock.Add(2 * time.Minute)
	assert.Equal(t, 200, e.do("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), "", nil).status)
	for range 3 {
		assert.Equal(t, 401, e.do("GET", "/api/dir/template", "", basic("admin", "wrong")).status)
	}
	assert.Equal(t, 429, e.do("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), "", nil).status,
		"failures through HTTP Basic count against the login")
}

func TestTokens(t *testing.T) {
	e := newEnv(t, envConfig{})
	path := "/api/v1/access/users/link/delete"
	body := `{"link_ids":["91c615e3-1040-4815-8ecb-039a18b756b1"]}`
	for _, h := range []map[string]string{nil, bearer("nonsense"), bearer(""), basic("admin", adminPassword)} {
		r := e.do("POST", path, body, h)
		assert.Equal(t, 401, r.status)
		assert.JSONEq(t, errJSON(httpadapter.MsgLogIn), r.body)
	}
	manager := e.login("manager", managerPassword)
	r := e.do("POST", path, body, manager)
	assert.Equal(t, 403, r.status)
	assert.JSONEq(t, errJSON(httpadapter.MsgAdminRequired), r.body)
	assert.Equal(t, 200, e.do("GET", "/api/v1/access/users/link", "", manager).status, "a manager may read")

	admin := e.login("admin", adminPassword)
	assert.Equal(t, 200, e.do("POST", path, body, admin).status)
	lower := map[string]string{"Authorization": "bearer " + strings.TrimPrefix(admin["Authorization"], "Bearer ")}
	assert.Equal(t, 200, e.do("POST", path, body, lower).status, "the scheme is case-insensitive")
	e.clock.Add(2*time.Hour - time.Second)
	assert.Equal(t, 200, e.do("POST", path, body, admin).status)
	e.clock.Add(2 * time.Second)
	assert.Equal(t, 401, e.do("POST", path, body, admin).status, "tokens live 2 hours")

	admin = e.login("admin", adminPassword)
	r = e.do("POST", "/api/v1/logout", "", admin)
	assert.Equal(t, 200, r.status)
	assert.JSONEq(t, `{"success":true}`, r.body)
	assert.Equal(t, 401, e.do("POST", path, body, admin).status, "logout ends the token")
	assert.Equal(t, 401, e.do("POST", "/api/v1/logout", "", admin).status)
}

func TestMethodsAndPaths(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	for _, tc := range []struct{ method, path, allow string }{
		{"POST", "/api/v1/login", "GET"},
		{"GET", "/api/v1/logout", "POST"},
		{"GET", "/api/v1/access/users/link/update", "POST"},
		{"PUT", "/api/v1/access/identifiers/link/delete", "POST"},
		{"DELETE", "/api/v1/apartments/link/91c615e3-1040-4815-8ecb-039a18b756b5", "GET"},
		{"POST", "/api/v1/access/kone/link", "GET"},
		{"GET", "/api/v1/access/decide", "POST"},
	} {
		r := e.doUndocumented(tc.method, tc.path, "", admin)
		assert.Equal(t, 405, r.status, tc.path)
		assert.Equal(t, tc.allow, r.header.Get("Allow"), tc.path)
		assert.JSONEq(t, errJSON(httpadapter.MsgMethodNotAllowed), r.body)
	}
	for _, path := range []string{"/api/v1/", "/api/v1/access/users", "/api/v1/access/users/link/update/more"} {
		r := e.doUndocumented("GET", path, "", admin)
		assert.Equal(t, 404, r.status, path)
		assert.JSONEq(t, errJSON(httpadapter.MsgNotFound), r.body)
	}
}

const (
	linkB5 = "91c615e3-1040-4815-8ecb-039a18b756b5"
	linkB1 = "91c615e3-1040-4815-8ecb-039a18b756b1"
	linkBb = "eae44848-5e81-4861-8e63-861d9bd4ebb3"
)

// The seeds' users examples, over HTTP, JSON-equal.
func TestSeedUsers(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	update := "/api/v1/access/users/link/update"
	r := e.do("POST", update, `{"list_items":[{"link_id":"`+linkB5+`","name":"Alice","auth_factors":["card"]}]}`, admin)
	assert.JSONEq(t, `{"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created","has_dublicates":false}]}`, r.body)

	r = e.do("POST", "/api/v1/access/users/link/delete", `{"link_ids":["`+linkB5+`"]}`, admin)
	require.Equal(t, 200, r.status)
	r = e.do("POST", update, `{"list_items":[{"link_id":"`+linkBb+`","name":"Bob","auth_factors":["card"]}]}`, admin)
	require.Equal(t, 200, r.status, r.body)
	r = e.do("POST", update, `{"list_items":[
		{"link_id":"`+linkB5+`","name":"Alice","auth_factors":["card"]},
		{"link_id":"`+linkBb+`","name":"Bob","auth_factors":["card","input_code"],
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

	r = e.do("POST", update, `{"list_items":[{"link_id":"`+linkB1+`","name":"Carol","auth_factors":["qr"]}]}`, admin)
	require.Equal(t, 200, r.status)
	r = e.do("POST", "/api/v1/access/users/link/delete", `{"link_ids":["`+linkB1+`","`+linkB1+`"]}`, admin)
	assert.JSONEq(t, `{"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b1","extended_info":"deleted","success":true},
		{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b1","success":false,"extended_info":"not_found"}]}`, r.body)
}

// identifier is an identifiers/link/update body of one identifier.
func identifier(linkID, typ, number, valid string) string {
	if valid == "" {
		valid = `{"time":{"is_permanent":true},"passes":{"is_permanent":true}}`
	}
	return `{"list_items":[{"link_id":"` + linkID + `","identifier_type":"` + typ + `","identifier_number":"` + number + `","valid":` + valid + `}]}`
}

// The seed's eight identifier examples, over HTTP, JSON-equal.
func TestSeedIdentifiers(t *testing.T) {
	e := newEnv(t, envConfig{access: []access.Option{access.WithCapabilities(access.Capabilities{FaceID: true, MaxIdentifiers: 2, MaxFaceIdentifiers: 1})}})
	admin := e.login("admin", adminPassword)
	noFaces := newEnv(t, envConfig{access: []access.Option{access.WithCapabilities(access.Capabilities{FaceID: false})}})
	const other1, other2 = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	result := func(success bool, info string) string {
		return fmt.Sprintf(`{"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":%t,"extended_info":%q}]}`, success, info)
	}
	post := "/api/v1/access/identifiers/link/update"
	for _, tc := range []struct {
		name, body, want string
		e                *env
	}{
		{"created", identifier(linkB5, "card", "12345", ""), result(true, "created"), e},
		{"updated", identifier(linkB5, "card", "0A:1B:2C", ""), result(true, "updated"), e},
		{"bad base64", identifier(linkB5, "face_id", "@@", ""), result(false, "bad_base_64_image_file"), e},
		{"no face", identifier(linkB5, "face_id", "noface", ""), result(false, "face_has_not_recognized"), e},
		{"invalid time rules", identifier(linkB5, "card", "12345", `{"time":{"is_permanent":false,"from":200,"to":100},"passes":{"is_permanent":true}}`),
			result(true, "invalid_time_rules_settings"), e},
		{"another face", identifier(other1, "face_id", "face", ""), `{"result":[{"link_id":"` + other1 + `","success":true,"extended_info":"created"}]}`, e},
		{"faces exceeded", identifier(linkB5, "face_id", "face", ""), result(false, "number_of_face_identifiers_exceeded"), e},
		{"identifiers exceeded", identifier(other2, "card", "777", ""), `{"result":[{"link_id":"` + other2 + `","success":false,"extended_info":"number_of_identifiers_exceeded"}]}`, e},
		{"face not supported", identifier(linkB5, "face_id", "face", ""), result(false, "face_id_not_supported"), noFaces},
	} {
		auth := admin
		if tc.e == noFaces {
			auth = noFaces.login("admin", adminPassword)
		}
		r := tc.e.do("POST", post, tc.body, auth)
		assert.Equal(t, 200, r.status, tc.name)
		assert.JSONEq(t, tc.want, r.body, tc.name)
	}
	r := e.do("POST", "/api/v1/access/identifiers/link/delete", `{"link_ids":["`+linkB5+`"]}`, admin)
	require.Contains(t, r.body, `"deleted"`)
	r = e.do("POST", post, identifier(linkB5, "card", "1", ""), admin)
	assert.JSONEq(t, result(true, "created"), r.body, "room again after a delete")
	r = e.do("POST", post, identifier(other2, "card", "777", ""), admin)
	assert.JSONEq(t, `{"result":[{"link_id":"`+other2+`","success":false,"extended_info":"number_of_identifiers_exceeded"}]}`, r.body)
}

func TestWrongBodies(t *testing.T) {
	e := newEnv(t, envConfig{limits: httpadapter.Limits{MaxBodyBytes: 4096, MaxListItems: 3}})
	admin := e.login("admin", adminPassword)
	users, idents := "/api/v1/access/users/link/update", "/api/v1/access/identifiers/link/update"
	user := `{"link_id":"` + linkB5 + `","name":"A","auth_factors":["card"]}`
	tests := []struct{ path, body, want string }{
		{users, ``, "Wrong JSON body"},
		{users, `   `, "Wrong JSON body"},
		{users, `not json`, "Wrong JSON body"},
		{users, `[1,2]`, "Wrong JSON body"},
		{users, `null`, "Wrong JSON body"},
		{users, `"list_items"`, "Wrong JSON body"},
		{users, `{"list_items":[]} trailing`, "Wrong JSON body"},
		{users, `{"list_items":[{"name":"A"}`, "Wrong JSON body"},
		{users, `{}`, "Wrong JSON body: no value for `list_items`"},
		{users, `{"list_items":null}`, "Wrong JSON body: no value for `list_items`"},
		{users, `{"list_items":{}}`, "Wrong JSON body: value `list_items` was of the wrong type"},
		{users, `{"list_items":"x"}`, "Wrong JSON body: value `list_items` was of the wrong type"},
		{users, `{"list_items":[]}`, "List cannot be empty"},
		{users, `{"list_items":[` + user + `,5]}`, "Wrong JSON body: value `list_items[1]` was of the wrong type"},
		{users, `{"list_items":[{"link_id":"` + linkB5 + `","auth_factors":["card"]}]}`, "Wrong JSON body: no value for `list_items[0].name`"},
		{users, `{"list_items":[{"link_id":"` + linkB5 + `","name":"A","auth_factors":[]}]}`, "Wrong JSON body: no value for `list_items[0].auth_factors`"},
		{users, `{"list_items":[` + user + `,{"link_id":"` + linkB5 + `","name":"A","auth_factors":["card"],"lock_number":"one"}]}`,
			"Wrong JSON body: value `list_items[1].lock_number` was of the wrong type"},
		{users, `{"list_items":[{"link_id":"` + linkB5 + `","name":"A","auth_factors":["card",7]}]}`,
			"Wrong JSON body: value `list_items[0].auth_factors` was of the wrong type"},
		{users, `{"list_items":[` + strings.Repeat(user+",", 4) + user + `]}`, "List is too long: 5, at most 3"},
		{idents, `{"list_items":[{"link_id":"` + linkB5 + `","identifier_type":"card","identifier_number":"1","valid":{"time":{"from":"soon"}}}]}`,
			"Wrong JSON body: value `list_items[0].valid.time.from` was of the wrong type"},
		{idents, identifier(linkB5, "card", "12G", ""), "Wrong JSON body: value `list_items[0].identifier_number` was of the wrong type"},
		{"/api/v1/access/users/link/delete", `{"link_ids":[]}`, "List cannot be empty"},
		{"/api/v1/access/users/link/delete", `{"link_ids":["a",5]}`, "Wrong JSON body: value `link_ids[1]` was of the wrong type"},
		{"/api/v1/access/users/link/delete", `{"list_items":["a"]}`, "Wrong JSON body: no value for `link_ids`"},
		{"/api/v1/apartments/link/update", `{"list_items":[{"link_id":"` + linkB5 + `","apartment_address":{"building":0,"unit":0,"floor":0,"room":0}}]}`,
			"Wrong Logical Address"},
		{"/api/v1/apartments/link/update", `{"list_items":[{"link_id":"` + linkB5 + `","apartment_address":{"building":1,"unit":0,"floor":0,"room":1}},
			{"link_id":"` + linkB1 + `","apartment_address":{"building":1,"unit":0,"floor":0,"room":1}}]}`, "Apartment with that Logical Address already exist"},
	}
	for _, tc := range tests {
		r := e.do("POST", tc.path, tc.body, admin)
		assert.Equal(t, 400, r.status, tc.body)
		assert.JSONEq(t, errJSON(tc.want), r.body, tc.body)
	}
	r := e.do("POST", users, `{"list_items":[`+strings.Repeat(`{"name":"padding padding"},`, 200)+`{}]}`, admin)
	assert.Equal(t, 413, r.status)
	assert.JSONEq(t, errJSON(httpadapter.MsgBodyTooLarge), r.body)
}

// A service whose own batch limit is below the adapter's answers in the
// adapter's words.
func TestServiceListLimit(t *testing.T) {
	e := newEnv(t, envConfig{access: []access.Option{access.WithMaxBatch(2)}})
	r := e.do("POST", "/api/v1/access/users/link/delete", `{"link_ids":["a","b","c"]}`, e.login("admin", adminPassword))
	assert.Equal(t, 400, r.status)
	assert.JSONEq(t, errJSON("List is too long: 3, at most 2"), r.body)
}

// Every time-profile message of the seed, as a 400 body, and the seed's
// success.
func TestSeedTimeProfiles(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	profile := func(format string) string {
		return `{"list_items":[{"link_id":"` + linkB5 + `","name":"p","time_options":{"is_all_day":false,"date_from":1767254400,"date_to":1767265200},
			"repeat_options":{"repeat_enable":true,"repeat_format":` + format + `}}]}`
	}
	custom := func(point, looper, options string) string {
		return profile(`{"repeat_type":"custom","repeat_end":{"format":"never"},"repeat_custom":{"repeat_point_type":"` + point + `","repeat_looper":` + looper + `,"repeat_options":` + options + `}}`)
	}
	ord := `{"week_order":"first","day_type":"MON"}`
	for _, tc := range []struct{ want, body string }{
		{"Wrong repeat_type", profile(`{"repeat_type":"often","repeat_end":{"format":"never"}}`)},
		{"Wrong format enum name", profile(`{"repeat_type":"day","repeat_end":{"format":"later"}}`)},
		{"Wrong repeat_point_type enum name", custom("hour", "1", "null")},
		{"Wrong repeat_options enum name", custom("week", "1", `["FUNDAY"]`)},
		{"Wrong repeat_looper range", custom("day", "0", "null")},
		{"Set in WeekOptions can't be empty", custom("week", "1", `[]`)},
		{"Wrong year range", custom("year", "1", `{"months":[1]}`)},
		{"Set in YearOptions can't be empty", custom("year", "1", `{"months":[],"range":`+ord+`}`)},
		{"Wrong DayOfMonth range", custom("month", "1", `{"format":"dayNumbers","range":[40]}`)},
		{"Wrong months range", custom("year", "1", `{"months":[13],"range":`+ord+`}`)},
		{"Set in dayNumbers can't be empty", custom("month", "1", `{"format":"dayNumbers","range":[]}`)},
		{"Wrong Time Profile Uid", strings.Replace(profile(`{"repeat_type":"day","repeat_end":{"format":"never"}}`), linkB5, "uid-1", 1)},
		{"Wrong JSON body: value `list_items[0].repeat_options.repeat_format.repeat_custom.repeat_options` was of the wrong type",
			custom("week", "1", `"MON"`)},
		{"Wrong JSON body: value `list_items[0].name` was of the wrong type", strings.Replace(profile(`{}`), `"name":"p"`, `"name":5`, 1)},
		{"Wrong JSON body: value `list_items[0].time_options.date_from` was of the wrong type",
			strings.Replace(profile(`{}`), `"date_from":1767254400`, `"Date_From":"x"`, 1)},
	} {
		r := e.do("POST", "/api/v1/access/timeprofile/link/update", tc.body, admin)
		assert.Equal(t, 400, r.status, tc.want)
		assert.JSONEq(t, errJSON(tc.want), r.body)
	}
	r := e.do("POST", "/api/v1/access/timeprofile/link/update", profile(`{"repeat_type":"day","repeat_end":{"format":"never"}}`), admin)
	assert.JSONEq(t, `{"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created"}]}`, r.body)
}

// Every entity can be written, read back, listed in pages and deleted.
func TestReads(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	manager := e.login("manager", managerPassword)
	for _, tc := range []struct{ base, item, want string }{
		{"/api/v1/access/users/link", `{"link_id":"%s","name":"Ada","auth_factors":["card"],"lock_number":1}`, `"name":"Ada"`},
		{"/api/v1/access/identifiers/link", `{"link_id":"%s","identifier_type":"card","identifier_number":"0A:1B","lock":"first",
			"valid":{"time":{"is_permanent":true},"passes":{"is_permanent":false,"max_passes":2}}}`, `"passes_left":2`},
		{"/api/v1/access/timeprofile/link", `{"link_id":"%s","name":"weekdays","time_options":{"is_all_day":true,"date_from":1767225600,"date_to":1767225600},
			"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"custom","repeat_end":{"format":"never"},
			"repeat_custom":{"repeat_point_type":"week","repeat_looper":1,"repeat_options":["MON","TUE"]}}}}`, `"repeat_options":["MON","TUE"]`},
		{"/api/v1/apartments/link", `{"link_id":"%s","apartment_name":"12A","apartment_address":{"building":1,"unit":2,"floor":3,"room":4},"residents":{"count":2}}`,
			`"apartment_name":"12A"`},
		{"/api/v1/access/kone/link", `{"link_id":"%s","name":"lobby","areas":[1,2]}`, `"areas":[1,2]`},
	} {
		ids := []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"}
		items := make([]string, len(ids))
		for i, id := range ids {
			items[i] = fmt.Sprintf(tc.item, id)
			if tc.base == "/api/v1/apartments/link" { // apartments need addresses of their own
				items[i] = strings.Replace(items[i], `"room":4`, fmt.Sprintf(`"room":%d`, i), 1)
			}
			if tc.base == "/api/v1/access/identifiers/link" {
				items[i] = strings.Replace(items[i], "0A:1B", fmt.Sprintf("0A:1B:%02d", i), 1)
			}
		}
		r := e.do("POST", tc.base+"/update", `{"list_items":[`+strings.Join(items, ",")+`]}`, admin)
		require.Equal(t, 200, r.status, r.body)
		require.NotContains(t, r.body, `"success":false`, tc.base)

		r = e.do("GET", tc.base+"/"+ids[0], "", manager)
		assert.Equal(t, 200, r.status, tc.base)
		assert.Contains(t, r.body, tc.want, tc.base)
		r = e.do("GET", tc.base+"/"+linkB5, "", manager)
		assert.Equal(t, 404, r.status)
		assert.JSONEq(t, errJSON(httpadapter.MsgNotFound), r.body)

		r = e.do("GET", tc.base+"?limit=2", "", manager)
		assert.Contains(t, r.body, ids[0])
		assert.Contains(t, r.body, `"next":"`+ids[1]+`"`, tc.base)
		r = e.do("GET", tc.base+"?limit=2&after="+ids[1], "", manager)
		assert.Contains(t, r.body, ids[2])
		assert.Contains(t, r.body, `"next":""`)
		for _, limit := range []string{"0", "1001", "x", "-1"} {
			r = e.do("GET", tc.base+"?limit="+limit, "", manager)
			assert.Equal(t, 400, r.status, limit)
			assert.JSONEq(t, errJSON(httpadapter.MsgWrongLimit), r.body)
		}

		r = e.do("POST", tc.base+"/delete", `{"link_ids":["`+strings.Join(ids, `","`)+`"]}`, admin)
		assert.Equal(t, 3, strings.Count(r.body, `"deleted"`), r.body)
		r = e.do("GET", tc.base, "", manager)
		assert.JSONEq(t, `{"list_items":[],"next":""}`, r.body)
	}
}

func TestDecide(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	manager := e.login("manager", managerPassword)
	r := e.do("POST", "/api/v1/access/identifiers/link/update", identifier(linkB5, "card", "0A:1B",
		`{"time":{"is_permanent":false,"from":1700000000,"to":1900000000},"passes":{"is_permanent":false,"max_passes":2}}`), admin)
	require.Equal(t, 200, r.status, r.body)

	decide := `{"identifier_type":"card","identifier_number":"0a-1b","lock":1}`
	// A manager may only read: its decision is a dry run and consumes nothing.
	for range 3 {
		r = e.do("POST", "/api/v1/access/decide", decide, manager)
		assert.JSONEq(t, `{"allow":true,"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","passes_left":2,"reason":"granted","dry_run":true}`, r.body)
	}
	for _, want := range []string{
		`{"allow":true,"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","passes_left":1,"reason":"granted","dry_run":false}`,
		`{"allow":true,"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","passes_left":0,"reason":"granted","dry_run":false}`,
		`{"allow":false,"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","passes_left":0,"reason":"no_passes_left","dry_run":false}`,
	} {
		r = e.do("POST", "/api/v1/access/decide", decide, admin)
		assert.JSONEq(t, want, r.body)
	}
	r = e.do("POST", "/api/v1/access/decide", decide, manager)
	assert.JSONEq(t, `{"allow":false,"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","passes_left":0,"reason":"no_passes_left","dry_run":true}`, r.body)
	r = e.do("POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"0A:1B","lock":2,"at":1600000000}`, manager)
	assert.Contains(t, r.body, `"reason":"not_yet_valid"`, "at is used")
	r = e.do("POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"99","lock":1}`, manager)
	assert.Regexp(t, `^\{"allow":false,"reason":"unknown_credential","link_id":"","passes_left":-?\d+,"dry_run":true\}\n$`, r.body)

	for body, want := range map[string]string{
		``:                                    "Wrong JSON body",
		`{"identifier_number":"1","lock":1}`:  "Wrong JSON body: no value for `identifier_type`",
		`{"identifier_type":"card","lock":1}`: "Wrong JSON body: no value for `identifier_number`",
		`{"identifier_type":"card","identifier_number":"1"}`:                     "Wrong JSON body: no value for `lock`",
		`{"identifier_type":"card","identifier_number":"1","lock":3}`:            "Wrong JSON body: value `lock` was of the wrong type",
		`{"identifier_type":"card","identifier_number":"1","lock":0}`:            "Wrong JSON body: value `lock` was of the wrong type",
		`{"identifier_type":"card","identifier_number":"1","lock":-7}`:           "Wrong JSON body: value `lock` was of the wrong type",
		`{"identifier_type":"card","identifier_number":"1","lock":"1"}`:          "Wrong JSON body: value `lock` was of the wrong type",
		`{"identifier_type":"card","identifier_number":1,"lock":1}`:              "Wrong JSON body: value `identifier_number` was of the wrong type",
		`{"identifier_type":"card","identifier_number":"1","lock":1,"at":"now"}`: "Wrong JSON body: value `at` was of the wrong type",
	} {
		r = e.do("POST", "/api/v1/access/decide", body, manager)
		assert.Equal(t, 400, r.status, body)
		assert.JSONEq(t, errJSON(want), r.body, body)
	}
}

// A store that fails is an internal error: logged, answered 500 without
// details.
func TestInternalError(t *testing.T) {
	var log bytes.Buffer
	e := newEnv(t, envConfig{logTo: &log})
	admin := e.login("admin", adminPassword)
	require.NoError(t, e.st.Close())
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v1/access/users/link/update", `{"list_items":[{"link_id":"` + linkB5 + `","name":"A","auth_factors":["card"]}]}`},
		{"GET", "/api/v1/access/users/link/" + linkB5, ""},
		{"GET", "/api/v1/access/users/link", ""},
		{"POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"1","lock":1}`},
		{"GET", "/api/v1/login?username=admin&password=" + md5hex(adminPassword), ""},
	} {
		r := e.do(tc.method, tc.path, tc.body, admin)
		assert.Equal(t, 500, r.status, tc.path)
		assert.JSONEq(t, errJSON(httpadapter.MsgInternal), r.body)
	}
	assert.Contains(t, log.String(), "level=ERROR msg=\"request failed\"")
}

// The request log has what an operator needs and no secret: no password
// hash, token, PIN or photo.
func TestRequestLog(t *testing.T) {
	var log bytes.Buffer
	e := newEnv(t, envConfig{logTo: &log})
	admin := e.login("admin", adminPassword)
	e.do("POST", "/api/v1/access/identifiers/link/update", identifier(linkB5, "inputCode", "918273", ""), admin)
	e.do("POST", "/api/v1/access/identifiers/link/update", identifier(linkB1, "face_id", "face", ""), admin)
	e.do("PUT", "/api/dir/create", `{"users":[{"name":"x","access":{"pin":"4455"}}]}`, basic("admin", adminPassword))
	out := log.String()
	assert.Contains(t, out, `msg=request method=GET path=/api/v1/login status=200`)
	assert.Contains(t, out, `path=/api/v1/access/identifiers/link/update status=200`)
	assert.Contains(t, out, `user=admin`)
	assert.Contains(t, out, `path=/api/dir/create status=200`)
	for _, secret := range []string{md5hex(adminPassword), strings.ToUpper(md5hex(adminPassword)), strings.TrimPrefix(admin["Authorization"], "Bearer "),
		"918273", "4455", "face", adminPassword} {
		assert.NotContains(t, out, secret)
	}
}

// Many clients at once on every kind of route, for the race detector.
func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 8 {
				id := fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", w, i)
				number := fmt.Sprint(w*100 + i + 1)
				r := e.do("POST", "/api/v1/access/identifiers/link/update", identifier(id, "card", number, ""), admin)
				assert.Equal(t, 200, r.status)
				r = e.do("POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"`+number+`","lock":1}`, admin)
				assert.Contains(t, r.body, `"allow":true`)
				r = e.do("PUT", "/api/dir/create", `{"users":[{"name":"n`+number+`"}]}`, basic("admin", adminPassword))
				assert.Contains(t, r.body, `"success":true`)
			}
		})
	}
	wg.Go(func() {
		for range 8 {
			r := e.do("POST", "/api/dir/query", `{"series":"`+series+`","iterator":{"timestamp":0}}`, basic("manager", managerPassword))
			assert.Contains(t, r.body, `"success":true`)
			e.do("GET", "/api/v1/access/identifiers/link?limit=5", "", admin)
		}
	})
	wg.Wait()
	r := e.do("POST", "/api/dir/query", `{"series":"`+series+`","iterator":{"timestamp":0}}`, basic("manager", managerPassword))
	assert.Equal(t, 48, strings.Count(r.body, `"timestamp"`), "every entry, each with its own timestamp")
	assert.Contains(t, r.body, `"timestamp":48`, "timestamps run 1..48 without a gap")
}
