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

// validateItem checks item i's struct rules and returns an *ItemError for
// the first failure.
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
	if fe.Tag() == "required" {
		return missingField(i, rest)
	}
	if fe.Tag() == "min" && fe.Kind() == reflect.Slice && fe.Param() == "1" {
		return missingField(i, rest) // "auth_factors must contain at least one item"
	}
	return wrongField(i, rest)
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
// end are cut and case is folded; letters are compared without case, but only where the case
// pair is one to one. ASCII a-z become A-Z; another lower-case letter
// becomes its upper case only when that upper case is not ASCII and turns
// back into the same letter ("а" and "А" are one, Cyrillic). So no letter
// is mapped onto a different-looking one: "ſ" (long s) and "ı" (dotless i)
// stay themselves instead of becoming "S" and "I", and "SIS 123" never
// matches "ſıſ 123". Nothing else is changed, inner spaces included.
func normalizePlate(n string) (string, bool) {
	n = strings.Trim(n, " ")
	if n == "" || len(n) > 4*maxPlateBytes || !utf8.ValidString(n) {
		return "", false
	}
	for _, r := range n {
		if !unicode.IsPrint(r) {
			return "", false
		}
	}
	// The bound is on the normal form: folding can lengthen a letter
	// ("ɥ" is two bytes, "Ɥ" three), and a normal form must be its own.
	n = strings.Map(foldPlateRune, n)
	return n, len(n) <= maxPlateBytes
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
