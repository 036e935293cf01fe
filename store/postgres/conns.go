package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// A View ends with a ROLLBACK that nobody waits for. Rather than spend a
// round trip of its own on it, the connection is parked with its read-only
// transaction still open, and the next transaction to need a connection
// takes it and sends the ROLLBACK in front of its own first statements, in
// the same round trip. A connection parked for longer than parkTime is
// rolled back and returned to the pool by a timer, so that an idle
// server's transactions do not hold back vacuum or another server's
// schema change for longer than that.
const (
	parkTime = 2 * time.Millisecond
	parkMax  = 8 // connections parked at most; more are rolled back at once
)

type parked struct {
	conn  *pgxpool.Conn
	since time.Time
}

// parking holds the connections whose read-only transaction is still open.
// Its timer is armed when a connection is parked and none was waiting for
// it, and re-armed by the sweep while some are left, but never reset by a
// park: a View after View on one connection would otherwise reset it each
// time, which costs more than the View's own work on the client.
type parking struct {
	mu    sync.Mutex
	conns []parked
	timer *time.Timer // nil until the first park
	armed bool        // the timer will fire
	d     *pgDriver
}

// take returns a parked connection (whose transaction the caller must
// roll back first), or nil.
func (p *parking) take() *pgxpool.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns)
	if n == 0 {
		return nil
	}
	c := p.conns[n-1].conn // the most recent: its backend is the warmest
	p.conns[n-1] = parked{}
	p.conns = p.conns[:n-1]
	return c
}

// park keeps conn, in a read-only transaction, for the next transaction.
func (p *parking) park(conn *pgxpool.Conn) {
	p.mu.Lock()
	if len(p.conns) >= parkMax {
		p.mu.Unlock()
		p.d.rollback(conn)
		return
	}
	p.conns = append(p.conns, parked{conn, time.Now()})
	switch {
	case p.timer == nil:
		p.timer, p.armed = time.AfterFunc(parkTime, p.sweep), true
	case !p.armed:
		p.timer.Reset(parkTime)
		p.armed = true
	}
	p.mu.Unlock()
}

// sweep rolls back the connections parked for parkTime or longer, and
// arms the timer for the oldest of the others: a connection is rolled
// back about parkTime after it was parked, as if each had its own timer.
func (p *parking) sweep() {
	p.mu.Lock()
	p.armed = false
	cutoff := time.Now().Add(-parkTime)
	var old []*pgxpool.Conn
	kept := p.conns[:0]
	for _, c := range p.conns {
		if c.since.After(cutoff) {
			kept = append(kept, c)
		} else {
			old = append(old, c.conn)
		}
	}
	clear(p.conns[len(kept):])
	p.conns = kept
	if len(p.conns) > 0 {
		p.timer.Reset(p.conns[0].since.Sub(cutoff))
		p.armed = true
	}
	p.mu.Unlock()
	for _, c := range old {
		p.d.rollback(c)
	}
}

// flush rolls back every parked connection, and waits for that.
func (p *parking) flush() {
	p.mu.Lock()
	all := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range all {
		p.d.rollback(c.conn)
	}
	p.d.waitBackground()
}

// waitBackground waits for the ROLLBACKs in flight. New ones wait for it
// to return before they are counted, as sync.WaitGroup requires.
func (d *pgDriver) waitBackground() {
	d.bgMu.Lock()
	defer d.bgMu.Unlock()
	d.bg.Wait()
}

// rollback ends conn's transaction, if any, from another goroutine, and
// returns conn to the pool (which drops it unless it is then idle). Close
// waits for it.
func (d *pgDriver) rollback(conn *pgxpool.Conn) {
	d.bgMu.RLock() // an Add may not race a Wait that could see zero
	d.bg.Add(1)
	d.bgMu.RUnlock()
	go func() {
		defer d.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
		defer cancel()
		if pc := conn.Conn().PgConn(); !pc.IsClosed() && !pc.IsBusy() && pc.TxStatus() != 'I' {
			_, _ = pc.Exec(ctx, "ROLLBACK").ReadAll()
		}
		conn.Release()
	}()
}
