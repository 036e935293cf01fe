package access

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/lintelhq/lintel/store"
)

// layout is the version of the index layout this package writes. Layout 1
// joined index parts with a 0 byte, which a name or number could contain;
// layout 2 keys them with store.Key; layout 3 gives every identifier a UID.
const layout = 3

var keyLayout = []byte("layout")

// migrate brings the indexes of an older layout up to this one. Indexes
// are derived from the records, so they are rebuilt from them, in the
// transaction that opens the Service.
// An identifier whose number the current rules refuse (a licence plate
// with a control character, say) is left out of the number index, so it
// is an unknown credential until it is pushed again; each is logged.
func migrate(tx store.Tx, log *slog.Logger) error {
	v, err := tx.Get(bucketMeta, keyLayout)
	switch {
	case err == nil && len(v) == 8 && binary.BigEndian.Uint64(v) == layout:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	if err := reindex(tx, log); err != nil {
		return fmt.Errorf("access: rebuilding indexes: %w", err)
	}
	if err := tx.Put(bucketMeta, keyLayout, binary.BigEndian.AppendUint64(nil, layout)); err != nil {
		return err
	}
	return bumpGeneration(tx)
}

// reindex empties the index buckets and writes them anew from users and
// identifiers.
func reindex(tx store.Tx, log *slog.Logger) error {
	for _, b := range [][]byte{bucketUserNames, bucketNumbers, bucketOwners} {
		var keys [][]byte
		err := tx.Scan(b, nil, func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(b, k); err != nil {
				return err
			}
		}
	}
	var users []User
	err := tx.Scan(bucketUsers, nil, func(_, v []byte) error {
		u, err := decodeRecord[User](bucketUsers, nil, v)
		users = append(users, u)
		return err
	})
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := indexUser(tx, u); err != nil {
			return err
		}
	}
	var ids []Identifier
	err = tx.Scan(bucketIdentifiers, nil, func(_, v []byte) error {
		id, err := decodeRecord[Identifier](bucketIdentifiers, nil, v)
		ids = append(ids, id)
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id.UID == 0 {
			if err := assignUID(tx, id); err != nil {
				return err
			}
		}
		if id.Type == FaceID {
			continue
		}
		n, ok := normalizeNumber(id.Type, id.Number)
		if !ok {
			log.Warn("access: identifier number no longer valid; left out of the index until pushed again", "link_id", id.LinkID, "type", id.Type)
			continue
		}
		if err := tx.Put(bucketNumbers, numberKey(id.Type, n), []byte(id.LinkID)); err != nil {
			return err
		}
	}
	return nil
}

// assignUID gives an identifier stored before UIDs existed the next one.
func assignUID(tx store.Tx, id Identifier) error {
	uid, err := nextUID(tx)
	if err != nil {
		return err
	}
	id.UID = uid
	return putJSON(tx, bucketIdentifiers, id.LinkID, id)
}
