package access

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"github.com/lintelhq/lintel/timeprofile"
)

// AuthFactor is one of a user's ways to authenticate.
type AuthFactor string

// The auth factors of the panel API.
const (
	FactorCard         AuthFactor = "card"
	FactorInputCode    AuthFactor = "input_code"
	FactorFaceID       AuthFactor = "face_id"
	FactorQR           AuthFactor = "qr"
	FactorLicensePlate AuthFactor = "license_plate"
)

// User is a resident or visitor. The vendor does not publish the names of
// a linked user's references; ours are apartment_link_id,
// time_profile_link_ids, identifier_link_ids and kone_rule_link_id.
// IsBlocked is ours too: a blocked user's identifiers are denied.
type User struct {
	LinkID             string       `json:"link_id" validate:"required,uuid"`
	Name               string       `json:"name" validate:"required,max=256"`
	Info               string       `json:"info,omitempty" validate:"max=1024"`
	AuthFactors        []AuthFactor `json:"auth_factors" validate:"required,min=1,max=5,dive,oneof=card input_code face_id qr license_plate"`
	LockNumber         int          `json:"lock_number" validate:"min=0,max=2"`
	IsCustomUserAccess bool         `json:"is_custom_user_access"`
	IsBlocked          bool         `json:"is_blocked,omitempty"`
	ApartmentLinkID    string       `json:"apartment_link_id,omitempty" validate:"omitempty,uuid"`
	TimeProfileLinkIDs []string     `json:"time_profile_link_ids,omitempty" validate:"max=64,dive,uuid"`
	IdentifierLinkIDs  []string     `json:"identifier_link_ids,omitempty" validate:"max=256,dive,uuid"`
	KoneRuleLinkID     string       `json:"kone_rule_link_id,omitempty" validate:"omitempty,uuid"`
}

// IdentifierType is the kind of credential.
type IdentifierType string

// The identifier types of the panel API.
const (
	Card         IdentifierType = "card"
	UKey         IdentifierType = "ukey"
	InputCode    IdentifierType = "inputCode"
	FaceID       IdentifierType = "face_id"
	QR           IdentifierType = "qr"
	LicensePlate IdentifierType = "license_plate"
)

// Lock says which locks an identifier opens.
type Lock string

// The identifier locks; an empty lock means all.
const (
	LockFirst  Lock = "first"
	LockSecond Lock = "second"
	LockAll    Lock = "all"
)

// Owner is identifier_owner.
type Owner struct {
	Name string `json:"name" validate:"max=256"`
	Type string `json:"type" validate:"omitempty,oneof=owner guest"`
}

// Validity is an identifier's valid block: a time window and a pass count.
type Validity struct {
	Time struct {
		IsPermanent bool  `json:"is_permanent"`
		From        int64 `json:"from"`
		To          int64 `json:"to"`
	} `json:"time"`
	Passes struct {
		IsPermanent bool `json:"is_permanent"`
		// MaxPasses above 4294967295 (what a panel counts in 32 bits) is
		// the wrong type; below 1 it is invalid_time_rules_settings.
		MaxPasses int `json:"max_passes" validate:"max=4294967295"`
	} `json:"passes"`
}

// Identifier is a credential: a card, key fob, PIN code, QR code, licence
// plate or face photo. For face_id, Number is the base64 photo on the way
// in; the stored identifier keeps it in a bucket of its own.
type Identifier struct {
	LinkID          string         `json:"link_id" validate:"required,uuid"`
	ApartmentLinkID string         `json:"apartment_link_id,omitempty" validate:"omitempty,uuid"`
	Owner           Owner          `json:"identifier_owner"`
	Type            IdentifierType `json:"identifier_type" validate:"required,oneof=card ukey inputCode face_id qr license_plate"`
	Number          string         `json:"identifier_number" validate:"required"`
	Lock            Lock           `json:"lock,omitempty" validate:"omitempty,oneof=first second all"`
	Valid           Validity       `json:"valid"`
	TimeProfiles    struct {
		LinkIDs []string `json:"link_ids" validate:"max=64,dive,uuid"`
	} `json:"time_profiles"`
	Additional struct {
		PassesLeft *int `json:"passes_left,omitempty" validate:"omitempty,min=0,max=4294967295"`
	} `json:"additional"`
}

// TimeProfile is a time profile with its link_id.
type TimeProfile struct {
	LinkID string `json:"link_id"`
	timeprofile.Profile
}

// Address is an apartment's logical address.
type Address struct {
	Building int `json:"building"`
	Unit     int `json:"unit"`
	Floor    int `json:"floor"`
	Room     int `json:"room"`
}

// Apartment is a flat with its logical address.
type Apartment struct {
	LinkID    string  `json:"link_id" validate:"required,uuid"`
	Address   Address `json:"apartment_address"`
	Name      string  `json:"apartment_name" validate:"max=256"`
	Residents struct {
		Count int `json:"count" validate:"min=0,max=10000"`
	} `json:"residents"`
}

// LiftRule is a KONE lift rule: the destination areas a user may call.
type LiftRule struct {
	LinkID string  `json:"link_id" validate:"required,uuid"`
	Name   string  `json:"name" validate:"max=256"`
	Areas  []int64 `json:"areas" validate:"max=1024"`
}

// newValidator returns the one validator of a Service, reporting fields
// by their JSON names.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
}

// validateItem checks one item's struct rules and returns the panel's
// message for the first failure, with the item's path (list_items[i]).
func validateItem(v *validator.Validate, i int, item any) error {
	err := v.Struct(item)
	if err == nil {
		return nil
	}
	var errs validator.ValidationErrors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return fmt.Errorf("access: validating item %d: %w", i, err)
	}
	fe := errs[0]
	// Namespace is "User.auth_factors[0]": swap the type name for the item's path.
	_, rest, _ := strings.Cut(fe.Namespace(), ".")
	path := fmt.Sprintf("list_items[%d].%s", i, rest)
	if fe.Tag() == "required" {
		return MissingValue(path)
	}
	if fe.Tag() == "min" && fe.Kind() == reflect.Slice && fe.Param() == "1" {
		return MissingValue(path) // "auth_factors must contain at least one item"
	}
	return WrongType(path)
}

// Number formats (SPEC.md): decimal, or hex byte pairs separated by : or -.
var (
	decimalNumber = regexp.MustCompile(`^[0-9]{1,10}$`)
	hexNumber     = regexp.MustCompile(`^([0-9A-Fa-f]{2}[:-]){1,7}[0-9A-Fa-f]{2}$`)
	pinNumber     = regexp.MustCompile(`^[0-9]{1,16}$`)
)

// normalizeNumber checks an identifier number's format for its type and
// returns the form the number index keys it by: hex pairs in upper case
// with '-' as separator, so "0a:1B" and "0A-1b" are one card. ok is false
// when the format is wrong. Face numbers are not indexed.
func normalizeNumber(t IdentifierType, n string) (string, bool) {
	switch t {
	case Card, UKey:
		if decimalNumber.MatchString(n) {
			return n, true
		}
		if hexNumber.MatchString(n) {
			return strings.ToUpper(strings.ReplaceAll(n, ":", "-")), true
		}
		return "", false
	case InputCode:
		return n, pinNumber.MatchString(n)
	case QR:
		return strings.ToLower(n), timeprofile.CheckUID(n) == nil
	case LicensePlate:
		return normalizePlate(n)
	case FaceID:
		return "", true
	}
	return "", false
}

// maxPlateBytes bounds a licence plate's number.
const maxPlateBytes = 100

// normalizePlate is the licence-plate rule: the number must be valid UTF-8
// of printable characters, 1 to 100 bytes once the ASCII spaces at either
// end are cut; letters are compared without case, but only where the case
// pair is one to one. ASCII a-z become A-Z; another lower-case letter
// becomes its upper case only when that upper case is not ASCII and turns
// back into the same letter ("а" and "А" are one, Cyrillic). So no letter
// is mapped onto a different-looking one: "ſ" (long s) and "ı" (dotless i)
// stay themselves instead of becoming "S" and "I", and "SIS 123" never
// matches "ſıſ 123". Nothing else is changed, inner spaces included.
func normalizePlate(n string) (string, bool) {
	n = strings.Trim(n, " ")
	if n == "" || len(n) > maxPlateBytes || !utf8.ValidString(n) {
		return "", false
	}
	for _, r := range n {
		if !unicode.IsPrint(r) {
			return "", false
		}
	}
	return strings.Map(foldPlateRune, n), true
}

func foldPlateRune(r rune) rune {
	switch {
	case r >= 'a' && r <= 'z':
		return r - 'a' + 'A'
	case r < utf8.RuneSelf || !unicode.IsLower(r):
		return r
	}
	if up := unicode.ToUpper(r); up >= utf8.RuneSelf && unicode.ToLower(up) == r {
		return up
	}
	return r
}
