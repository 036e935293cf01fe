package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/store/memory"
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

// FuzzDecide shows arbitrary numbers of every type at either door (and at
// doors that do not exist) to a Service whose cache lives as long as the
// fuzzing process, so that it fills with credentials and unknown numbers
// up to its bounds. Each answer must be the same asked twice, and the
// same as a Service with an empty cache gives; a grant must be of an
// identifier the store has; a door other than 1 or 2 is ErrInvalidDoor.
func FuzzDecide(f *testing.F) {
	ctx := context.Background()
	st := memory.New()
	warm, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
	if err != nil {
		f.Fatal(err)
	}
	const (
		linkCard  = "00000000-0000-4000-8000-0000000000c1"
		linkHex   = "00000000-0000-4000-8000-0000000000c2"
		linkPIN   = "00000000-0000-4000-8000-0000000000c3"
		linkQR    = "00000000-0000-4000-8000-0000000000c4"
		linkPlate = "00000000-0000-4000-8000-0000000000c5"
		qr        = "eae44848-5e81-4861-8e63-861d9bd4ebb3"
	)
	ids := []access.Identifier{
		card(linkCard, "4242"),
		card(linkHex, "0A:1B:2C:3D"),
		{LinkID: linkPIN, Type: access.InputCode, Number: "123456"},
		{LinkID: linkQR, Type: access.QR, Number: qr},
		{LinkID: linkPlate, Type: access.LicensePlate, Number: "AB 123 C"},
	}
	for i := range ids[2:] {
		ids[2+i].Valid.Time.IsPermanent, ids[2+i].Valid.Passes.IsPermanent = true, true
	}
	ids[1].Lock = access.LockSecond
	results, err := warm.UpsertIdentifiers(ctx, ids)
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range results {
		if !r.Success {
			f.Fatalf("%+v", r)
		}
	}
	for _, r := range []access.Request{
		{Type: access.Card, Number: "4242", Lock: access.FirstDoor},
		{Type: access.Card, Number: "0a-1b-2c-3d", Lock: access.SecondDoor},
		{Type: access.InputCode, Number: "123456", Lock: access.FirstDoor},
		{Type: access.QR, Number: strings.ToUpper(qr), Lock: access.FirstDoor},
		{Type: access.LicensePlate, Number: "ab 123 c", Lock: access.FirstDoor},
	} {
		r.At = morning
		if d, err := warm.Check(ctx, r); err != nil || !d.Allow {
			f.Fatalf("%+v: %+v %v", r, d, err)
		}
	}
	known := map[string]bool{linkCard: true, linkHex: true, linkPIN: true, linkQR: true, linkPlate: true}
	types := []access.IdentifierType{access.Card, access.UKey, access.InputCode, access.QR, access.LicensePlate, access.FaceID}
	f.Add(uint8(0), "4242", uint8(1))
	f.Add(uint8(0), "0a-1b-2c-3d", uint8(2))
	f.Add(uint8(1), "0A:1B:2C:3D", uint8(1))
	f.Add(uint8(2), "123456", uint8(1))
	f.Add(uint8(3), "EAE44848-5E81-4861-8E63-861D9BD4EBB3", uint8(2))
	f.Add(uint8(4), " ab 123 c ", uint8(1))
	f.Add(uint8(5), linkCard, uint8(1))
	f.Add(uint8(0), "4243", uint8(3))
	f.Fuzz(func(t *testing.T, typ uint8, number string, door uint8) {
		r := access.Request{Type: types[int(typ)%len(types)], Number: number, Lock: access.Door(door), At: morning}
		first, err := warm.Check(ctx, r)
		if !r.Lock.Valid() {
			if !errors.Is(err, access.ErrInvalidDoor) {
				t.Fatalf("door %d: %v", door, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		again, err := warm.Check(ctx, r)
		if err != nil || again != first {
			t.Fatalf("asked again: %+v %v, first %+v", again, err, first)
		}
		cold, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := cold.Check(ctx, r)
		if err != nil || fresh != first {
			t.Fatalf("an empty cache says %+v %v, the warm one %+v", fresh, err, first)
		}
		if first.Allow && !known[first.IdentifierLinkID] {
			t.Fatalf("granted %+v", first)
		}
	})
}
