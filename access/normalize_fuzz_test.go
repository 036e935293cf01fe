package access

import (
	"testing"
	"unicode/utf8"
)

// FuzzNormalizeNumber holds the number rules' invariants for every type:
// a normal form is its own normal form (so a stored number and a presented
// one meet), and a licence plate's normal form is valid UTF-8 of at most
// 100 bytes with no ASCII lower case and no letter the rule may not fold
// ("ſ" stays "ſ", never "S").
func FuzzNormalizeNumber(f *testing.F) {
	for _, s := range []string{"0a:1b:2c", "1234", "SIS 123", "ſıſ 123", "ав 777", " x ", "91C615E3-1040-4815-8ECB-039A18B756B5", "\xff", "µΣς"} {
		f.Add(s)
	}
	types := []IdentifierType{Card, UKey, InputCode, QR, LicensePlate, FaceID}
	f.Fuzz(func(t *testing.T, number string) {
		for _, typ := range types {
			n, ok := normalizeNumber(typ, number)
			if !ok {
				continue
			}
			again, ok := normalizeNumber(typ, n)
			if typ != FaceID && (!ok || again != n) {
				t.Fatalf("%s %q: normal form %q renormalizes to %q, %v", typ, number, n, again, ok)
			}
			if typ != LicensePlate {
				continue
			}
			if !utf8.ValidString(n) || len(n) > maxPlateBytes {
				t.Fatalf("plate %q: bad normal form %q", number, n)
			}
			for i, r := range n {
				if r >= 'a' && r <= 'z' {
					t.Fatalf("plate %q: lower case at %d of %q", number, i, n)
				}
				if (r == 'S' || r == 'I' || r == 'K') && !containsASCIIFold(number, r) {
					t.Fatalf("plate %q: %q appeared from a non-ASCII letter in %q", number, r, n)
				}
			}
		}
	})
}

// containsASCIIFold reports whether s holds r or its ASCII lower case.
func containsASCIIFold(s string, r rune) bool {
	for _, c := range s {
		if c == r || c == r+('a'-'A') {
			return true
		}
	}
	return false
}
