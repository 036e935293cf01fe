package access

import "fmt"

// ExtendedInfo is the extended_info of a batch result, spelled as the
// vendor spells it.
type ExtendedInfo string

// Every extended_info value of the panel's link API.
const (
	Created                         ExtendedInfo = "created"
	Updated                         ExtendedInfo = "updated"
	Deleted                         ExtendedInfo = "deleted"
	EntityNotFound                  ExtendedInfo = "entity_not_found"
	NotFound                        ExtendedInfo = "not_found"
	HasDuplicates                   ExtendedInfo = "has_dublicates"
	NumberTakenByAnotherIdentifier  ExtendedInfo = "number_taken_by_another_identifier"
	BadBase64ImageFile              ExtendedInfo = "bad_base_64_image_file"
	FaceHasNotRecognized            ExtendedInfo = "face_has_not_recognized"
	BoundTimeProfileDoesntExist     ExtendedInfo = "bound_time_profile_doesnt_exist"
	BoundApartmentDoesntExist       ExtendedInfo = "bound_apartment_doesnt_exist"
	BoundIdentifierDoesntExist      ExtendedInfo = "bound_identifier_doesnt_exist"
	BoundKoneRuleDoesntExist        ExtendedInfo = "bound_kone_rule_doesnt_exist"
	FaceIDNotSupported              ExtendedInfo = "face_id_not_supported"
	NumberOfFaceIdentifiersExceeded ExtendedInfo = "number_of_face_identifiers_exceeded"
	NumberOfIdentifiersExceeded     ExtendedInfo = "number_of_identifiers_exceeded"
	InvalidTimeRulesSettings        ExtendedInfo = "invalid_time_rules_settings"
	WrongAreas                      ExtendedInfo = "wrong_areas"
	WrongRule                       ExtendedInfo = "wrong_rule"
)

// Result is one element of a batch's result list. Its JSON is the wire
// form: {"link_id","success","extended_info"} plus "has_dublicates" for
// users.
type Result struct {
	LinkID        string       `json:"link_id"`
	Success       bool         `json:"success"`
	ExtendedInfo  ExtendedInfo `json:"extended_info"`
	HasDuplicates *bool        `json:"has_dublicates,omitempty"`
}

// Message is a request error whose text is exactly the panel's 400 message.
type Message string

// Error returns the message as the API spells it.
func (m Message) Error() string { return string(m) }

// Request-level messages of the panel API.
const (
	// ErrWrongJSONBody: a field of an item is missing, of the wrong type
	// or has an invalid value (an *ItemError with a Field wraps it).
	ErrWrongJSONBody Message = "Wrong JSON body"
	// ErrListEmpty: a delete request with no link_ids, or a batch with no
	// list_items.
	ErrListEmpty Message = "List cannot be empty"
	// ErrWrongLogicalAddress: an apartment address outside building
	// 1..9999, unit 0..99, floor 0..98, room 0..99.
	ErrWrongLogicalAddress Message = "Wrong Logical Address"
	// ErrAddressTaken: another apartment (in the store or earlier in the
	// batch) has the same address.
	ErrAddressTaken Message = "Apartment with that Logical Address already exist"
)

// TooManyItemsError rejects a batch of N items, more than the service's
// limit Max (WithMaxBatch).
type TooManyItemsError struct{ N, Max int }

func (e *TooManyItemsError) Error() string {
	return fmt.Sprintf("access: %d items in one batch, at most %d", e.N, e.Max)
}

// ItemError is a request error found in item Index of a batch; it
// rejects the whole batch. When it is about one field, Field is the
// field's JSON path inside the item ("valid.time.from",
// "auth_factors[0]"), as json.UnmarshalTypeError.Field is, Missing says
// whether the field is absent (else its value is of the wrong type or
// invalid) and Err is ErrWrongJSONBody. Otherwise Field is "" and Err
// is the cause, whose text is the panel's message: a time profile's
// ("Wrong repeat_type", "Wrong Time Profile Uid", ...),
// ErrWrongLogicalAddress or ErrAddressTaken.
//
// Paths on the wire ("list_items[3].name") are the HTTP adapter's to
// make: it knows what the list is called.
type ItemError struct {
	Index   int
	Field   string
	Missing bool
	Err     error
}

func (e *ItemError) Error() string {
	switch {
	case e.Field == "":
		return fmt.Sprintf("access: item %d: %v", e.Index, e.Err)
	case e.Missing:
		return fmt.Sprintf("access: item %d: no value for `%s`", e.Index, e.Field)
	}
	return fmt.Sprintf("access: item %d: value `%s` was of the wrong type", e.Index, e.Field)
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *ItemError) Unwrap() error { return e.Err }

// missingField and wrongField are the ItemErrors about one field.
func missingField(i int, field string) *ItemError {
	return &ItemError{Index: i, Field: field, Missing: true, Err: ErrWrongJSONBody}
}

func wrongField(i int, field string) *ItemError {
	return &ItemError{Index: i, Field: field, Err: ErrWrongJSONBody}
}
