package access

import (
	"errors"
	"fmt"
)

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
	// ErrWrongJSONBody: the body is missing, is not JSON, or does not have
	// the request's shape. Every *FieldError matches it with errors.Is.
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

// ErrTooManyItems is returned for a batch longer than the service's
// MaxBatch; the HTTP adapter answers it with a 400.
var ErrTooManyItems = errors.New("access: too many items in one request")

// FieldError is a request error about one field, named by its JSON path
// (list_items[3].valid.time.from). Its message is the panel's:
// "Wrong JSON body: no value for `path`" when the field is missing, else
// "Wrong JSON body: value `path` was of the wrong type".
type FieldError struct {
	Path    string
	Missing bool
}

// MissingValue returns the error for a required field that is absent.
func MissingValue(path string) *FieldError { return &FieldError{Path: path, Missing: true} }

// WrongType returns the error for a field of the wrong type or an invalid value.
func WrongType(path string) *FieldError { return &FieldError{Path: path} }

func (e *FieldError) Error() string {
	if e.Missing {
		return fmt.Sprintf("%s: no value for `%s`", ErrWrongJSONBody, e.Path)
	}
	return fmt.Sprintf("%s: value `%s` was of the wrong type", ErrWrongJSONBody, e.Path)
}

// Is makes errors.Is(err, ErrWrongJSONBody) true for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrWrongJSONBody }

// ItemError is a request error found in one item of a batch (a time
// profile breaking a rule, say). Its message is the cause's alone, as the
// panel answers it; Index says which item.
type ItemError struct {
	Index int
	Err   error
}

func (e *ItemError) Error() string { return e.Err.Error() }

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *ItemError) Unwrap() error { return e.Err }
