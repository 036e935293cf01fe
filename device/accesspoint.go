package device

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// The access points, as /api/accesspoint/blocking numbers them.
const (
	AccessPointEntry = 0
	AccessPointExit  = 1
	// AccessPoints is how many there are (ids 0 to AccessPoints-1).
	AccessPoints = 2
)

// The journal Names of access point events (Entity EntityAccessPoint).
const (
	NameBlock   = "block"
	NameUnblock = "unblock"
)

// AccessPointState is one access point of /api/accesspoint/blocking/status.
type AccessPointState struct {
	ID      int  `json:"id"`
	Blocked bool `json:"blocked"`
}

// AccessPointStatus is the result of /api/accesspoint/blocking/status.
type AccessPointStatus struct {
	AccessPoints []AccessPointState `json:"accessPoints"`
}

const flagBlocked = 1

func checkAccessPoint(id int) error {
	if id < 0 || id >= AccessPoints {
		return fmt.Errorf("%w: %d (0 for entry, 1 for exit)", ErrInvalidAccessPoint, id)
	}
	return nil
}

// BlockAccessPoint blocks (blocked true) or unblocks access point id. Setting
// the state it has succeeds and changes nothing; a change is journaled. An
// id that is not an access point is ErrInvalidAccessPoint.
func (d *Device) BlockAccessPoint(ctx context.Context, id int, blocked bool) error {
	if err := checkAccessPoint(id); err != nil {
		return err
	}
	source := journal.SourceFrom(ctx)
	var evs []journal.Event
	err := d.st.Update(ctx, func(tx store.Tx) error {
		now := d.now().UnixNano()
		was, err := blockedIn(tx, id)
		if err != nil || was == blocked {
			evs = nil
			return err
		}
		// Settle the switches first, so that the journal's times keep
		// their order.
		if evs, err = d.settleTx(tx, now); err != nil {
			return err
		}
		var v byte
		name := NameUnblock
		if blocked {
			v, name = flagBlocked, NameBlock
		}
		if err := tx.Put(bucketAccessPoints, idKey(id), []byte{v}); err != nil {
			return err
		}
		ev := journal.Event{Kind: journal.Switch, Time: time.Unix(0, now).UTC(), Source: source, Name: name,
			Entity: EntityAccessPoint, Lock: id, Granted: blocked}
		evs, err = d.journal.AppendTx(tx, append(evs, ev)...)
		return err
	})
	if err != nil {
		return err
	}
	d.journal.AfterCommit(evs)
	d.log.Debug("access point blocking", "id", id, "blocked", blocked)
	return nil
}

// blockedIn reads the blocking of access point id in tx.
func blockedIn(tx store.Tx, id int) (bool, error) {
	v, err := tx.Get(bucketAccessPoints, idKey(id))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case len(v) != 1 || v[0]&^flagBlocked != 0:
		return false, fmt.Errorf("%w: access point record %x", ErrCorrupt, v)
	}
	return v[0] == flagBlocked, nil
}

// AccessPointStatus returns the blocking of the access points only names,
// or of both; an id that is not an access point is ErrInvalidAccessPoint.
func (d *Device) AccessPointStatus(ctx context.Context, only ...int) (AccessPointStatus, error) {
	for _, id := range only {
		if err := checkAccessPoint(id); err != nil {
			return AccessPointStatus{}, err
		}
	}
	ids := only
	if len(ids) == 0 {
		ids = []int{AccessPointEntry, AccessPointExit}
	}
	out := AccessPointStatus{AccessPoints: make([]AccessPointState, len(ids))}
	err := d.st.View(ctx, func(tx store.Tx) error {
		for i, id := range ids {
			blocked, err := blockedIn(tx, id)
			if err != nil {
				return err
			}
			out.AccessPoints[i] = AccessPointState{ID: id, Blocked: blocked}
		}
		return nil
	})
	if err != nil {
		return AccessPointStatus{}, err
	}
	return out, nil
}
