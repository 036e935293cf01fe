package directory

import "testing"

// FuzzCardsMatch: CardsMatch is symmetric, never matches an empty id,
// matches equal ids, ignores case, and puts matching ids under one key of
// the card index (so FindCard, which looks up the key, misses no match).
func FuzzCardsMatch(f *testing.F) {
	f.Add("0A1B2C3D4E", "2c3d4e")
	f.Add("0A1B2C3D4E", "C3D4E")
	f.Add("ABCDE", "abcde")
	f.Add("", "")
	f.Add("123456", "00123456")
	f.Fuzz(func(t *testing.T, a, b string) {
		m := CardsMatch(a, b)
		if m != CardsMatch(b, a) {
			t.Fatalf("CardsMatch(%q, %q) = %v, not symmetric", a, b, m)
		}
		if (a == "" || b == "") && m {
			t.Fatalf("CardsMatch(%q, %q): an empty id matches", a, b)
		}
		if a != "" && !CardsMatch(a, a) {
			t.Fatalf("CardsMatch(%q, %q) = false", a, a)
		}
		if flipped := flipASCIICase(a); a != "" && !CardsMatch(a, flipped) {
			t.Fatalf("%q and %q: case matters", a, flipped)
		}
		if m && cardKey(a) != cardKey(b) {
			t.Fatalf("%q and %q match, keys %q and %q", a, b, cardKey(a), cardKey(b))
		}
		if m && len(a) != len(b) && min(len(a), len(b)) < cardSuffix {
			t.Fatalf("%q and %q: fewer than %d characters match", a, b, cardSuffix)
		}
	})
}

// flipASCIICase swaps the case of ASCII letters, byte by byte (any other
// byte, of invalid UTF-8 too, stays).
func flipASCIICase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}
