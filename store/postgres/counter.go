package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
)

// binaryFormat asks for every parameter and result in binary form, which
// for bytea is the bytes themselves.
var binaryFormat = []int16{1}

// ReadCounter reads a counter (store.GetUint64) with one statement and
// one round trip, outside any transaction block: it is the driver's
// driver.CounterReader, behind the store's ReadCounter. The statement's
// snapshot is taken when the server receives it, so it sees every
// transaction committed before the call, on this server or another.
// Concurrent calls for one counter share statements (see the package doc):
// a call that finds a read on its way waits for the next round.
func (d *pgDriver) ReadCounter(ctx context.Context, bucket, key []byte) (uint64, error) {
	f := d.flights.get(bucket, key)
	f.mu.Lock()
	if !f.busy {
		f.busy = true
		f.mu.Unlock()
		v, err := d.readCounter(ctx, f.bucket, f.key)
		d.nextRound(f)
		return v, err
	}
	r := f.next
	if r == nil {
		r = &round{done: make(chan struct{})}
		f.next = r
	}
	f.mu.Unlock()
	select {
	case <-r.done:
		return r.v, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// nextRound sends the read that the calls which came during the last one
// wait for, if any, from another goroutine (Close waits for it).
func (d *pgDriver) nextRound(f *flight) {
	f.mu.Lock()
	r := f.next
	f.next = nil
	f.busy = r != nil
	f.mu.Unlock()
	if r == nil {
		return
	}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
		r.v, r.err = d.readCounter(ctx, f.bucket, f.key)
		cancel()
		close(r.done)
		d.nextRound(f)
	}()
}

// readCounter runs the statement, on the reserved connection when it is
// free.
func (d *pgDriver) readCounter(ctx context.Context, bucket, key []byte) (uint64, error) {
	var v uint64
	decode := func(row [][]byte) (err error) {
		if !isTrue(row[1]) {
			return wrap("read counter", bucket, driver.ErrBucketNotFound)
		}
		v, err = driver.DecodeCounter(bucket, key, row[0])
		return err
	}
	params := [][]byte{bucket, key}
	conn, err := d.reserved.take(ctx, d.pool)
	switch {
	case err != nil:
		err = wrap("read counter", bucket, fmt.Errorf("connecting: %w", err))
	case conn == nil: // another counter's read has it
		err = d.statement(ctx, "read counter", bucket, d.q.readCounter, params, decode)
	default:
		err = run(ctx, conn, "read counter", bucket, d.q.readCounter, params, decode)
		d.reserved.give(conn)
	}
	return v, err
}

// reserved is the connection kept for ReadCounter, taken from the pool at
// the first read and returned at Close. Reads of one counter go one at a
// time (see ReadCounter), so one connection serves the hot path of a
// decision without waiting for the pool behind transactions, however many
// of them there are.
type reserved struct {
	mu     sync.Mutex
	conn   *pgxpool.Conn
	busy   bool
	closed bool
}

// take returns the reserved connection, acquiring it first if need be, or
// nil when it is in use or the store is closing.
func (r *reserved) take(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Conn, error) {
	r.mu.Lock()
	if r.busy || r.closed {
		r.mu.Unlock()
		return nil, nil
	}
	r.busy = true
	conn := r.conn
	r.mu.Unlock()
	if conn != nil {
		return conn, nil
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		r.give(nil)
		return nil, err
	}
	return conn, nil
}

// give returns what take returned. A connection left unusable goes back
// to the pool, which drops it; the next take acquires another.
func (r *reserved) give(conn *pgxpool.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.busy = false
	if conn != nil {
		if pc := conn.Conn().PgConn(); r.closed || pc.IsClosed() || pc.IsBusy() || pc.TxStatus() != 'I' {
			conn.Release()
			conn = nil
		}
	}
	r.conn = conn
}

// close returns the connection to the pool; Close calls it once nothing
// uses the store.
func (r *reserved) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.conn != nil && !r.busy {
		r.conn.Release()
		r.conn = nil
	}
}

// flight is the state of the reads of one counter.
type flight struct {
	bucket, key []byte
	mu          sync.Mutex
	busy        bool   // a read is on its way
	next        *round // the calls waiting for the read after it
}

// round is one read that several calls wait for.
type round struct {
	done chan struct{}
	v    uint64
	err  error
}

// flights finds the flight of a counter without a lock or an allocation
// once it exists: a copy-on-write list, as a Store reads few counters.
type flights struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*flight]
}

func (fs *flights) get(bucket, key []byte) *flight {
	if l := fs.list.Load(); l != nil {
		for _, f := range *l {
			if bytes.Equal(f.bucket, bucket) && bytes.Equal(f.key, key) {
				return f
			}
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var l []*flight
	if p := fs.list.Load(); p != nil {
		l = *p
	}
	for _, f := range l {
		if bytes.Equal(f.bucket, bucket) && bytes.Equal(f.key, key) {
			return f
		}
	}
	f := &flight{bucket: bytes.Clone(bucket), key: bytes.Clone(key)}
	l = append(slices.Clip(l), f)
	fs.list.Store(&l)
	return f
}

func isTrue(b []byte) bool { return len(b) == 1 && b[0] == 1 }

// errRaced is DecrementIf's error for a count that another transaction
// changed after the statement's snapshot: retryable.
var errRaced = errors.New("the count changed during the statement")

// DecrementIf consumes one unit of the count at bucket/key, a big-endian
// unsigned integer of 4 or 8 bytes (as store.PutUint64 writes one, or
// package access its passes), provided that the counter at
// guardBucket/guardKey, read as store.GetUint64 reads it, still equals
// guard: it is the driver's driver.Decrementer, behind the store's
// DecrementIf, in one statement outside any transaction block: one round
// trip. It returns the count before the decrement; 0 means none was left
// and nothing changed.
//
// The guard and the count are read in the statement's snapshot, taken
// when the server receives it, so the guard reflects every transaction
// committed before the call. The decrement itself applies to the newest
// version of the count: when another transaction changes it meanwhile,
// the statement waits for that one and checks the count again, so
// concurrent callers, on any server, never take more units than there
// are. When the count was changed to zero or deleted after the snapshot,
// it returns errRaced, which the store retries with a new snapshot, as it
// does a serialization failure.
//
// A cache keyed by a generation counter uses it to spend a limited
// resource with no transaction: guard is the generation its entries were
// read at, and store.ErrGuardChanged sends the caller back to a
// transaction.
func (d *pgDriver) DecrementIf(ctx context.Context, guardBucket, guardKey []byte, guard uint64, bucket, key []byte) (uint64, error) {
	guardBytes := binary.BigEndian.AppendUint64(make([]byte, 0, 8), guard)
	params := [][]byte{guardBucket, guardKey, guardBytes, bucket, key}
	var before uint64
	err := d.statement(ctx, "decrement", bucket, d.q.decrementIf, params, func(row [][]byte) error {
		if !isTrue(row[3]) {
			return wrap("decrement", guardBucket, driver.ErrBucketNotFound)
		}
		if !isTrue(row[4]) {
			return wrap("decrement", bucket, driver.ErrBucketNotFound)
		}
		g, err := driver.DecodeCounter(guardBucket, guardKey, row[0])
		if err != nil {
			return err
		}
		if g != guard {
			return driver.ErrGuardChanged
		}
		if after := row[1]; after != nil {
			n, err := driver.DecodeCount(bucket, key, after)
			before = n + 1
			return err
		}
		if row[2] == nil {
			return wrap("decrement", bucket, fmt.Errorf("key %q: %w", key, driver.ErrNotFound))
		}
		n, err := driver.DecodeCount(bucket, key, row[2])
		if err == nil && n > 0 {
			// The snapshot had n units but the newest version had none,
			// or no longer existed: another transaction changed it after
			// the snapshot. Ask again, with a newer snapshot.
			err = errRaced
		}
		return err
	})
	return before, err
}

// statement runs one statement, prepared once per connection, outside any
// transaction block, and hands its one row to row; the row's values are
// valid only during the call. It returns row's error as it is, and wraps
// its own with op and bucket.
func (d *pgDriver) statement(ctx context.Context, op string, bucket []byte, st stmt, params [][]byte, row func(values [][]byte) error) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return wrap(op, bucket, fmt.Errorf("connecting: %w", err))
	}
	defer conn.Release()
	return run(ctx, conn, op, bucket, st, params, row)
}

// run runs a statement on conn, as statement does.
func run(ctx context.Context, conn *pgxpool.Conn, op string, bucket []byte, st stmt, params [][]byte, row func(values [][]byte) error) error {
	sd, err := conn.Conn().Prepare(ctx, st.name, st.sql)
	if err != nil {
		return wrap(op, bucket, err)
	}
	rr := conn.Conn().PgConn().ExecStatement(ctx, sd, params, binaryFormat, binaryFormat)
	rows := 0
	var rowErr error
	for rr.NextRow() {
		if rows++; rows == 1 {
			rowErr = row(rr.Values())
		}
	}
	if _, err := rr.Close(); err != nil {
		return wrap(op, bucket, err)
	}
	if rows != 1 {
		return wrap(op, bucket, fmt.Errorf("a statement returned %d rows, not 1", rows))
	}
	return rowErr
}

// Get reads one value of the last committed state with one statement and
// one round trip, outside any transaction block: what a View that only
// calls tx.Get returns, without the View. It sees every transaction
// committed before the call, on this server or another. The value is the
// caller's to keep. Errors are those of tx.Get: store.ErrNotFound,
// store.ErrBucketNotFound, store.ErrInvalidName, and store.ErrClosed after
// Close.
//
// It is the store side of an optional interface proposed for package
// store (a Getter), for callers whose read needs no snapshot shared with
// another read.
func (s *Store) Get(ctx context.Context, bucket, key []byte) ([]byte, error) {
	if len(bucket) == 0 {
		return nil, store.ErrInvalidName
	}
	var v []byte
	err := s.Raw(ctx, func(driver.Driver) error {
		return s.d.statement(ctx, "get", bucket, s.d.q.getChecked, [][]byte{bucket, key}, func(row [][]byte) error {
			if !isTrue(row[0]) {
				return wrap("get", bucket, driver.ErrBucketNotFound)
			}
			if row[1] == nil {
				return store.ErrNotFound
			}
			v = bytes.Clone(row[1])
			return nil
		})
	})
	return v, err
}
