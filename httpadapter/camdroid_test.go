package httpadapter_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
)

// camdroidClient performs, request for request, what the one public
// client of the Camdroid family (a gym system's BasIpSyncService) sends:
// a login with the upper-case MD5 of the password, identifiers pushed
// one per request with apartment_link_id = link_id, a lookup of the uid
// by link_id, and a delete by link_ids. It checks every answer as that
// client reads it.
type camdroidClient struct {
	t *testing.T
	e *env
}

func (c camdroidClient) authenticate(user, password string) map[string]string {
	md5 := strings.ToUpper(md5hex(password))
	r := c.e.do("GET", "/api/v1/login?username="+url.QueryEscape(user)+"&password="+url.QueryEscape(md5), "", map[string]string{"Accept": "application/json"})
	require.Equal(c.t, 200, r.status, r.body)
	var out struct {
		Token *string `json:"token"`
	}
	require.NoError(c.t, json.Unmarshal([]byte(r.body), &out))
	require.NotNil(c.t, out.Token)
	return map[string]string{"Authorization": "Bearer " + *out.Token, "Accept": "application/json"}
}

// formatCardNumber is the client's: upper case, pairs joined with ':'.
func formatCardNumber(tag string) string {
	clean := strings.NewReplacer(":", "", "-", "", " ", "").Replace(strings.ToUpper(tag))
	var pairs []string
	for i := 0; i+2 <= len(clean); i += 2 {
		pairs = append(pairs, clean[i:i+2])
	}
	return strings.Join(pairs, ":")
}

func (c camdroidClient) push(auth map[string]string, typ, number, linkID, name string, from, to int64) {
	body := map[string]any{"list_items": []any{map[string]any{
		"identifier_owner":  map[string]any{"name": name, "type": "owner"},
		"identifier_type":   typ,
		"identifier_number": number,
		"lock":              "first",
		"valid": map[string]any{
			"time":   map[string]any{"is_permanent": false, "from": from, "to": to},
			"passes": map[string]any{"is_permanent": true},
		},
		"link_id":           linkID,
		"apartment_link_id": linkID,
	}}}
	raw, err := json.Marshal(body)
	require.NoError(c.t, err)
	r := c.e.do("POST", "/api/v1/access/identifier/items/link", string(raw), auth)
	require.Equal(c.t, 200, r.status, r.body) // the client checks res.ok only
	assert.JSONEq(c.t, fmt.Sprintf(`{"result":[{"link_id":%q,"success":true,"extended_info":"created"}]}`, linkID), r.body)
}

func (c camdroidClient) lookupUID(auth map[string]string, linkID string) (int64, bool) {
	r := c.e.do("GET", "/api/v1/access/identifier/items/link?link_id="+url.QueryEscape(linkID)+"&limit=1&page_number=1", "", auth)
	require.Equal(c.t, 200, r.status, r.body)
	var out struct {
		ListItems []struct {
			UID *int64 `json:"uid"`
		} `json:"list_items"`
	}
	require.NoError(c.t, json.Unmarshal([]byte(r.body), &out))
	if len(out.ListItems) == 0 || out.ListItems[0].UID == nil {
		return 0, false
	}
	return *out.ListItems[0].UID, true
}

func (c camdroidClient) remove(auth map[string]string, linkID string) {
	r := c.e.do("DELETE", "/api/v1/access/identifier/items/link", `{"link_ids":["`+linkID+`"]}`, auth)
	require.Equal(c.t, 200, r.status, r.body)
	assert.JSONEq(c.t, fmt.Sprintf(`{"result":[{"link_id":%q,"success":true,"extended_info":"deleted"}]}`, linkID), r.body)
}

func TestCamdroidClientReplay(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := camdroidClient{t: t, e: e}
	auth := c.authenticate("admin", adminPassword)
	member1 := "5f0c4a52-8f4e-4e55-9d2a-0c5e0ad0b001"
	member2 := "5f0c4a52-8f4e-4e55-9d2a-0c5e0ad0b002"
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC).Unix()

	c.push(auth, "qr", member1, member1, "Ada Member", from, to)
	uid1, ok := c.lookupUID(auth, member1)
	require.True(t, ok)
	assert.Equal(t, int64(1), uid1)

	card := formatCardNumber("04a1b2c3")
	require.Equal(t, "04:A1:B2:C3", card)
	c.push(auth, "card", card, member2, "Bob Member", from, to)
	uid2, ok := c.lookupUID(auth, member2)
	require.True(t, ok)
	assert.Equal(t, int64(2), uid2)

	// What was pushed decides at the door, the card in any spelling.
	for _, n := range []string{"04:A1:B2:C3", "04-a1-b2-c3"} {
		r := e.do("POST", "/api/v1/access/decide", `{"identifier_type":"card","identifier_number":"`+n+`","lock":1}`, auth)
		assert.Contains(t, r.body, `"allow":true`, n)
	}
	r := e.do("POST", "/api/v1/access/decide", `{"identifier_type":"qr","identifier_number":"`+member1+`","lock":2}`, auth)
	assert.Contains(t, r.body, `"reason":"wrong_lock"`, "lock first opens the first lock only")

	c.remove(auth, member2)
	_, ok = c.lookupUID(auth, member2)
	assert.False(t, ok, "a deleted identifier is gone from the list")
	uid1again, ok := c.lookupUID(auth, member1)
	require.True(t, ok)
	assert.Equal(t, uid1, uid1again)

	// The client's lower-case spelling of the hash logs in too.
	r = e.do("GET", "/api/v1/login?username=admin&password="+md5hex(adminPassword), "", nil)
	assert.Equal(t, 200, r.status)
}

// The Camdroid family's batches are the Android routes' batches: the same
// messages for a bad body, the same admin rule.
func TestCamdroidBatchesShareTheAndroidRules(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin, manager := e.login("admin", adminPassword), e.login("manager", managerPassword)
	for _, path := range []string{"/api/v1/access/identifier/items/link", "/api/v1/apartment/items/link", "/api/v1/access/timeprofile/items/link"} {
		r := e.do("POST", path, `{"list_items":[]}`, admin)
		assert.Equal(t, 400, r.status, path)
		assert.JSONEq(t, `{"error":"List cannot be empty"}`, r.body, path)
		r = e.do("POST", path, `{"list_items":[{}]}`, admin)
		assert.Equal(t, 400, r.status, path)
		if !strings.Contains(path, "timeprofile") { // a time profile without link_id has its own message
			assert.Contains(t, r.body, "Wrong JSON body: no value for `list_items[0].", path)
		}
		r = e.do("DELETE", path, `{"link_ids":["`+linkB5+`"]}`, manager)
		assert.Equal(t, 403, r.status, path)
		r = e.do("DELETE", path, `{"link_ids":["`+linkB5+`"]}`, admin)
		assert.JSONEq(t, `{"result":[{"link_id":"`+linkB5+`","success":false,"extended_info":"not_found"}]}`, r.body, path)
		r = e.do("GET", path, "", manager)
		assert.Equal(t, 200, r.status, path)
		assert.Contains(t, r.body, `"pagination":{"current_page":1,"items_limit":10,"total_items":0,"total_pages":0}`, path)
	}
}

// GET pages by limit and page_number, and takes the vendor's filter and
// order_by: each of the vendor's examples as written.
func TestCamdroidPagesFilterAndOrder(t *testing.T) {
	e := newEnv(t, envConfig{})
	admin := e.login("admin", adminPassword)
	var items []string
	for i := range 25 {
		name := fmt.Sprintf("Flat %02d", i)
		if i == 7 {
			name = "Sherlock Holmes"
		}
		building := 200 + i
		items = append(items, fmt.Sprintf(`{"link_id":"00000000-0000-4000-8000-%012d","apartment_address":{"building":%d,"unit":1,"floor":%d,"room":%d},"apartment_name":%q,"residents":{"count":%d}}`,
			i+1, building, i%20, i, name, i%4))
	}
	r := e.do("POST", "/api/v1/apartment/items/link", `{"list_items":[`+strings.Join(items, ",")+`]}`, admin)
	require.Equal(t, 200, r.status, r.body)

	type page struct {
		ListItems []struct {
			Name    string `json:"apartment_name"`
			Address struct {
				Building int `json:"building"`
				Floor    int `json:"floor"`
			} `json:"apartment_address"`
		} `json:"list_items"`
		ListOption struct {
			Pagination struct {
				TotalItems  int `json:"total_items"`
				ItemsLimit  int `json:"items_limit"`
				TotalPages  int `json:"total_pages"`
				CurrentPage int `json:"current_page"`
			} `json:"pagination"`
			Filter struct {
				IsFiltered bool `json:"is_filtered"`
			} `json:"filter"`
			Sort struct {
				IsSorted bool   `json:"is_sorted"`
				Order    string `json:"order"`
			} `json:"sort"`
		} `json:"list_option"`
	}
	get := func(query url.Values) (page, int) {
		t.Helper()
		r := e.do("GET", "/api/v1/apartment/items/link?"+query.Encode(), "", admin)
		var p page
		if r.status == 200 {
			require.NoError(t, json.Unmarshal([]byte(r.body), &p), r.body)
		}
		return p, r.status
	}
	names := func(p page) []string {
		var out []string
		for _, it := range p.ListItems {
			out = append(out, it.Name)
		}
		return out
	}

	p, _ := get(url.Values{"limit": {"10"}, "page_number": {"3"}})
	assert.Equal(t, []string{"Flat 20", "Flat 21", "Flat 22", "Flat 23", "Flat 24"}, names(p))
	assert.Equal(t, 25, p.ListOption.Pagination.TotalItems)
	assert.Equal(t, 3, p.ListOption.Pagination.TotalPages)
	assert.Equal(t, 3, p.ListOption.Pagination.CurrentPage)

	tests := []struct {
		filter, order string
		want          []string
	}{
		{"apartment_name eq 'Sherlock Holmes'", "", []string{"Sherlock Holmes"}},
		{"building gt 222", "", []string{"Flat 23", "Flat 24"}},
		{"building lt 202", "", []string{"Flat 00", "Flat 01"}},
		{"apartment_name nq 'Sherlock Holmes' and building lt 203", "", []string{"Flat 00", "Flat 01", "Flat 02"}},
		{"floor ge 18", "", []string{"Flat 18", "Flat 19"}},
		{"floor le 0", "", []string{"Flat 00", "Flat 20"}},
		{"floor le 10 and floor gt 8", "", []string{"Flat 09", "Flat 10"}},
		{"floor le 0 or floor gt 18", "", []string{"Flat 00", "Flat 19", "Flat 20"}},
		{"not floor le 18", "", []string{"Flat 19"}},
		{"(apartment_name eq 'Sherlock Holmes' or building eq 221) and floor gt 10", "", nil}, // Sherlock is on floor 7, 221 on floor 1
		{"(apartment_name eq 'Sherlock Holmes' or building eq 221) and floor gt 0", "", []string{"Sherlock Holmes", "Flat 21"}},
		{"building ge 220", "building desc", []string{"Flat 24", "Flat 23", "Flat 22", "Flat 21", "Flat 20"}},
		{"building ge 220", "floor, building asc", []string{"Flat 20", "Flat 21", "Flat 22", "Flat 23", "Flat 24"}},
		{"building ge 221", "desc", []string{"Flat 24", "Flat 23", "Flat 22", "Flat 21"}},
	}
	for _, tc := range tests {
		p, status := get(url.Values{"limit": {"50"}, "filter": {tc.filter}, "order_by": {tc.order}})
		require.Equal(t, 200, status, tc.filter)
		assert.Equal(t, tc.want, names(p), "%s / %s", tc.filter, tc.order)
		assert.True(t, p.ListOption.Filter.IsFiltered)
		assert.Equal(t, tc.order != "", p.ListOption.Sort.IsSorted)
	}

	for _, q := range []url.Values{{"link_id": {""}}, {"link_id": {"not-a-uuid"}}, {"link_id": {"00000000-0000-4000-8000-000000000099"}}} {
		p, status := get(q)
		assert.Equal(t, 200, status, q.Encode())
		assert.Empty(t, p.ListItems, q.Encode())
	}
	p, _ = get(url.Values{"link_id": {"00000000-0000-4000-8000-000000000008"}})
	assert.Equal(t, []string{"Sherlock Holmes"}, names(p))
	p, _ = get(url.Values{"filter": {"link_id eq '00000000-0000-4000-8000-000000000008' and floor gt 10"}})
	assert.Empty(t, names(p), "the rest of the filter still applies to the one entity")

	for _, q := range []url.Values{
		{"limit": {"0"}}, {"limit": {"51"}}, {"limit": {"x"}}, {"page_number": {"0"}},
		{"filter": {"nonsense eq 1"}}, {"filter": {"floor gt 'x'"}}, {"filter": {"(floor gt 1"}}, {"order_by": {"nonsense"}},
	} {
		_, status := get(q)
		assert.Equal(t, 400, status, q.Encode())
	}
}

// An identifier reads alike whether link_id finds it or the scan does:
// without its face photo and passes_left, as the list has it.
func TestCamdroidLinkIDAndScanAgree(t *testing.T) {
	e := newEnv(t, envConfig{access: []access.Option{access.WithCapabilities(access.Capabilities{FaceID: true})}})
	admin := e.login("admin", adminPassword)
	const face, limited = "00000000-0000-4000-8000-0000000000f1", "00000000-0000-4000-8000-0000000000f2"
	for _, body := range []string{
		identifier(face, "face_id", "face", ""),
		identifier(limited, "card", "4242", `{"time":{"is_permanent":true},"passes":{"is_permanent":false,"max_passes":3}}`),
	} {
		r := e.do("POST", "/api/v1/access/identifier/items/link", body, admin)
		require.Contains(t, r.body, `"success":true`, r.body)
	}
	item := func(query string) string {
		r := e.do("GET", "/api/v1/access/identifier/items/link?"+query, "", admin)
		require.Equal(t, 200, r.status, r.body)
		var page struct {
			ListItems []json.RawMessage `json:"list_items"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.body), &page))
		require.Len(t, page.ListItems, 1, r.body)
		return string(page.ListItems[0])
	}
	for _, id := range []string{face, limited} {
		byLinkID := item("link_id=" + id)
		scanned := item("filter=" + url.QueryEscape("link_id eq '"+id+"' or link_id eq 'none'"))
		assert.JSONEq(t, scanned, byLinkID, id)
		assert.NotContains(t, byLinkID, "passes_left", id)
	}
}
