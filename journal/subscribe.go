package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrFellBehind ends a Subscription whose reader did not keep up: its
// buffer was full when an event was to be delivered, or events it had not
// read yet were trimmed. The error says the last id delivered; subscribe
// again from there (Events pages through what is still kept).
var ErrFellBehind = errors.New("journal: subscriber fell behind")

// Subscription delivers committed events in id order, each once.
type Subscription struct {
	// C delivers the events; it is closed when the subscription ends
	// (Close, the context, or falling behind): then Err says why.
	C <-chan Event

	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

// Subscribe delivers, on a channel with room for buffer events, every
// event with an id above after that f selects, as it commits. A reader
// that lets the buffer fill, or falls so far behind that retention trims
// events it has not read (MaxEvents behind, or MaxAge), is cut off with
// ErrFellBehind rather than slowing the journal down. Each subscription costs one goroutine, and per
// commit one wake-up and one read of the new events.
func (j *Journal) Subscribe(ctx context.Context, after uint64, f Filter, buffer int) *Subscription {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan Event, max(buffer, 1))
	s := &Subscription{C: ch, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(ch)
		s.setErr(j.deliver(ctx, after, f, ch))
	}()
	return s
}

func (j *Journal) deliver(ctx context.Context, cursor uint64, f Filter, ch chan<- Event) error {
	delivered := cursor
	for {
		if err := j.Wait(ctx, cursor); err != nil {
			return err
		}
		evs, err := j.Events(ctx, cursor, Filter{}, MaxPage)
		if err != nil {
			return err
		}
		for i := range evs {
			if evs[i].ID != cursor+1 && cursor != 0 {
				return fmt.Errorf("%w: events after %d were trimmed before they were read; last delivered %d", ErrFellBehind, cursor, delivered)
			}
			cursor = evs[i].ID
			if !f.match(&evs[i]) {
				continue
			}
			select {
			case ch <- evs[i]:
				delivered = cursor
			default:
				return fmt.Errorf("%w: buffer full; last delivered %d", ErrFellBehind, delivered)
			}
		}
	}
}

func (s *Subscription) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// Err says why C was closed: ErrFellBehind, the context's error, or
// context.Canceled after Close. It is nil while the subscription runs.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription and waits for its goroutine.
func (s *Subscription) Close() {
	s.cancel()
	<-s.done
}
