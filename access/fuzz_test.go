package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/lintelhq/lintel/access"
)

// FuzzUpsert decodes arbitrary list_items for users and identifiers and
// runs them through validation and the batch: the answer is a request
// error of a documented kind, or one or more results per item; never a
// panic or an undocumented error.
func FuzzUpsert(f *testing.F) {
	f.Add([]byte(`[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"A","auth_factors":["card"]}]`), true)
	f.Add([]byte(`[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"","auth_factors":[]}]`), true)
	f.Add([]byte(`[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","identifier_type":"card","identifier_number":"0A:1B",
		"valid":{"time":{"is_permanent":false,"from":5,"to":1},"passes":{"is_permanent":false,"max_passes":0}},
		"time_profiles":{"link_ids":["eae44848-5e81-4861-8e63-861d9bd4ebb3"]}}]`), false)
	f.Add([]byte(`[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","identifier_type":"face_id","identifier_number":"noface"}]`), false)
	f.Fuzz(func(t *testing.T, items []byte, users bool) {
		s := newService(t, access.WithMaxBatch(50))
		var results []access.Result
		var err error
		n := 0
		if users {
			var list []access.User
			if json.Unmarshal(items, &list) != nil {
				return
			}
			n = len(list)
			results, err = s.UpsertUsers(context.Background(), list)
		} else {
			var list []access.Identifier
			if json.Unmarshal(items, &list) != nil {
				return
			}
			n = len(list)
			results, err = s.UpsertIdentifiers(context.Background(), list)
		}
		var (
			item    *access.ItemError
			tooMany *access.TooManyItemsError
		)
		switch {
		case err == nil:
			if len(results) < n {
				t.Fatalf("%d results for %d items", len(results), n)
			}
		case errors.Is(err, access.ErrWrongJSONBody), errors.Is(err, access.ErrListEmpty),
			errors.As(err, &tooMany), errors.As(err, &item):
		default:
			t.Fatalf("undocumented error: %v", err)
		}
	})
}
