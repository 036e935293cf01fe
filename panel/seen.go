package panel

import (
	"context"
	"errors"
	"time"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// The journal's names for a panel's status: events of kind journal.Panel,
// Source the serial, no Key (pushed events always have one).
const (
	NameOnline  = "online"
	NameOffline = "offline"
)

// seenRecord is the stored state of a panel's heartbeat.
type seenRecord struct {
	Gen    uint64 `json:"gen"`    // the record.Gen of the panel
	Last   int64  `json:"last"`   // unix ns of the newest call written
	Online bool   `json:"online"` // the last status journaled
}

// seenState is what one Registry saw of a panel.
type seenState struct {
	gen     uint64 // the record.Gen of the panel seen
	last    int64  // unix ns of the newest call seen here
	written int64  // when this Registry last wrote the store for it
	online  bool   // the store says online, as far as this Registry knows
}

func decodeSeen(k, v []byte) (seenRecord, error) { return decodeJSON[seenRecord]("last seen of", k, v) }

func getSeen(tx store.Tx, serial string) (seenRecord, error) {
	v, err := tx.Get(bucketSeen, []byte(serial))
	if errors.Is(err, store.ErrNotFound) {
		return seenRecord{}, nil
	}
	if err != nil {
		return seenRecord{}, err
	}
	return decodeSeen([]byte(serial), v)
}

// memoryLast returns the newest call of serial (created at generation gen)
// this Registry saw, 0 when none.
func (r *Registry) memoryLast(serial string, gen uint64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.seen[serial]; s != nil && s.gen == gen {
		return s.last
	}
	return 0
}

// Online says whether p was seen within the offline delay of now.
func (r *Registry) Online(p Panel) bool {
	return !p.LastSeen.IsZero() && r.now().Sub(p.LastSeen) <= r.offlineAfter
}

// Seen records that the panel serial called now: its pong and refresh,
// and every call it authenticated. It writes the store at most once per
// seen interval per panel (default a minute) and keeps the newest time in
// memory in between, except when the panel comes online: then it writes
// at once, with a journal event NameOnline (preceded by NameOffline when
// the panel's silence passed the offline delay and no Sweep recorded it).
// An unknown serial is ErrNotFound.
func (r *Registry) Seen(ctx context.Context, serial string) error {
	if err := CheckSerial(serial); err != nil {
		return err
	}
	e, err := r.lookup(ctx, serial)
	if err != nil {
		return err
	}
	now := r.now().UnixNano()
	r.mu.Lock()
	s := r.seen[serial]
	if s == nil || s.gen != e.gen { // new, or removed and created again
		s = &seenState{gen: e.gen}
		r.seen[serial] = s
	}
	prev := s.last
	need := !s.online || prev == 0 || now-prev > int64(r.offlineAfter) || now-s.written >= int64(r.seenInterval)
	s.last = max(s.last, now)
	if !need {
		r.mu.Unlock()
		return nil
	}
	written := s.written
	s.written = now // claimed: concurrent calls need not write too
	r.mu.Unlock()

	evs, err := r.writeSeen(ctx, serial, e.gen, now, prev)
	r.mu.Lock()
	if err != nil {
		s.written = written // let the next call try again
	} else {
		s.online = true
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	r.journal.AfterCommit(evs)
	return nil
}

// writeSeen writes that serial (created at generation gen, last seen here
// at prev) was seen at now, and journals its transitions.
func (r *Registry) writeSeen(ctx context.Context, serial string, gen uint64, now, prev int64) ([]journal.Event, error) {
	var evs []journal.Event
	err := r.st.Update(ctx, func(tx store.Tx) error {
		evs = evs[:0]
		rec, err := getRecord(tx, serial)
		if err != nil {
			return err
		}
		sr, err := getSeen(tx, serial)
		if err != nil {
			return err
		}
		mine := prev
		if rec.Gen != gen {
			mine = 0 // what this Registry saw was of the removed panel
		}
		if sr.Gen != rec.Gen {
			sr = seenRecord{Gen: rec.Gen}
		}
		if sr.Online {
			if last, limit := r.silence(sr.Last, mine); now-last > limit {
				evs = append(evs, r.statusEvent(serial, NameOffline, last+limit))
				sr.Online = false
			}
		}
		if !sr.Online {
			evs = append(evs, r.statusEvent(serial, NameOnline, now))
			sr.Online = true
		}
		sr.Last = max(sr.Last, now)
		if err := store.PutJSON(tx, bucketSeen, []byte(serial), sr); err != nil {
			return err
		}
		evs, err = r.journal.AppendTx(tx, evs...)
		return err
	})
	return evs, err
}

// silence returns the newest known call of a panel, from the stored time
// and the one this Registry saw (0 when none), and how long it may be
// silent before it is offline. When this Registry saw the newest call, it
// knows it to the nanosecond: the limit is the offline delay. Otherwise
// only the store knows, which is written once per seen interval: the
// limit grows by that interval, so that a panel that calls another server
// is not declared offline between two of that server's writes.
func (r *Registry) silence(stored, mem int64) (last, limit int64) {
	if mem != 0 && mem >= stored {
		return mem, int64(r.offlineAfter)
	}
	return stored, int64(r.offlineAfter + r.seenInterval)
}

func (r *Registry) statusEvent(serial, name string, at int64) journal.Event {
	return journal.Event{Kind: journal.Panel, Time: time.Unix(0, at).UTC(), Source: serial, Name: name}
}

// Sweep records, with a journal event NameOffline, every panel that is
// online in the store and whose silence passed the offline delay (see
// silence for a panel this Registry did not see last); the event's time is
// when the silence passed the limit (for a panel seen by another server,
// up to the seen interval late, never early). Offline transitions are found only by Sweep (and by the next
// Seen of the panel): a program calls it periodically, for example every
// 10 s, on one server or on several. It is idempotent: a panel is recorded
// offline once, until it comes online again.
func (r *Registry) Sweep(ctx context.Context) error {
	now := r.now().UnixNano()
	var due []string
	err := r.st.View(ctx, func(tx store.Tx) error {
		due = due[:0]
		return tx.Scan(bucketSeen, nil, func(k, v []byte) error {
			sr, err := decodeSeen(k, v)
			if err != nil {
				return err
			}
			if last, limit := r.silence(sr.Last, r.memoryLast(string(k), sr.Gen)); sr.Online && now-last > limit {
				due = append(due, string(k))
			}
			return nil
		})
	})
	if err != nil || len(due) == 0 {
		return err
	}
	type swept struct {
		serial string
		gen    uint64
	}
	var evs []journal.Event
	var offline []swept
	err = r.st.Update(ctx, func(tx store.Tx) error {
		evs, offline = evs[:0], offline[:0]
		for _, serial := range due {
			sr, err := getSeen(tx, serial)
			if err != nil {
				return err
			}
			last, limit := r.silence(sr.Last, r.memoryLast(serial, sr.Gen))
			if !sr.Online || now-last <= limit {
				continue // seen meanwhile, or swept by another Registry
			}
			sr.Online = false
			if err := store.PutJSON(tx, bucketSeen, []byte(serial), sr); err != nil {
				return err
			}
			evs = append(evs, r.statusEvent(serial, NameOffline, last+limit))
			offline = append(offline, swept{serial, sr.Gen})
		}
		evs, err = r.journal.AppendTx(tx, evs...)
		return err
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	for _, o := range offline {
		if s := r.seen[o.serial]; s != nil && s.gen == o.gen {
			s.online = false
		}
	}
	r.mu.Unlock()
	r.journal.AfterCommit(evs)
	if len(offline) > 0 {
		r.log.Debug("panels offline", "count", len(offline))
	}
	return nil
}
