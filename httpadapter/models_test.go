package httpadapter_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/directory"
)

// Each 2N model, as a client sees it over HTTP: system/info names its
// firmwarePackage, /api/dir/template answers its template, and a field it
// lacks is EDIR_FIELD_NOT_AVAILABLE (2N's test suite: recordType on
// anything but style, buttons on style).
func TestEveryModelOverHTTP(t *testing.T) {
	for _, name := range directory.Models() {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, envConfig{model: name})
			admin := basic("admin", adminPassword)
			info := py2nCall(t, e, "GET", "/api/system/info", "", nil)
			assert.Equal(t, name, info["firmwarePackage"])

			r := e.do("GET", "/api/dir/template", "", admin)
			var tpl struct {
				Result struct {
					Users []map[string]json.RawMessage `json:"users"`
				} `json:"result"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.body), &tpl), r.body)
			require.Len(t, tpl.Result.Users, 1)
			fields := tpl.Result.Users[0]
			_, hasRecordType := fields["recordType"]
			_, hasButtons := fields["buttons"]
			assert.Equal(t, name == "style", hasRecordType)
			assert.Equal(t, name != "style" && name != "accessunit", hasButtons)

			for field, available := range map[string]bool{"recordType": hasRecordType, "buttons": hasButtons} {
				value := `"1"`
				r := e.do("PUT", "/api/dir/create", `{"users":[{"name":"N","`+field+`":`+value+`}]}`, admin)
				if available {
					assert.NotContains(t, r.body, "EDIR_", "%s %s", field, r.body)
				} else {
					assert.Contains(t, r.body, `"EDIR_FIELD_NOT_AVAILABLE"`, field)
					assert.Contains(t, r.body, `"field":"`+field+`"`, field)
				}
			}
			// The code count follows the model: uni 1, base and accessunit 2, others 4.
			codes := strings.Count(string(fields["access"]), `"code"`)
			if codes == 1 {
				var access struct{ Code []string }
				require.NoError(t, json.Unmarshal(fields["access"], &access))
				want := map[string]int{"uni": 1, "base": 2, "accessunit": 2}[name]
				if want == 0 {
					want = 4
				}
				assert.Len(t, access.Code, want)
			}
		})
	}
}
