// Package memory is the in-memory backend of package store: an ordered,
// copy-on-write B-tree per bucket (github.com/google/btree), behind the
// portable store.DB.
//
// Committed state is an immutable snapshot. A View reads the snapshot that
// was current when it began, so it never sees part of an Update and never
// waits for a writer. Update is serialised by one writer lock; it works on
// lazily cloned trees and publishes them as the new snapshot when fn
// returns nil. An error, a panic or a done context drops the clones, which is
// the whole rollback. Nothing is durable: the data lives as long as the
// store, and Close drops it.
//
// The driver reads a counter of the last committed state with no
// transaction, no allocation and no shared write
// (driver.CloseSafeCounterReader), so the store's ReadCounter costs a few
// nanoseconds when the same counter is read again before the next commit.
// DecrementIf is one Update.
//
// A View costs two atomic additions (the store's close gate), one atomic
// load and one small allocation (about 50 ns on a two-core test machine),
// so hot paths may run one per call. A commit copies the map of buckets and
// the tree nodes on the paths it changes, about 10 KiB for one put into a
// bucket of 10,000 keys.
//
// Nested transactions (see package store): an Update inside an Update
// deadlocks; every other nesting works.
package memory

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/google/btree"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
)

// degree is the B-tree degree; 32 keeps nodes within a few cache lines of
// pointers and the trees shallow.
const degree = 32

type item struct {
	key, value []byte
}

func less(a, b item) bool { return bytes.Compare(a.key, b.key) < 0 }

// Store is the store.DB that New returns; the name is kept for callers
// that name the type.
type Store = store.DB

// New returns an empty in-memory store.
func New() *Store { return store.Open(NewDriver(), nil) }

// NewDriver returns the driver of an empty in-memory store, for
// store.Open (with options, or wrapped by another driver).
func NewDriver() driver.Driver {
	d := &memDriver{}
	d.current.Store(&snapshot{buckets: map[string]*btree.BTreeG[item]{}})
	return d
}

// memDriver is the driver. A read-only transaction is the current
// snapshot itself; the one write transaction at a time is writer.
type memDriver struct {
	mu      sync.Mutex               // held by the write transaction
	writer  writeTx                  // reused: there is one at a time
	current atomic.Pointer[snapshot] // the last committed state

	lastCounter atomic.Pointer[counterRead] // ReadCounter's last answer
}

var _ driver.CloseSafeCounterReader = (*memDriver)(nil)

func (d *memDriver) Begin(_ context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if !opts.Writable {
		return d.current.Load(), nil
	}
	d.mu.Lock()
	cloned := d.writer.cloned
	clear(cloned)
	d.writer = writeTx{d: d, base: d.current.Load(), cloned: cloned}
	return &d.writer, nil
}

// CloseSafe declares that ReadCounter may outlive Close: it reads an
// immutable snapshot, and Close only replaces the current one.
func (d *memDriver) CloseSafe() {}

// Close drops the data.
func (d *memDriver) Close() error {
	d.current.Store(&snapshot{buckets: map[string]*btree.BTreeG[item]{}})
	d.lastCounter.Store(nil)
	return nil
}

// ReadCounter reads a counter of the last committed state without a
// transaction and without allocating. The last counter read is remembered
// with the snapshot it was read from, so that reading it again before the
// next commit costs two atomic loads and a comparison (the hot path of a
// decision reads one counter over and over).
func (d *memDriver) ReadCounter(_ context.Context, bucket, key []byte) (uint64, error) {
	snap := d.current.Load()
	if c := d.lastCounter.Load(); c != nil && c.snap == snap && c.bucket == string(bucket) && c.key == string(key) {
		return c.value, nil
	}
	value, _, err := snap.Get(bucket, key)
	if err != nil {
		return 0, err
	}
	v, err := driver.DecodeCounter(bucket, key, value)
	if err != nil {
		return 0, err
	}
	d.lastCounter.Store(&counterRead{snap: snap, bucket: string(bucket), key: string(key), value: v})
	return v, nil
}

// counterRead is a counter's value in one snapshot.
type counterRead struct {
	snap        *snapshot
	bucket, key string
	value       uint64
}

// snapshot is one committed state: bucket name -> tree. Snapshots are never
// modified after they are published. A snapshot is also the driver.Tx of
// a read-only transaction over it.
type snapshot struct {
	buckets map[string]*btree.BTreeG[item]
}

var errReadOnly = errors.New("memory: write in a read-only transaction")

func (s *snapshot) tree(op string, bucket []byte) (*btree.BTreeG[item], error) {
	tree, ok := s.buckets[string(bucket)]
	if !ok {
		return nil, driver.Wrap("memory", op, bucket, driver.ErrBucketNotFound)
	}
	return tree, nil
}

func (s *snapshot) Get(bucket, key []byte) ([]byte, bool, error) {
	tree, err := s.tree("get", bucket)
	if err != nil {
		return nil, false, err
	}
	it, ok := tree.Get(item{key: key})
	return it.value, ok, nil
}

func (s *snapshot) Range(bucket, start, end []byte, fn func(key, value []byte) error) error {
	tree, err := s.tree("range", bucket)
	if err != nil {
		return err
	}
	var fnErr error
	visit := func(it item) bool {
		if end != nil && bytes.Compare(it.key, end) >= 0 {
			return false
		}
		fnErr = fn(it.key, it.value)
		return fnErr == nil
	}
	if len(start) == 0 {
		tree.Ascend(visit)
	} else {
		tree.AscendGreaterOrEqual(item{key: start}, visit)
	}
	return fnErr
}

func (s *snapshot) Put(_, _, _ []byte) error    { return errReadOnly }
func (s *snapshot) Delete(_, _ []byte) error    { return errReadOnly }
func (s *snapshot) CreateBucket(_ []byte) error { return errReadOnly }
func (s *snapshot) Commit() error               { return errReadOnly }
func (s *snapshot) Rollback() error             { return nil }

// writeTx is the write transaction. It copies the snapshot's bucket map on
// its first write (next) and clones each tree on its first write to that
// bucket.
type writeTx struct {
	d      *memDriver
	base   *snapshot
	next   *snapshot       // nil until the first write
	cloned map[string]bool // buckets of next already cloned from base
}

func (w *writeTx) state() *snapshot {
	if w.next != nil {
		return w.next
	}
	return w.base
}

// writeState returns the private snapshot of this transaction, making it
// on the first write.
func (w *writeTx) writeState() *snapshot {
	if w.next == nil {
		m := make(map[string]*btree.BTreeG[item], len(w.base.buckets)+1)
		for k, v := range w.base.buckets {
			m[k] = v
		}
		w.next = &snapshot{buckets: m}
		if w.cloned == nil {
			w.cloned = map[string]bool{}
		}
	}
	return w.next
}

// writableTree returns the transaction's own copy of a bucket's tree.
func (w *writeTx) writableTree(op string, bucket []byte) (*btree.BTreeG[item], error) {
	tree, err := w.state().tree(op, bucket)
	if err != nil {
		return nil, err
	}
	if name := string(bucket); !w.cloned[name] {
		tree = tree.Clone()
		w.writeState().buckets[name] = tree
		w.cloned[name] = true
	}
	return tree, nil
}

func (w *writeTx) Get(bucket, key []byte) ([]byte, bool, error) {
	return w.state().Get(bucket, key)
}

func (w *writeTx) Range(bucket, start, end []byte, fn func(key, value []byte) error) error {
	return w.state().Range(bucket, start, end, fn)
}

func (w *writeTx) CreateBucket(name []byte) error {
	if _, ok := w.state().buckets[string(name)]; ok {
		return nil
	}
	next := w.writeState()
	next.buckets[string(name)] = btree.NewG(degree, less)
	w.cloned[string(name)] = true
	return nil
}

func (w *writeTx) Put(bucket, key, value []byte) error {
	tree, err := w.writableTree("put", bucket)
	if err != nil {
		return err
	}
	k, v := driver.Copy(key, value)
	tree.ReplaceOrInsert(item{key: k, value: v})
	return nil
}

func (w *writeTx) Delete(bucket, key []byte) error {
	tree, err := w.writableTree("delete", bucket)
	if err != nil {
		return err
	}
	tree.Delete(item{key: key})
	return nil
}

// Commit publishes the transaction's state, if it wrote anything.
func (w *writeTx) Commit() error {
	if w.next != nil {
		w.d.current.Store(w.next)
	}
	w.end()
	return nil
}

// Rollback drops the clones.
func (w *writeTx) Rollback() error {
	w.end()
	return nil
}

func (w *writeTx) end() {
	w.base, w.next = nil, nil
	w.d.mu.Unlock()
}
