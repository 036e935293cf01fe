package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGate(t *testing.T) {
	g := newGate()
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, g.enter(ctx))
	closed := make(chan bool)
	go func() { closed <- g.close() }()
	// Once close has begun, an enter (a nested transaction, here) is
	// refused at once instead of waiting for close, which waits for it.
	for g.state.Load() < closing {
		time.Sleep(time.Millisecond)
	}
	refused := make(chan error)
	go func() { refused <- g.enter(ctx) }()
	select {
	case err := <-refused:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("enter waits while close waits: a nested transaction would deadlock")
	}
	select {
	case <-closed:
		t.Fatal("close must wait for the call in progress")
	case <-time.After(20 * time.Millisecond):
	}
	g.leave()
	assert.True(t, <-closed)
	assert.ErrorIs(t, g.enter(ctx), ErrClosed)
	assert.ErrorIs(t, g.check(ctx), ErrClosed)
	assert.False(t, g.close(), "a second close reports that it closed nothing")
	cancel()
	open := newGate()
	assert.ErrorIs(t, open.enter(ctx), context.Canceled, "the context is checked first")
	assert.ErrorIs(t, open.check(ctx), context.Canceled)
	assert.NoError(t, open.check(context.Background()))
	assert.Zero(t, open.state.Load(), "check admits nothing that close would wait for")
	assert.True(t, open.close(), "a gate with no call closes at once")
}

// The gate costs a transaction two atomic additions and no allocation.
func BenchmarkGate(b *testing.B) {
	g := newGate()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := g.enter(ctx); err != nil {
			b.Fatal(err)
		}
		g.leave()
	}
}
