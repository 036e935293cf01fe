package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// A round trip of a transaction is a pgconn batch of prepared statements
// (Bind and Execute each, one Sync at the end), with every parameter and
// result in binary form: bytea is then the bytes themselves, and nothing
// is described, parsed or converted on the way.

// batch is the statements of one round trip.
type batch struct {
	t *tx
	b pgconn.Batch
	n int
}

// add queues st with its parameters, preparing it on the connection the
// first time the connection runs it (one more round trip, once).
func (b *batch) add(st stmt, params ...[]byte) error {
	sd, err := b.t.conn.Conn().Prepare(b.t.ctx, st.name, st.sql)
	if err != nil {
		return err
	}
	b.b.ExecStatement(sd, params, binaryFormat, binaryFormat)
	b.n++
	return nil
}

// results reads the results of a batch in order.
type results struct {
	mrr *pgconn.MultiResultReader
}

var errNoResult = errors.New("a statement sent no result")

// next returns the next statement's result, to read its rows.
func (r *results) next() (*pgconn.ResultReader, error) {
	if r.mrr.NextResult() {
		return r.mrr.ResultReader(), nil
	}
	if err := r.mrr.Close(); err != nil {
		return nil, err
	}
	return nil, errNoResult
}

// exec reads the next statement's result whole.
func (r *results) exec() (pgconn.CommandTag, error) {
	rr, err := r.next()
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	return rr.Close()
}

// row reads the next statement's one row; its values are valid until the
// next call on r.
func (r *results) row() ([][]byte, error) {
	rr, err := r.next()
	if err != nil {
		return nil, err
	}
	var values [][]byte
	rows := 0
	for rr.NextRow() {
		if rows++; rows == 1 {
			values = rr.Values()
		}
	}
	if _, err := rr.Close(); err != nil {
		return nil, err
	}
	if rows != 1 {
		return nil, fmt.Errorf("a statement returned %d rows, not 1", rows)
	}
	return values, nil
}

// close reads what is left.
func (r *results) close() error { return r.mrr.Close() }

// byteaArray encodes a bytea[] in binary form.
func byteaArray(elems [][]byte) []byte {
	size := 20
	for _, e := range elems {
		size += 4 + len(e)
	}
	b := make([]byte, 0, size)
	b = binary.BigEndian.AppendUint32(b, 1)  // dimensions
	b = binary.BigEndian.AppendUint32(b, 0)  // no NULLs
	b = binary.BigEndian.AppendUint32(b, 17) // bytea
	b = binary.BigEndian.AppendUint32(b, uint32(len(elems)))
	b = binary.BigEndian.AppendUint32(b, 1) // lower bound
	for _, e := range elems {
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

// bigint encodes a bigint in binary form.
func bigint(n int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }
