package postgres

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lintelhq/lintel/store/driver"
)

// Scan pages: the first is small, so that a short scan or one stopped
// early reads little; each next one is larger, up to lastPage rows, which
// bounds what a callback that uses the transaction makes the scan hold.
const (
	firstPage  = 512
	pageGrowth = 4
	lastPage   = 8192
)

// endTimeout bounds a ROLLBACK sent after the transaction's function
// returned.
const endTimeout = 30 * time.Second

// tx is one transaction, on one connection taken from the pool at its
// first statement. Ended, it goes back to the driver's pool of them.
type tx struct {
	d        *pgDriver
	ctx      context.Context
	begin    stmt // the BEGIN statement, sent with the first statement
	lock     stmt // a LOCK statement sent right after it, if any
	writable bool

	conn    *pgxpool.Conn // nil until the first statement
	begun   bool          // BEGIN has been sent
	aborted error         // the error that ended the transaction on the server
	active  *scanner      // the scan whose rows are on the connection

	buckets []bucketState   // what this transaction knows of buckets
	pending []*bucketWrites // buffered writes, per bucket
	mem     arena           // keys and values handed out or buffered
}

type bucketState struct {
	name   string
	exists bool
}

// bucketWrites are the writes to one bucket not yet sent: the last value
// of each key, nil for a delete.
type bucketWrites struct {
	name  []byte
	keys  [][]byte
	vals  [][]byte
	index map[string]int // key -> position in keys and vals
}

// known returns what this transaction knows of a bucket.
func (t *tx) known(name []byte) (exists, known bool) {
	for _, b := range t.buckets {
		if b.name == string(name) {
			return b.exists, true
		}
	}
	return false, false
}

func (t *tx) remember(name []byte, exists bool) {
	for i := range t.buckets {
		if t.buckets[i].name == string(name) {
			t.buckets[i].exists = exists
			return
		}
	}
	t.buckets = append(t.buckets, bucketState{string(name), exists})
}

// send sends, in one round trip: the ROLLBACK of a parked connection's
// transaction, BEGIN if the transaction has not begun, the buffered writes
// if flush is set, and the statements queue adds. It reads the results of
// all but queue's and returns the rest; the caller closes them. Any error
// aborts the transaction (see fail).
func (t *tx) send(flush bool, queue func(b *batch) error) (*results, error) {
	if t.aborted != nil {
		return nil, t.abortedErr()
	}
	if err := t.detach(); err != nil {
		return nil, err
	}
	if flush {
		if err := t.bulk(); err != nil {
			return nil, err
		}
	}
	rollback := false
	if t.conn == nil {
		if t.conn = t.d.parking.take(); t.conn != nil {
			rollback = true // the parked connection's read-only transaction
		} else {
			conn, err := t.d.pool.Acquire(t.ctx)
			if err != nil {
				return nil, fmt.Errorf("connecting: %w", err)
			}
			t.conn = conn
		}
	}
	b := &batch{t: t}
	err := func() error {
		switch {
		case rollback && !t.begun && t.begin == t.d.q.beginView:
			// One statement ends the parked View and begins this one
			// (a View has no writes to flush).
			return b.add(t.d.q.rollbackChain)
		case rollback:
			if err := b.add(t.d.q.rollback); err != nil {
				return err
			}
		}
		if !t.begun {
			if err := b.add(t.begin); err != nil {
				return err
			}
			if t.lock.sql != "" {
				if err := b.add(t.lock); err != nil {
					return err
				}
			}
		}
		if flush {
			if err := t.queueWrites(b); err != nil {
				return err
			}
		}
		return nil
	}()
	first := b.n
	if err == nil && queue != nil {
		err = queue(b)
	}
	if err != nil {
		if rollback { // nothing was sent: the parked transaction is still open
			t.begun = true
		}
		return nil, t.fail(err)
	}
	t.begun = true
	r := &results{mrr: t.conn.Conn().PgConn().ExecBatch(t.ctx, &b.b)}
	for range first {
		if _, err := r.exec(); err != nil {
			_ = r.close()
			return nil, t.fail(err)
		}
	}
	return r, nil
}

// fail records the first error of a statement: the transaction is then
// aborted on the server (or its connection lost), and every later call
// returns that error (see abortedErr), so that a serialization failure
// reaches the store's retry even if fn drops it.
func (t *tx) fail(err error) error {
	if t.aborted == nil {
		t.aborted = err
	}
	return err
}

// abortedErr is the error of a call after the transaction was aborted.
func (t *tx) abortedErr() error {
	return fmt.Errorf("the transaction was aborted by an earlier error: %w", t.aborted)
}

// finish closes results whose rows the caller has read, recording an
// error.
func (t *tx) finish(r *results, err error) error {
	if cerr := r.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t.fail(err)
	}
	return nil
}

// queueWrites queues the buffered writes, one delete and one upsert per
// bucket, and forgets them.
func (t *tx) queueWrites(b *batch) error {
	for _, w := range t.pending {
		puts, vals, dels := w.split()
		if len(dels) > 0 {
			if err := b.add(t.d.q.deleteKeys, w.name, byteaArray(dels)); err != nil {
				return err
			}
		}
		if len(puts) > 0 {
			if err := b.add(t.d.q.upsert, w.name, byteaArray(puts), byteaArray(vals), puts[0], puts[len(puts)-1]); err != nil {
				return err
			}
		}
	}
	t.pending = nil
	return nil
}

// split returns the keys put, in ascending order (which lets an upsert
// check with one index lookup whether any of them may exist), their
// values, and the keys deleted.
func (w *bucketWrites) split() (puts, vals, dels [][]byte) {
	order := make([]int, 0, len(w.keys))
	for i, v := range w.vals {
		if v == nil {
			dels = append(dels, w.keys[i])
		} else {
			order = append(order, i)
		}
	}
	byKey := func(i, j int) int { return bytes.Compare(w.keys[i], w.keys[j]) }
	if !slices.IsSortedFunc(order, byKey) {
		slices.SortFunc(order, byKey)
	}
	if len(order) > 0 {
		puts, vals = make([][]byte, len(order)), make([][]byte, len(order))
		for j, i := range order {
			puts[j], vals[j] = w.keys[i], w.vals[i]
		}
	}
	return puts, vals, dels
}

// Commit sends the buffered writes and COMMIT in one round trip, and ends
// the transaction whatever the outcome.
func (t *tx) Commit() error {
	err := t.commit()
	t.end()
	return wrap("commit", nil, err)
}

func (t *tx) commit() error {
	if t.aborted != nil {
		return t.abortedErr()
	}
	if !t.begun && len(t.pending) == 0 {
		return nil // nothing was read or written
	}
	r, err := t.send(true, func(b *batch) error { return b.add(t.d.q.commit) })
	if err != nil {
		return err
	}
	tag, err := r.exec()
	if err = t.finish(r, err); err != nil {
		return err
	}
	if tag.String() != "COMMIT" { // the server rolled back instead
		return t.fail(fmt.Errorf("the server answered %q", tag.String()))
	}
	return nil
}

// Rollback ends the transaction (see end).
func (t *tx) Rollback() error {
	t.end()
	return nil
}

// end ends the transaction after its function returned, and gives the tx
// back to the driver for a later transaction. After a commit the
// connection goes back to the pool. A View's connection is parked with its
// transaction open, to be rolled back in the same round trip as the next
// transaction's first statements (see parking). Otherwise the ROLLBACK is
// sent from another goroutine, so that the caller does not wait for it.
func (t *tx) end() {
	d, conn, sc := t.d, t.conn, t.active
	writable := t.writable
	// The next transaction reuses the arrays of buckets and pending, not
	// what they hold, nor the arena's blocks.
	clear(t.pending)
	clear(t.buckets)
	*t = tx{buckets: t.buckets[:0], pending: t.pending[:0]}
	defer d.txs.Put(t)
	if conn == nil {
		return
	}
	if sc != nil {
		_ = sc.close() // fn panicked in a scan callback
	}
	pc := conn.Conn().PgConn()
	switch {
	case pc.IsClosed() || pc.IsBusy():
		conn.Release() // the pool drops it
	case pc.TxStatus() == 'I':
		conn.Release()
	case pc.TxStatus() == 'T' && !writable:
		d.parking.park(conn)
	default:
		d.rollback(conn)
	}
}

// CreateBucket creates the bucket unless it exists, in one round trip.
func (t *tx) CreateBucket(name []byte) error {
	r, err := t.send(false, func(b *batch) error { return b.add(t.d.q.createBucket, name) })
	if err == nil {
		_, err = r.exec()
		err = t.finish(r, err)
	}
	if err != nil {
		return wrap("create bucket", name, err)
	}
	t.remember(name, true)
	return nil
}

// bucketExists asks the database unless the transaction knows.
func (t *tx) bucketExists(name []byte) (bool, error) {
	if exists, known := t.known(name); known {
		return exists, nil
	}
	r, err := t.send(false, func(b *batch) error { return b.add(t.d.q.bucketExists, name) })
	if err != nil {
		return false, err
	}
	row, err := r.row()
	var exists bool
	if err == nil {
		exists = isTrue(row[0])
	}
	if err := t.finish(r, err); err != nil {
		return false, err
	}
	t.remember(name, exists)
	return exists, nil
}

// needBucket checks that a bucket exists before a write.
func (t *tx) needBucket(name []byte) error {
	exists, err := t.bucketExists(name)
	if err != nil {
		return err
	}
	if !exists {
		return driver.ErrBucketNotFound
	}
	return nil
}

// Get reads the buffered writes first, and otherwise asks for the value,
// and for the bucket when the transaction does not know it, in one
// statement.
func (t *tx) Get(bucket, key []byte) ([]byte, bool, error) {
	v, err := t.get(bucket, key)
	if err != nil {
		return nil, false, wrap("get", bucket, err)
	}
	return v, v != nil, nil
}

// get returns the value, nil when missing.
func (t *tx) get(bucket, key []byte) ([]byte, error) {
	exists, known := t.known(bucket)
	if known && !exists {
		return nil, driver.ErrBucketNotFound
	}
	if w := t.writesTo(bucket); w != nil {
		if i, ok := w.index[string(key)]; ok {
			return w.vals[i], nil // nil for a delete
		}
	}
	if len(key) == 0 && known {
		return nil, nil // no key is empty
	}
	r, err := t.send(false, func(b *batch) error {
		if known {
			return b.add(t.d.q.get, bucket, key)
		}
		return b.add(t.d.q.getChecked, bucket, key)
	})
	if err != nil {
		return nil, err
	}
	var v []byte
	rr, err := r.next()
	if err == nil {
		rows := 0
		for rr.NextRow() {
			if rows++; rows == 1 {
				values := rr.Values()
				if !known {
					exists = isTrue(values[0])
					values = values[1:]
				}
				v = t.mem.copy(values[0])
			}
		}
		_, err = rr.Close()
	}
	if err := t.finish(r, err); err != nil {
		return nil, err
	}
	if !known {
		t.remember(bucket, exists)
		if !exists {
			return nil, driver.ErrBucketNotFound
		}
	}
	return v, nil
}

func (t *tx) writesTo(bucket []byte) *bucketWrites {
	for _, w := range t.pending {
		if bytes.Equal(w.name, bucket) {
			return w
		}
	}
	return nil
}

// write buffers a put (value non-nil) or a delete (nil).
func (t *tx) write(op string, bucket, key, value []byte) error {
	if err := t.needBucket(bucket); err != nil {
		return wrap(op, bucket, err)
	}
	w := t.writesTo(bucket)
	if w == nil {
		w = &bucketWrites{name: t.mem.copy(bucket), index: map[string]int{}}
		t.pending = append(t.pending, w)
	}
	if i, ok := w.index[string(key)]; ok {
		w.vals[i] = value
		return nil
	}
	k := t.mem.copy(key)
	// The arena's bytes are never written again, so the key can be the
	// map's string without a second copy.
	w.index[unsafe.String(unsafe.SliceData(k), len(k))] = len(w.keys)
	w.keys, w.vals = append(w.keys, k), append(w.vals, value)
	return nil
}

// Put buffers a copy of value (the store never gives nil: nil means a
// delete here).
func (t *tx) Put(bucket, key, value []byte) error {
	return t.write("put", bucket, key, t.mem.copy(value))
}

func (t *tx) Delete(bucket, key []byte) error { return t.write("delete", bucket, key, nil) }

// Range streams the range a page at a time. The first page goes with the
// buffered writes and, if the transaction does not know the bucket, its
// check, in one round trip. fn's error is returned as it is, the others
// wrapped.
func (t *tx) Range(bucket, start, end []byte, fn func(key, value []byte) error) error {
	fnErr, err := t.scan(bucket, start, end, fn)
	if fnErr != nil {
		return fnErr
	}
	return wrap("range", bucket, err)
}

func (t *tx) scan(bucket, start, end []byte, fn func(key, value []byte) error) (fnErr, err error) {
	exists, known := t.known(bucket)
	if known && !exists {
		return nil, driver.ErrBucketNotFound
	}
	from := start
	if from == nil {
		from = []byte{}
	}
	for limit := firstPage; ; limit = min(limit*pageGrowth, lastPage) {
		checked := !known
		r, err := t.send(true, func(b *batch) error {
			if checked {
				if err := b.add(t.d.q.bucketExists, bucket); err != nil {
					return err
				}
			}
			if end != nil {
				return b.add(t.d.q.scanTo, bucket, from, end, bigint(limit))
			}
			return b.add(t.d.q.scanFrom, bucket, from, bigint(limit))
		})
		if err != nil {
			return nil, err
		}
		if checked {
			row, err := r.row()
			if err != nil {
				return nil, t.finish(r, err)
			}
			exists = isTrue(row[0])
			t.remember(bucket, exists)
			known = true
			if !exists {
				if err := t.finish(r, nil); err != nil {
					return nil, err
				}
				return nil, driver.ErrBucketNotFound
			}
		}
		rr, err := r.next()
		if err != nil {
			return nil, t.finish(r, err)
		}
		sc := &scanner{t: t, r: r, rows: rr}
		t.active = sc
		n, last, fnErr, err := sc.each(fn)
		if fnErr != nil || err != nil || n < limit {
			return fnErr, err
		}
		from = append(bytes.Clone(last), 0) // the next key after the page
	}
}

// scanner is one page of a scan: its rows stream from the connection until
// the callback needs the connection, then the rest is read into rest.
type scanner struct {
	t    *tx
	r    *results
	rows *pgconn.ResultReader // nil once read or drained
	rest [][2][]byte
	err  error // from draining
}

// each calls fn for each row of the page; it returns how many rows it
// read, the last key, and fn's error or its own.
func (sc *scanner) each(fn func(key, value []byte) error) (n int, last []byte, fnErr, err error) {
	defer func() {
		if sc.t.active == sc {
			sc.t.active = nil
			if cerr := sc.close(); err == nil && cerr != nil {
				err = sc.t.fail(cerr)
			}
		}
	}()
	for {
		var k, v []byte
		switch {
		case sc.rows != nil:
			if !sc.rows.NextRow() {
				sc.t.active = nil
				if err := sc.close(); err != nil {
					return n, nil, nil, sc.t.fail(err)
				}
				return n, last, nil, nil
			}
			values := sc.rows.Values()
			k, v = sc.t.mem.copy(values[0]), sc.t.mem.copy(values[1])
		case len(sc.rest) > 0:
			k, v = sc.rest[0][0], sc.rest[0][1]
			sc.rest = sc.rest[1:]
		default:
			return n, last, nil, sc.err
		}
		n, last = n+1, k
		if err := fn(k, v); err != nil {
			return n, last, err, nil
		}
	}
}

// drain reads the rest of the page into memory and frees the connection.
func (sc *scanner) drain() error {
	if sc.rows == nil {
		return nil
	}
	for sc.rows.NextRow() {
		values := sc.rows.Values()
		sc.rest = append(sc.rest, [2][]byte{sc.t.mem.copy(values[0]), sc.t.mem.copy(values[1])})
	}
	sc.err = sc.close()
	return sc.err
}

// close closes the page's rows and what is left of the round trip.
func (sc *scanner) close() error {
	if sc.rows == nil {
		return nil
	}
	_, err := sc.rows.Close()
	if cerr := sc.r.close(); err == nil {
		err = cerr
	}
	sc.rows = nil
	return err
}

// detach frees the connection from the scan that holds it, if any.
func (t *tx) detach() error {
	sc := t.active
	if sc == nil {
		return nil
	}
	t.active = nil
	if err := sc.drain(); err != nil {
		return t.fail(err)
	}
	return nil
}

// arena hands out copies of byte slices from large blocks, so that a
// transaction's reads and writes do not allocate one by one. A copy stays
// valid, and is never written again, until the transaction is dropped.
type arena struct {
	block []byte
}

const (
	arenaMin = 1 << 10
	arenaMax = 64 << 10
)

// copy returns a copy of b (nil for nil, non-nil for an empty b) whose
// capacity ends at its length, so that an append by the caller cannot
// reach the next copy.
func (a *arena) copy(b []byte) []byte {
	switch {
	case b == nil:
		return nil
	case len(b) == 0:
		return []byte{}
	case len(b) > arenaMax/4:
		return bytes.Clone(b) // a large value gets memory of its own
	}
	if len(b) > cap(a.block)-len(a.block) {
		a.block = make([]byte, 0, min(max(2*cap(a.block), arenaMin), arenaMax))
	}
	n := len(a.block)
	a.block = append(a.block, b...)
	return a.block[n:len(a.block):len(a.block)]
}
