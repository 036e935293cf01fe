package store_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lintelhq/lintel/store"
)

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		prefix, want []byte
	}{
		{nil, nil},
		{[]byte{}, nil},
		{[]byte("a"), []byte("b")},
		{[]byte("user/"), []byte("user0")},
		{[]byte{'a', 0xff}, []byte{'b'}},
		{[]byte{0xff, 0xff}, nil},
		{[]byte{0x00}, []byte{0x01}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, store.PrefixEnd(tc.prefix), "prefix %q", tc.prefix)
	}
	p := []byte("ab")
	_ = store.PrefixEnd(p)
	assert.Equal(t, "ab", string(p), "PrefixEnd must not modify its argument")
}
