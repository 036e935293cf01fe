package directory

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/lintelhq/lintel/store"
)

// cardSuffix is how many characters, from the end, two card ids of
// different lengths must agree in (2N's rule).
const cardSuffix = 6

// CardsMatch reports whether two card ids name the same card, as 2N
// devices compare them: without regard to case (the ids are hex), all
// characters when the lengths are equal; when they differ, from the end,
// so that the shorter must be a suffix of the longer and hold at least 6
// characters ("0A1B2C3D4E" matches "2c3d4e" but neither "3d4e" nor
// "0A1B2C3D4F"). An empty id matches nothing.
func CardsMatch(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if a == "" || len(a) != len(b) && len(a) < cardSuffix {
		return false
	}
	return equalFoldASCII(a, b[len(b)-len(a):])
}

// equalFoldASCII compares strings of equal length, folding ASCII letters.
func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if upperASCII(a[i]) != upperASCII(b[i]) {
			return false
		}
	}
	return true
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// cardKey is the card index's part for a card id: its last 6 characters
// (all of a shorter one) in upper case. Cards that match (CardsMatch)
// have the same key: ids of equal length agree in every character, and a
// shorter id that matches a longer one has at least 6.
func cardKey(card string) string {
	s := []byte(card[max(0, len(card)-cardSuffix):])
	for i, c := range s {
		s[i] = upperASCII(c)
	}
	return string(s)
}

// ErrAmbiguousCard is the error of FindCard when several live entries hold
// a card that matches, none of them exactly or more than one exactly.
var ErrAmbiguousCard = errors.New("directory: several entries hold a matching card")

// cardKeys returns the card index keys of a record (none for a
// tombstone), each once.
func (r *registry) cardKeys(e *Entry, uuid string) [][]byte {
	if e.deleted {
		return nil
	}
	var keys [][]byte
	for _, f := range r.cards {
		card := e.value(f).s
		if card == "" {
			continue
		}
		k := store.Key(cardKey(card), uuid)
		if len(keys) == 0 || !bytes.Equal(keys[0], k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// reindexCards moves the card index entries of an entry from old (nil for
// none) to rec, in the transaction that writes rec. The index holds every
// card stored in a live entry, whatever the model: FindCard checks the
// model.
func (d *Directory) reindexCards(tx store.Tx, rec, old *Entry) error {
	var before [][]byte
	if old != nil {
		before = d.reg.cardKeys(old, rec.UUID)
	}
	after := d.reg.cardKeys(rec, rec.UUID)
	for _, k := range before {
		if !containsKey(after, k) {
			if err := tx.Delete(bucketCards, k); err != nil {
				return err
			}
		}
	}
	for _, k := range after {
		if !containsKey(before, k) {
			if err := tx.Put(bucketCards, k, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if bytes.Equal(x, k) {
			return true
		}
	}
	return false
}

// cardLayout is the card index's layout; a store without it (written
// before the index existed) is indexed when the directory is opened.
const cardLayout = "1"

var keyCardLayout = []byte("cards.layout")

// migrateCards builds the card index from the entries unless the store
// holds one of the current layout.
func migrateCards(tx store.Tx, r *registry) error {
	return rebuildIndex(tx, r, bucketCards, keyCardLayout, cardLayout, r.cardKeys)
}

// FindCard returns the uuid (upper case) of the live entry that holds a
// card matching card (CardsMatch) in access.card[0] or access.card[1],
// through an index the directory keeps with every change, so its cost
// does not grow with the directory. Only the card fields of the model
// count. No match, an empty card, or one that is no card id (1 to 32 hex
// digits, as access.card takes them) is found false with no error. When
// several entries match, the one whose card matches exactly (same length)
// is returned if it is the only such one; otherwise FindCard fails closed:
// found false and ErrAmbiguousCard.
func (d *Directory) FindCard(ctx context.Context, card string) (uuid string, found bool, err error) {
	if card == "" || !cardID(card) {
		return "", false, nil
	}
	prefix := store.Key(cardKey(card))
	var matches, exacts []string
	err = d.st.View(ctx, func(tx store.Tx) error {
		matches, exacts = matches[:0], exacts[:0]
		var uuids []string
		err := tx.Scan(bucketCards, prefix, func(k, _ []byte) error {
			parts, err := store.SplitKey(k[len(prefix):])
			if err != nil || len(parts) != 1 {
				return fmt.Errorf("directory: card index key %q: %w", k, store.ErrBadKey)
			}
			uuids = append(uuids, parts[0])
			return nil
		})
		if err != nil {
			return err
		}
		var rec Entry
		for _, u := range uuids {
			found, err := d.readRecord(tx, []byte(u), &rec)
			if err != nil {
				return err
			}
			if !found || rec.deleted {
				continue // not indexed: a stale key matches nothing
			}
			match, exact := d.holdsCard(&rec, card)
			if match {
				matches = append(matches, rec.UUID)
			}
			if exact {
				exacts = append(exacts, rec.UUID)
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return "", false, err
	case len(matches) == 0:
		return "", false, nil
	case len(matches) == 1:
		return matches[0], true, nil
	case len(exacts) == 1:
		return exacts[0], true, nil
	}
	return "", false, ErrAmbiguousCard
}

// holdsCard reports whether a card field of the model in e matches card,
// and whether one matches it exactly (same length).
func (d *Directory) holdsCard(e *Entry, card string) (match, exact bool) {
	for _, f := range d.reg.cards {
		if !d.view.avail[f.idx] {
			continue
		}
		if c := e.value(f).s; CardsMatch(c, card) {
			match = true
			exact = exact || len(c) == len(card)
		}
	}
	return match, exact
}
