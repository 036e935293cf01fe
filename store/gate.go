package store

import (
	"context"
	"sync"
	"sync/atomic"
)

// gate admits calls until close, and lets close wait for the admitted ones.
// A gate that is closing refuses at once: a call made inside an admitted
// one (a nested transaction) after close began gets ErrClosed instead of
// waiting for close, which waits for the outer call. (A sync.RWMutex would
// deadlock there: RLock waits while a Lock is pending.)
type gate struct {
	state atomic.Int64  // calls admitted (or being refused), plus closing once closed
	idle  chan struct{} // closed when a closing gate has no call left
	once  sync.Once     // closes idle
}

// closing is added to state by close; state counts calls below it.
const closing = 1 << 62

func newGate() gate { return gate{idle: make(chan struct{})} }

// enter checks ctx and admits a call, or returns ctx's error or ErrClosed.
// Call leave when an admitted call ends.
func (g *gate) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.state.Add(1) >= closing {
		g.leave()
		return ErrClosed
	}
	return nil
}

// check returns ctx's error, or ErrClosed once close has begun, without
// admitting a call: for a call that close need not wait for.
func (g *gate) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.state.Load() >= closing {
		return ErrClosed
	}
	return nil
}

// leave ends a call that enter admitted.
func (g *gate) leave() {
	if g.state.Add(-1) == closing {
		g.once.Do(g.wake)
	}
}

func (g *gate) wake() { close(g.idle) }

// close refuses new calls and waits for the admitted ones. It reports
// whether this call closed the gate (false when it was closing already,
// and then it does not wait).
func (g *gate) close() bool {
	for {
		s := g.state.Load()
		if s >= closing {
			return false
		}
		if g.state.CompareAndSwap(s, s+closing) {
			if s == 0 {
				g.once.Do(g.wake)
			}
			<-g.idle
			return true
		}
	}
}
