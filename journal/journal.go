// Package journal is Lintel's event log: every access decision, committed
// batch, directory change, switch action and failed login, kept durably in
// a store.Store, bounded, and readable forward by id.
//
// # Ids and order
//
// Events get ids 1, 2, 3, ... in commit order, without gaps, per journal
// (per store: several servers on one PostgreSQL database share one journal,
// because ids come from a counter in the store, read and written in the
// transaction that writes the events).
//
// # Group commit, and what a crash may lose
//
// Append queues an event and returns; a writer goroutine commits what is
// queued (up to MaxPending events) as one group, in one transaction, after
// at most FlushDelay (default 2 ms), or as soon as MaxGroup events wait. So
// a decision costs a mutex and an append, not an fsync, and on the file
// store one fsync covers many events. A crash loses at most the events
// acknowledged by Append and not yet committed: the group being committed
// and the one queued behind it, at most 2 x MaxPending events and, unless
// the store is slower than the flow of events, FlushDelay's worth. Flush waits until everything
// queued before it is committed. AppendTx instead writes events in the
// caller's own transaction, so that a batch and its record are committed
// together or not at all: a batch's record is never lost.
//
// # Retention
//
// The journal keeps at least the last MaxEvents events (default 10,000, as
// a 2N device keeps) and drops older ones, and, when MaxAge is set, drops
// events older than that. Events are stored in groups (one record per
// commit), and trimming deletes whole groups, oldest first, each commit
// reading only the groups it deletes and one more: trimming costs
// O(trimmed), and up to one group (at most MaxPending events) more than
// MaxEvents may be kept.
//
// # Reading
//
// Events pages forward from an id; Wait blocks until an event newer than
// an id commits (a long poll without spinning); Subscribe delivers new
// events on a channel with a bounded buffer and says when a slow reader
// fell behind. Commits through this Journal wake waiters at once; commits
// by another process on a shared database are seen within PollInterval.
// An Observer option calls a function for each committed event, in commit
// order, on the writer goroutine.
//
// Events whose Key is set are kept once per (Source, Key): a panel that
// replays its log finds each event stored once, as long as the first copy
// has not been trimmed.
package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lintelhq/lintel/store"
)

var (
	bucketGroups = []byte("journal.groups") // last id of the group (8 bytes) -> group record
	bucketKeys   = []byte("journal.keys")   // store.Key(source, key) -> id
	bucketMeta   = []byte("journal.meta")
	keyNext      = []byte("next") // the id the next event gets
)

// Defaults of Options.
const (
	DefaultMaxEvents    = 10_000
	DefaultFlushDelay   = 2 * time.Millisecond
	DefaultMaxGroup     = 1024
	DefaultMaxPending   = 8192
	DefaultPollInterval = time.Second
)

// Options configure Open; zero fields take the defaults.
type Options struct {
	MaxEvents    int           // events kept at least; default DefaultMaxEvents
	MaxAge       time.Duration // events older than this are dropped; 0 keeps them
	FlushDelay   time.Duration // longest wait before a queued event is committed
	MaxGroup     int           // events that make the writer commit at once
	MaxPending   int           // queued events at most (and so per commit); Append waits beyond
	PollInterval time.Duration // how often waiters look for other processes' events
	Observer     func(Event)   // called for each committed event, in order
	Now          func() time.Time
	Logger       *slog.Logger
}

// ErrClosed is returned by Append and Flush after Close.
var ErrClosed = errors.New("journal: closed")

// Journal is an event log in a store. It is safe for concurrent use.
type Journal struct {
	st  store.Store
	opt Options

	// The queue: Append adds under qmu and pokes the writer; the writer
	// takes groups from the front.
	qmu       sync.Mutex
	queue     []Event
	spare     []Event    // the last group's array, for the next queue
	space     *sync.Cond // signalled when the queue shrinks
	enqueued  uint64     // events ever queued
	processed uint64     // events the writer has tried to commit
	flushes   []*flushWaiter
	closed    bool
	wake      chan struct{} // the queue was empty and is not
	urgent    chan struct{} // a full group, a Flush or Close is waiting
	done      chan struct{} // the writer has ended

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every commit
	last    atomic.Uint64 // the last id this Journal committed or saw
}

// flushWaiter is a Flush waiting until processed reaches target.
type flushWaiter struct {
	target uint64
	err    error // the first failed commit while it waited
	done   chan error
}

// Open returns the journal in st, creating its buckets, and starts its
// writer; Close stops it.
func Open(ctx context.Context, st store.Store, opt Options) (*Journal, error) {
	opt.MaxEvents = cmpOr(opt.MaxEvents, DefaultMaxEvents)
	opt.FlushDelay = cmpOr(opt.FlushDelay, DefaultFlushDelay)
	opt.MaxGroup = cmpOr(opt.MaxGroup, DefaultMaxGroup)
	opt.MaxPending = max(cmpOr(opt.MaxPending, DefaultMaxPending), opt.MaxGroup)
	opt.PollInterval = cmpOr(opt.PollInterval, DefaultPollInterval)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		for _, b := range [][]byte{bucketGroups, bucketKeys, bucketMeta} {
			if err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal: opening: %w", err)
	}
	j := &Journal{st: st, opt: opt, wake: make(chan struct{}, 1), urgent: make(chan struct{}, 1),
		done: make(chan struct{}), changed: make(chan struct{})}
	j.space = sync.NewCond(&j.qmu)
	go j.run()
	return j, nil
}

func cmpOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Append queues ev to be committed with the next group, and returns once it
// is queued: a mutex and an append, no I/O. While MaxPending events are
// queued it waits for room (or ctx). Its ID and, when zero, its Time are
// set when it is committed.
func (j *Journal) Append(ctx context.Context, ev Event) error {
	j.qmu.Lock()
	if len(j.queue) >= j.opt.MaxPending && !j.closed {
		stop := context.AfterFunc(ctx, func() {
			j.qmu.Lock()
			j.space.Broadcast()
			j.qmu.Unlock()
		})
		for len(j.queue) >= j.opt.MaxPending && !j.closed && ctx.Err() == nil {
			j.space.Wait()
		}
		stop()
	}
	switch {
	case j.closed:
		j.qmu.Unlock()
		return ErrClosed
	case ctx.Err() != nil:
		j.qmu.Unlock()
		return ctx.Err()
	}
	j.queue = append(j.queue, ev)
	j.enqueued++
	n := len(j.queue)
	j.qmu.Unlock()
	if n == 1 {
		poke(j.wake)
	}
	if n >= j.opt.MaxGroup {
		poke(j.urgent)
	}
	return nil
}

// Pending returns how many events are queued and not yet committed: the
// journal's lag.
func (j *Journal) Pending() int {
	j.qmu.Lock()
	defer j.qmu.Unlock()
	return int(j.enqueued - j.processed)
}

// Flush waits until every event queued before it is committed, and returns
// the error of a commit that failed meanwhile.
func (j *Journal) Flush(ctx context.Context) error {
	j.qmu.Lock()
	if j.closed {
		j.qmu.Unlock()
		return ErrClosed
	}
	w := &flushWaiter{target: j.enqueued, done: make(chan error, 1)}
	if j.processed >= w.target {
		j.qmu.Unlock()
		return nil
	}
	j.flushes = append(j.flushes, w)
	j.qmu.Unlock()
	poke(j.wake)
	poke(j.urgent)
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close commits what is queued and stops the writer. The store stays open.
func (j *Journal) Close(ctx context.Context) error {
	j.qmu.Lock()
	j.closed = true
	j.space.Broadcast()
	j.qmu.Unlock()
	poke(j.wake)
	poke(j.urgent)
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is the writer: it waits for events, lets a group gather for at most
// FlushDelay (less when a group is full, or a Flush or Close waits), and
// commits it.
func (j *Journal) run() {
	defer close(j.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		j.qmu.Lock()
		empty, closed, flushing := len(j.queue) == 0, j.closed, len(j.flushes) > 0
		j.qmu.Unlock()
		if empty {
			if closed {
				return
			}
			<-j.wake
			continue
		}
		if !closed && !flushing {
			timer.Reset(j.opt.FlushDelay)
			select {
			case <-timer.C:
			case <-j.urgent:
				timer.Stop()
			}
		}
		j.qmu.Lock()
		group := j.queue // all of it: at most MaxPending
		j.queue, j.spare = j.spare[:0], nil
		n := len(group)
		j.space.Broadcast()
		j.qmu.Unlock()

		err := j.commit(group)

		clear(group) // drop the events' strings, keep the array for the next group
		j.qmu.Lock()
		j.spare = group[:0]
		j.processed += uint64(n)
		kept := j.flushes[:0]
		for _, w := range j.flushes {
			if err != nil && w.err == nil {
				w.err = err
			}
			if j.processed >= w.target {
				w.done <- w.err
			} else {
				kept = append(kept, w)
			}
		}
		j.flushes = kept
		j.qmu.Unlock()
	}
}

// commit writes one group in its own transaction.
func (j *Journal) commit(group []Event) error {
	var written []Event
	err := j.st.Update(context.Background(), func(tx store.Tx) error {
		var err error
		written, err = j.write(tx, group)
		return err
	})
	if err != nil {
		j.opt.Logger.Error("journal: events lost", "events", len(group), "err", err)
		return fmt.Errorf("journal: committing %d events: %w", len(group), err)
	}
	j.AfterCommit(written)
	return nil
}

// AppendTx writes events in the caller's transaction, with ids that follow
// every event committed before, and returns them as written (with ID and
// Time). Call AfterCommit with them once the transaction has committed, to
// wake waiters and observers. Events whose (Source, Key) is stored already
// are left out. A nil Journal, like an empty evs, writes nothing, so a
// package whose journal is optional calls it without a check.
func (j *Journal) AppendTx(tx store.Tx, evs ...Event) ([]Event, error) {
	if j == nil || len(evs) == 0 {
		return nil, nil
	}
	return j.write(tx, evs)
}

// AfterCommit tells the journal that events written with AppendTx are
// committed: waiters wake and the observer sees them. On a nil Journal it
// does nothing.
func (j *Journal) AfterCommit(evs []Event) {
	if j == nil || len(evs) == 0 {
		return
	}
	for last := evs[len(evs)-1].ID; ; {
		cur := j.last.Load()
		if cur >= last || j.last.CompareAndSwap(cur, last) {
			break
		}
	}
	j.mu.Lock()
	close(j.changed)
	j.changed = make(chan struct{})
	j.mu.Unlock()
	if j.opt.Observer != nil {
		for _, ev := range evs {
			j.opt.Observer(ev)
		}
	}
}

// groupHeader is the start of a stored group: flags, then the time of its
// newest event (varint nanoseconds), then the events.
const hasKeys = 1

// write assigns ids and writes evs as one group, then trims.
func (j *Journal) write(tx store.Tx, evs []Event) ([]Event, error) {
	next, err := store.GetUint64(tx, bucketMeta, keyNext)
	if err != nil {
		return nil, err
	}
	next = max(next, 1)
	now := j.opt.Now()
	out := make([]Event, 0, len(evs))
	var flags byte
	for _, ev := range evs {
		if ev.Key != "" {
			k := store.Key(ev.Source, ev.Key)
			if _, err := tx.Get(bucketKeys, k); err == nil {
				continue // kept already
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if err := tx.Put(bucketKeys, k, binary.BigEndian.AppendUint64(nil, next)); err != nil {
				return nil, err
			}
			flags |= hasKeys
		}
		ev.ID = next
		next++
		if ev.Time.IsZero() {
			ev.Time = now
		}
		out = append(out, ev)
	}
	if len(out) == 0 {
		return nil, nil
	}
	newest := out[0].Time
	for _, ev := range out {
		if ev.Time.After(newest) {
			newest = ev.Time
		}
	}
	rec := binary.AppendVarint([]byte{flags}, newest.UnixNano())
	rec = append(rec, encodeGroup(out)...)
	if err := tx.Put(bucketGroups, binary.BigEndian.AppendUint64(nil, next-1), rec); err != nil {
		return nil, err
	}
	if err := store.PutUint64(tx, bucketMeta, keyNext, next); err != nil {
		return nil, err
	}
	return out, j.trim(tx, next, now)
}

// trim deletes the oldest groups that are wholly older than the last
// MaxEvents events, or whose newest event is older than MaxAge.
func (j *Journal) trim(tx store.Tx, next uint64, now time.Time) error {
	var dead [][]byte
	var keyed [][]byte // records of dead groups that hold keys
	var cutoff int64
	if j.opt.MaxAge > 0 {
		cutoff = now.Add(-j.opt.MaxAge).UnixNano()
	}
	err := tx.Scan(bucketGroups, nil, func(k, v []byte) error {
		last := binary.BigEndian.Uint64(k)
		byCount := next-1-last >= uint64(j.opt.MaxEvents)
		byAge := false
		if cutoff != 0 && len(v) > 1 {
			newest, n := binary.Varint(v[1:])
			byAge = n > 0 && newest < cutoff
		}
		if !byCount && !byAge {
			return store.ErrStopScan
		}
		dead = append(dead, append([]byte(nil), k...))
		if len(v) > 0 && v[0]&hasKeys != 0 {
			keyed = append(keyed, append([]byte(nil), v...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, rec := range keyed {
		evs, err := decodeRecord(rec)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if ev.Key != "" {
				if err := tx.Delete(bucketKeys, store.Key(ev.Source, ev.Key)); err != nil {
					return err
				}
			}
		}
	}
	for _, k := range dead {
		if err := tx.Delete(bucketGroups, k); err != nil {
			return err
		}
	}
	return nil
}

// decodeRecord reads a stored group record.
func decodeRecord(rec []byte) ([]Event, error) {
	if len(rec) < 2 {
		return nil, errCorrupt
	}
	_, n := binary.Varint(rec[1:])
	if n <= 0 {
		return nil, errCorrupt
	}
	return decodeGroup(rec[1+n:])
}

// Filter selects events; zero fields select all.
type Filter struct {
	Kinds  []Kind    // any of these kinds
	Since  time.Time // at or after
	Until  time.Time // before
	Source string
}

func (f *Filter) match(ev *Event) bool {
	if len(f.Kinds) > 0 {
		found := false
		for _, k := range f.Kinds {
			found = found || k == ev.Kind
		}
		if !found {
			return false
		}
	}
	if !f.Since.IsZero() && ev.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !ev.Time.Before(f.Until) {
		return false
	}
	return f.Source == "" || f.Source == ev.Source
}

// MaxPage is the most events one call of Events returns.
const MaxPage = 10_000

// Events returns up to limit events (at most MaxPage; 0 means MaxPage)
// with ids above after that f selects, in id order. An empty result means
// none has committed yet.
func (j *Journal) Events(ctx context.Context, after uint64, f Filter, limit int) ([]Event, error) {
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	var out []Event
	err := j.st.View(ctx, func(tx store.Tx) error {
		out = nil
		start := binary.BigEndian.AppendUint64(nil, after+1)
		if after == ^uint64(0) {
			return nil
		}
		return tx.ScanRange(bucketGroups, start, nil, func(k, v []byte) error {
			evs, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("journal: group %x: %w", k, err)
			}
			for i := range evs {
				if evs[i].ID > after && f.match(&evs[i]) {
					out = append(out, evs[i])
					if len(out) == limit {
						return store.ErrStopScan
					}
				}
			}
			return nil
		})
	})
	return out, err
}

// Last returns the id of the newest committed event, 0 when there is none.
func (j *Journal) Last(ctx context.Context) (uint64, error) {
	var next uint64
	err := j.st.View(ctx, func(tx store.Tx) error {
		var err error
		next, err = store.GetUint64(tx, bucketMeta, keyNext)
		return err
	})
	if next == 0 {
		return 0, err
	}
	return next - 1, err
}

// Wait blocks until an event with an id above after has committed, or ctx
// ends. It does not spin: it wakes at commits through this Journal, and
// every PollInterval to look for other processes' commits.
func (j *Journal) Wait(ctx context.Context, after uint64) error {
	timer := time.NewTimer(j.opt.PollInterval)
	defer timer.Stop()
	for {
		j.mu.Lock()
		changed := j.changed
		j.mu.Unlock()
		if j.last.Load() > after {
			return nil
		}
		last, err := j.Last(ctx)
		if err != nil {
			return err
		}
		if last > after {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			timer.Reset(j.opt.PollInterval)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
