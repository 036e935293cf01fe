package store_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
)

func TestKeyIsInjective(t *testing.T) {
	lists := [][]string{
		{}, {""}, {"", ""}, {"a"}, {"a", ""}, {"", "a"}, {"ab"}, {"a", "b"},
		{"Zed"}, {"Zed\x00Extra"}, {"Zed", "Extra"}, {"acme"}, {"acme\x00corp"}, {"acme", "corp"},
		{"\x01a"}, {"\x01", "a"}, {string(make([]byte, 200))}, {string(make([]byte, 199)), ""},
	}
	seen := map[string][]string{}
	for _, l := range lists {
		k := string(store.Key(l...))
		if prev, ok := seen[k]; ok {
			t.Fatalf("%q and %q share key %q", prev, l, k)
		}
		seen[k] = l
		parts, err := store.SplitKey([]byte(k))
		require.NoError(t, err)
		assert.Equal(t, len(l), len(parts))
		for i := range l {
			assert.Equal(t, l[i], parts[i])
		}
	}
}

func TestKeyPrefixSelectsExactlyItsLists(t *testing.T) {
	p := store.Key("acme")
	assert.True(t, bytes.HasPrefix(store.Key("acme", "x"), p))
	assert.True(t, bytes.HasPrefix(store.Key("acme", ""), p))
	assert.False(t, bytes.HasPrefix(store.Key("acme\x00corp", "x"), p))
	assert.False(t, bytes.HasPrefix(store.Key("acmecorp"), p))
	assert.Equal(t, store.Key("a", "b"), store.AppendKeyPart(store.Key("a"), "b"))
}

func TestSplitKeyRefusesWhatKeyDidNotMake(t *testing.T) {
	for _, k := range [][]byte{{5, 'a'}, {0x80}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
		_, err := store.SplitKey(k)
		assert.ErrorIs(t, err, store.ErrBadKey, "%x", k)
	}
}

func FuzzKey(f *testing.F) {
	f.Add("Zed", "Extra", []byte("Zed\x00Extra"))
	f.Add("", "", []byte{0})
	f.Fuzz(func(t *testing.T, a, b string, raw []byte) {
		parts, err := store.SplitKey(store.Key(a, b))
		if err != nil || len(parts) != 2 || parts[0] != a || parts[1] != b {
			t.Fatalf("round trip of %q, %q: %q, %v", a, b, parts, err)
		}
		// Any bytes either split into parts that make them again, or are refused.
		if parts, err := store.SplitKey(raw); err == nil && !bytes.Equal(store.Key(parts...), raw) {
			t.Fatalf("%x splits into %q, which make %x", raw, parts, store.Key(parts...))
		}
	})
}
