package access_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/store/memory"
	"github.com/lintelhq/lintel/timeprofile"
)

const (
	seedA = "91c615e3-1040-4815-8ecb-039a18b756b5"
	seedB = "eae44848-5e81-4861-8e63-861d9bd4ebb3"
	seedD = "91c615e3-1040-4815-8ecb-039a18b756b1"
	other = "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
	tpID  = "7f0c2c7e-2b43-4b8e-9a55-1f2d3c4b5a69"
)

// fakeFaces accepts payloads "face", calls "noface" faceless and the rest bad.
type fakeFaces struct{}

func (fakeFaces) CheckFace(_ context.Context, payload string) error {
	switch payload {
	case "face":
		return nil
	case "noface":
		return access.ErrNoFace
	}
	return access.ErrFaceUnreadable
}

func newService(t testing.TB, opts ...access.Option) *access.Service {
	t.Helper()
	opts = append([]access.Option{access.WithFaceChecker(fakeFaces{})}, opts...)
	s, err := access.New(context.Background(), memory.New(), opts...)
	require.NoError(t, err)
	return s
}

func user(linkID, name string) access.User {
	return access.User{LinkID: linkID, Name: name, AuthFactors: []access.AuthFactor{access.FactorCard}}
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestExtendedInfoSpellings(t *testing.T) {
	want := map[access.ExtendedInfo]string{
		access.Created: "created", access.Updated: "updated", access.Deleted: "deleted",
		access.EntityNotFound: "entity_not_found", access.NotFound: "not_found", access.HasDuplicates: "has_dublicates",
		access.NumberTakenByAnotherIdentifier: "number_taken_by_another_identifier",
		access.BadBase64ImageFile:             "bad_base_64_image_file", access.FaceHasNotRecognized: "face_has_not_recognized",
		access.BoundTimeProfileDoesntExist: "bound_time_profile_doesnt_exist", access.BoundApartmentDoesntExist: "bound_apartment_doesnt_exist",
		access.BoundIdentifierDoesntExist: "bound_identifier_doesnt_exist", access.BoundKoneRuleDoesntExist: "bound_kone_rule_doesnt_exist",
		access.FaceIDNotSupported: "face_id_not_supported", access.NumberOfFaceIdentifiersExceeded: "number_of_face_identifiers_exceeded",
		access.NumberOfIdentifiersExceeded: "number_of_identifiers_exceeded", access.InvalidTimeRulesSettings: "invalid_time_rules_settings",
		access.WrongAreas: "wrong_areas", access.WrongRule: "wrong_rule",
	}
	for c, s := range want {
		assert.Equal(t, s, string(c))
	}
	assert.Equal(t, "Wrong JSON body", access.ErrWrongJSONBody.Error())
	assert.Equal(t, "List cannot be empty", access.ErrListEmpty.Error())
	assert.Equal(t, "Wrong Logical Address", access.ErrWrongLogicalAddress.Error())
	assert.Equal(t, "Apartment with that Logical Address already exist", access.ErrAddressTaken.Error())
	assert.Equal(t, "access: item 0: no value for `name`", (&access.ItemError{Field: "name", Missing: true, Err: access.ErrWrongJSONBody}).Error())
	assert.Equal(t, "access: item 2: value `lock` was of the wrong type", (&access.ItemError{Index: 2, Field: "lock", Err: access.ErrWrongJSONBody}).Error())
	assert.Equal(t, "access: item 1: Wrong Logical Address", (&access.ItemError{Index: 1, Err: access.ErrWrongLogicalAddress}).Error())
	assert.Equal(t, "access: 3 items in one batch, at most 2", (&access.TooManyItemsError{N: 3, Max: 2}).Error())
	// The result's wire name keeps the vendor's spelling.
	dup := false
	assert.JSONEq(t, `{"link_id":"x","success":true,"extended_info":"created","has_dublicates":false}`,
		jsonOf(t, access.Result{LinkID: "x", Success: true, ExtendedInfo: access.Created, HasDuplicates: &dup}))
}

// The seed users-link-update.txt, first example.
func TestSeedUserCreated(t *testing.T) {
	s := newService(t)
	rs, err := s.UpsertUsers(context.Background(), []access.User{user(seedA, "Alice")})
	require.NoError(t, err)
	assert.JSONEq(t, `[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created","has_dublicates":false}]`, jsonOf(t, rs))
}

// The seed users-link-update.txt, second example: one created, one updated
// with a warning for each kind of missing bound entity.
func TestSeedUserUpdatedWithWarnings(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	_, err := s.UpsertUsers(ctx, []access.User{user(seedB, "Bob")})
	require.NoError(t, err)
	bob := user(seedB, "Bob")
	bob.ApartmentLinkID, bob.KoneRuleLinkID = other, other
	bob.TimeProfileLinkIDs, bob.IdentifierLinkIDs = []string{other}, []string{other}
	rs, err := s.UpsertUsers(ctx, []access.User{user(seedA, "Alice"), bob})
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"updated","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"bound_apartment_doesnt_exist","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"bound_time_profile_doesnt_exist","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"bound_identifier_doesnt_exist","has_dublicates":false},
		{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"bound_kone_rule_doesnt_exist","has_dublicates":false}
	]`, jsonOf(t, rs))
	got, err := s.GetUser(ctx, seedB)
	require.NoError(t, err)
	assert.Equal(t, bob, got, "the user is saved despite the warnings")
}

func TestUserDuplicatesByName(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	rs, err := s.UpsertUsers(ctx, []access.User{user(seedA, "Anna"), user(seedB, "Anna"), user(other, "Other")})
	require.NoError(t, err)
	require.Len(t, rs, 3)
	assert.False(t, *rs[0].HasDuplicates, "no other Anna yet")
	assert.True(t, *rs[1].HasDuplicates)
	assert.False(t, *rs[2].HasDuplicates)
	// Renaming the second Anna ends the duplication.
	rs, err = s.UpsertUsers(ctx, []access.User{user(seedB, "Hanna"), user(seedA, "Anna")})
	require.NoError(t, err)
	assert.Equal(t, access.Updated, rs[0].ExtendedInfo)
	assert.False(t, *rs[1].HasDuplicates)
}

func TestRequestErrorsRejectTheWholeBatch(t *testing.T) {
	ctx := context.Background()
	noName := user(seedB, "")
	noFactors := user(seedB, "B")
	noFactors.AuthFactors = nil
	emptyFactors := user(seedB, "B")
	emptyFactors.AuthFactors = []access.AuthFactor{}
	badFactor := user(seedB, "B")
	badFactor.AuthFactors = []access.AuthFactor{"retina"}
	badLock := user(seedB, "B")
	badLock.LockNumber = 3
	badLink := user("not-a-uuid", "B")
	tests := []struct {
		name string
		bad  access.User
		want *access.ItemError
	}{
		{"missing name", noName, missing(1, "name")},
		{"missing auth_factors", noFactors, missing(1, "auth_factors")},
		{"empty auth_factors", emptyFactors, missing(1, "auth_factors")},
		{"unknown auth factor", badFactor, wrong(1, "auth_factors[0]")},
		{"lock_number 3", badLock, wrong(1, "lock_number")},
		{"link_id not a uuid", badLink, wrong(1, "link_id")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t)
			_, err := s.UpsertUsers(ctx, []access.User{user(seedA, "A"), tc.bad})
			require.ErrorIs(t, err, access.ErrWrongJSONBody)
			assert.Equal(t, tc.want, itemError(t, err))
			_, err = s.GetUser(ctx, seedA)
			assert.ErrorIs(t, err, access.ErrNotFound, "nothing of the batch is written")
		})
	}
	s := newService(t)
	_, err := s.UpsertUsers(ctx, nil)
	assert.ErrorIs(t, err, access.ErrListEmpty)
	assert.Equal(t, "List cannot be empty", err.Error())
	_, err = s.DeleteUsers(ctx, []string{})
	assert.Equal(t, "List cannot be empty", err.Error())

	small := newService(t, access.WithMaxBatch(2))
	_, err = small.UpsertUsers(ctx, []access.User{user(seedA, "A"), user(seedB, "B"), user(other, "C")})
	var tooMany *access.TooManyItemsError
	require.ErrorAs(t, err, &tooMany)
	assert.Equal(t, access.TooManyItemsError{N: 3, Max: 2}, *tooMany)
}

func missing(i int, field string) *access.ItemError {
	return &access.ItemError{Index: i, Field: field, Missing: true, Err: access.ErrWrongJSONBody}
}

func wrong(i int, field string) *access.ItemError {
	return &access.ItemError{Index: i, Field: field, Err: access.ErrWrongJSONBody}
}

// itemError is err as the *access.ItemError it must be.
func itemError(t testing.TB, err error) *access.ItemError {
	t.Helper()
	var item *access.ItemError
	require.ErrorAs(t, err, &item)
	return item
}

// The seed users-link-delete.txt example: the same link_id twice.
func TestSeedDelete(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	_, err := s.UpsertUsers(ctx, []access.User{user(seedD, "D")})
	require.NoError(t, err)
	rs, err := s.DeleteUsers(ctx, []string{seedD, seedD})
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b1","extended_info":"deleted","success":true},
		{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b1","success":false,"extended_info":"not_found"}
	]`, jsonOf(t, rs))
	_, err = s.GetUser(ctx, seedD)
	assert.ErrorIs(t, err, access.ErrNotFound)
}

func TestListPages(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	ids := []string{seedD, seedA, seedB, other, tpID}
	var users []access.User
	for _, id := range ids {
		users = append(users, user(id, id[:4]))
	}
	_, err := s.UpsertUsers(ctx, users)
	require.NoError(t, err)
	var seen []string
	page := access.Page{Limit: 2}
	for {
		got, next, err := s.ListUsers(ctx, page)
		require.NoError(t, err)
		for _, u := range got {
			seen = append(seen, u.LinkID)
		}
		if next == "" {
			break
		}
		page.After = next
	}
	assert.Equal(t, []string{"0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", "7f0c2c7e-2b43-4b8e-9a55-1f2d3c4b5a69",
		"91c615e3-1040-4815-8ecb-039a18b756b1", "91c615e3-1040-4815-8ecb-039a18b756b5", "eae44848-5e81-4861-8e63-861d9bd4ebb3"}, seen)
}

func card(linkID, number string) access.Identifier {
	id := access.Identifier{LinkID: linkID, Type: access.Card, Number: number}
	id.Valid.Time.IsPermanent, id.Valid.Passes.IsPermanent = true, true
	return id
}

func TestIdentifierResults(t *testing.T) {
	ctx := context.Background()
	faceID := func(linkID, photo string) access.Identifier {
		id := card(linkID, photo)
		id.Type = access.FaceID
		return id
	}
	badWindow := card(seedB, "1234")
	badWindow.Valid.Time.IsPermanent = false
	badWindow.Valid.Time.From, badWindow.Valid.Time.To = 2000, 1000
	withProfile := card(seedB, "1234")
	withProfile.TimeProfiles.LinkIDs = []string{tpID}
	tests := []struct {
		name  string
		caps  *access.Capabilities
		pre   []access.Identifier
		item  access.Identifier
		want  access.ExtendedInfo
		ok    bool
		extra access.ExtendedInfo
	}{
		{name: "created", item: card(seedA, "12345"), want: access.Created, ok: true},
		{name: "updated", pre: []access.Identifier{card(seedA, "1")}, item: card(seedA, "12345"), want: access.Updated, ok: true},
		{name: "face created", item: faceID(seedA, "face"), want: access.Created, ok: true},
		{name: "face_id_not_supported", caps: &access.Capabilities{}, item: faceID(seedA, "face"), want: access.FaceIDNotSupported},
		{name: "bad_base_64_image_file", item: faceID(seedA, "@@@"), want: access.BadBase64ImageFile},
		{name: "face_has_not_recognized", item: faceID(seedA, "noface"), want: access.FaceHasNotRecognized},
		{name: "number_of_identifiers_exceeded", caps: &access.Capabilities{FaceID: true, MaxIdentifiers: 1},
			pre: []access.Identifier{card(other, "1")}, item: card(seedA, "2"), want: access.NumberOfIdentifiersExceeded},
		{name: "number_of_face_identifiers_exceeded", caps: &access.Capabilities{FaceID: true, MaxFaceIdentifiers: 1},
			pre: []access.Identifier{faceID(other, "face")}, item: faceID(seedA, "face"), want: access.NumberOfFaceIdentifiersExceeded},
		{name: "number_taken_by_another_identifier", pre: []access.Identifier{card(other, "0A:1B:2C:3D")},
			item: card(seedA, "0a-1b-2c-3d"), want: access.NumberTakenByAnotherIdentifier},
		{name: "invalid_time_rules_settings", item: badWindow, want: access.InvalidTimeRulesSettings, ok: true},
		{name: "bound_time_profile_doesnt_exist", item: withProfile, want: access.Created, ok: true, extra: access.BoundTimeProfileDoesntExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []access.Option
			if tc.caps != nil {
				opts = append(opts, access.WithCapabilities(*tc.caps))
			}
			s := newService(t, opts...)
			if tc.pre != nil {
				_, err := s.UpsertIdentifiers(ctx, tc.pre)
				require.NoError(t, err)
			}
			rs, err := s.UpsertIdentifiers(ctx, []access.Identifier{tc.item})
			require.NoError(t, err)
			require.NotEmpty(t, rs)
			assert.Equal(t, access.Result{LinkID: tc.item.LinkID, Success: tc.ok, ExtendedInfo: tc.want}, rs[0])
			if tc.extra != "" {
				require.Len(t, rs, 2)
				assert.Equal(t, access.Result{LinkID: tc.item.LinkID, Success: true, ExtendedInfo: tc.extra}, rs[1])
			} else {
				assert.Len(t, rs, 1)
			}
			_, err = s.GetIdentifier(ctx, tc.item.LinkID)
			if tc.ok || tc.pre != nil && tc.pre[0].LinkID == tc.item.LinkID {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, access.ErrNotFound, "a failed item writes nothing")
			}
		})
	}
}

func TestIdentifierNumberFormats(t *testing.T) {
	tests := []struct {
		t      access.IdentifierType
		number string
		ok     bool
	}{
		{access.Card, "1234567890", true}, {access.Card, "12345678901", false}, {access.Card, "AB:CD", true},
		{access.UKey, "01-23-45-67-89-AB-CD-EF", true}, {access.UKey, "01:23:45:67:89:AB:CD:EF:01", false},
		{access.Card, "AB:C", false}, {access.Card, "xyz", false},
		{access.InputCode, "0042", true}, {access.InputCode, "12a4", false},
		{access.QR, "91c615e3-1040-4815-8ecb-039a18b756b5", true}, {access.QR, "hello", false},
		{access.LicensePlate, "AB 123 C", true}, {access.LicensePlate, string(make([]byte, 101)), false},
	}
	for _, tc := range tests {
		s := newService(t)
		id := card(seedA, tc.number)
		id.Type = tc.t
		_, err := s.UpsertIdentifiers(context.Background(), []access.Identifier{card(seedB, "1"), id})
		if tc.ok {
			assert.NoError(t, err, "%s %q", tc.t, tc.number)
			continue
		}
		require.Error(t, err, "%s %q", tc.t, tc.number)
		assert.Equal(t, wrong(1, "identifier_number"), itemError(t, err))
	}
}

func TestTimeProfileMessages(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	var p access.TimeProfile
	require.NoError(t, json.Unmarshal([]byte(`{"link_id":"`+tpID+`","name":"night","time_options":{"date_from":1767254400,"date_to":1767265200},
		"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"day","repeat_end":{"format":"never"}}}}`), &p))
	rs, err := s.UpsertTimeProfiles(ctx, []access.TimeProfile{p})
	require.NoError(t, err)
	assert.Equal(t, []access.Result{{LinkID: tpID, Success: true, ExtendedInfo: access.Created}}, rs)

	bad := p
	bad.RepeatOptions.RepeatFormat.RepeatType = "hourly"
	_, err = s.UpsertTimeProfiles(ctx, []access.TimeProfile{p, bad})
	require.Error(t, err)
	assert.Equal(t, &access.ItemError{Index: 1, Err: timeprofile.ErrWrongRepeatType}, itemError(t, err))
	assert.Equal(t, "Wrong repeat_type", itemError(t, err).Err.Error())

	badUID := p
	badUID.LinkID = "night-shift"
	_, err = s.UpsertTimeProfiles(ctx, []access.TimeProfile{badUID})
	assert.Equal(t, "Wrong Time Profile Uid", itemError(t, err).Err.Error())
}

func TestApartments(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	flat := func(id string, building, room int) access.Apartment {
		return access.Apartment{LinkID: id, Address: access.Address{Building: building, Room: room}, Name: "Flat " + id[:2]}
	}
	rs, err := s.UpsertApartments(ctx, []access.Apartment{flat(seedA, 1, 1), flat(seedB, 1, 2)})
	require.NoError(t, err)
	assert.Equal(t, access.Created, rs[1].ExtendedInfo)

	_, err = s.UpsertApartments(ctx, []access.Apartment{flat(other, 0, 1)})
	assert.Equal(t, &access.ItemError{Err: access.ErrWrongLogicalAddress}, itemError(t, err))
	_, err = s.UpsertApartments(ctx, []access.Apartment{flat(other, 1, 100)})
	assert.Equal(t, "Wrong Logical Address", itemError(t, err).Err.Error())
	_, err = s.UpsertApartments(ctx, []access.Apartment{flat(other, 2, 2), flat(tpID, 1, 2)})
	assert.Equal(t, &access.ItemError{Index: 1, Err: access.ErrAddressTaken}, itemError(t, err))
	_, err = s.GetApartment(ctx, other)
	assert.ErrorIs(t, err, access.ErrNotFound, "the batch is rolled back")
	spaced := flat(other, 3, 3)
	spaced.Name = " padded"
	_, err = s.UpsertApartments(ctx, []access.Apartment{spaced})
	assert.Equal(t, wrong(0, "apartment_name"), itemError(t, err))

	// Moving a flat frees its old address.
	rs, err = s.UpsertApartments(ctx, []access.Apartment{flat(seedB, 1, 3), flat(other, 1, 2)})
	require.NoError(t, err)
	assert.Equal(t, []access.ExtendedInfo{access.Updated, access.Created}, []access.ExtendedInfo{rs[0].ExtendedInfo, rs[1].ExtendedInfo})
}

func TestLiftRules(t *testing.T) {
	s := newService(t)
	rs, err := s.UpsertLiftRules(context.Background(), []access.LiftRule{
		{LinkID: seedA, Name: "floors 1-3", Areas: []int64{1, 2, 3}},
		{LinkID: seedB, Name: "none", Areas: nil},
		{LinkID: other, Name: "twice", Areas: []int64{4, 4}},
		{LinkID: tpID, Areas: []int64{5}},
	})
	require.NoError(t, err)
	assert.Equal(t, []access.Result{
		{LinkID: seedA, Success: true, ExtendedInfo: access.Created},
		{LinkID: seedB, ExtendedInfo: access.WrongAreas},
		{LinkID: other, ExtendedInfo: access.WrongAreas},
		{LinkID: tpID, ExtendedInfo: access.WrongRule},
	}, rs)
	rules, _, err := s.ListLiftRules(context.Background(), access.Page{})
	require.NoError(t, err)
	assert.Len(t, rules, 1)
}

func TestIdentifierLimitsFollowDeletesAndTypeChanges(t *testing.T) {
	ctx := context.Background()
	s := newService(t, access.WithCapabilities(access.Capabilities{FaceID: true, MaxIdentifiers: 2, MaxFaceIdentifiers: 1}))
	faceOf := func(linkID string) access.Identifier {
		id := card(linkID, "face")
		id.Type = access.FaceID
		return id
	}
	rs, err := s.UpsertIdentifiers(ctx, []access.Identifier{faceOf(seedA), card(seedB, "1"), card(other, "2")})
	require.NoError(t, err)
	assert.Equal(t, []access.ExtendedInfo{access.Created, access.Created, access.NumberOfIdentifiersExceeded},
		[]access.ExtendedInfo{rs[0].ExtendedInfo, rs[1].ExtendedInfo, rs[2].ExtendedInfo})
	_, err = s.DeleteIdentifiers(ctx, []string{seedB})
	require.NoError(t, err)
	rs, err = s.UpsertIdentifiers(ctx, []access.Identifier{faceOf(other)})
	require.NoError(t, err)
	assert.Equal(t, access.NumberOfFaceIdentifiersExceeded, rs[0].ExtendedInfo, "the face slot is taken")
	rs, err = s.UpsertIdentifiers(ctx, []access.Identifier{card(seedA, "3"), faceOf(other)})
	require.NoError(t, err)
	assert.Equal(t, []access.ExtendedInfo{access.Updated, access.Created}, []access.ExtendedInfo{rs[0].ExtendedInfo, rs[1].ExtendedInfo},
		"turning the face into a card frees the face slot")
}
