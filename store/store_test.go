package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

func TestGate(t *testing.T) {
	var g store.Gate
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, g.Enter(ctx))
	closed := make(chan bool)
	go func() { closed <- g.Close() }()
	select {
	case <-closed:
		t.Fatal("Close must wait for the transaction in progress")
	case <-time.After(20 * time.Millisecond):
	}
	g.Leave()
	assert.True(t, <-closed)
	assert.ErrorIs(t, g.Enter(ctx), store.ErrClosed)
	assert.False(t, g.Close(), "a second Close reports that it closed nothing")
	cancel()
	var open store.Gate
	assert.ErrorIs(t, open.Enter(ctx), context.Canceled)
}
