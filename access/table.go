// The generic table behind every entity: one record per link_id in a
// bucket, read, listed, upserted and deleted in batches that commit with
// their journal record.

package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// getJSON reads one record; a missing one is not found, one that does not
// decode is an error (store.ErrBadValue), never a missing one.
func getJSON[T any](tx store.Tx, bucket []byte, linkID string) (T, bool, error) {
	var v T
	err := store.GetJSON(tx, bucket, []byte(linkID), &v)
	if errors.Is(err, store.ErrNotFound) {
		return v, false, nil
	}
	return v, err == nil, err
}

// decodeRecord decodes a stored record; a record that does not decode is
// an error naming it, never a missing one.
func decodeRecord[T any](bucket, key, raw []byte) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("access: decoding %s/%s: %w", bucket, key, err)
	}
	return v, nil
}

func putJSON(tx store.Tx, bucket []byte, linkID string, v any) error {
	return store.PutJSON(tx, bucket, []byte(linkID), v)
}

func exists(tx store.Tx, bucket []byte, linkID string) (bool, error) {
	_, err := tx.Get(bucket, []byte(linkID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// get reads one entity by link_id.
func get[T any](ctx context.Context, s *Service, bucket []byte, linkID string) (T, error) {
	var v T
	err := s.st.View(ctx, func(tx store.Tx) error {
		var ok bool
		var err error
		if v, ok, err = getJSON[T](tx, bucket, linkID); err == nil && !ok {
			err = fmt.Errorf("%w: %s", ErrNotFound, linkID)
		}
		return err
	})
	return v, err
}

// Page asks for at most Limit entities whose link_id sorts after After.
type Page struct {
	After string
	Limit int // 0 means 100; at most 1000
}

// list reads a page of entities in link_id order; next is the After of the
// following page, or "" after the last.
func list[T any](ctx context.Context, s *Service, bucket []byte, p Page) (items []T, next string, err error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var start []byte
	if p.After != "" {
		start = append([]byte(p.After), 0) // the first key after After
	}
	err = s.st.View(ctx, func(tx store.Tx) error {
		items, next = nil, ""
		var last []byte
		return tx.ScanRange(bucket, start, nil, func(k, v []byte) error {
			if len(items) == limit {
				next = string(last)
				return store.ErrStopScan
			}
			item, err := decodeRecord[T](bucket, k, v)
			if err != nil {
				return err
			}
			items, last = append(items, item), k
			return nil
		})
	})
	return items, next, err
}

// deleteHooks are what a delete batch does besides removing records:
// each runs for every stored record before it is removed (to remove its
// index entries), done once at the end of the batch. Both may be nil.
type deleteHooks struct {
	each func(tx store.Tx, id string, stored []byte) error
	done func(tx store.Tx) error
}

// deleteBatch deletes entities by link_id, one result each: deleted, or
// not_found (also for a link_id given twice, the second time). hooks is
// called at the start of every run of the transaction (a retrying backend
// may run it more than once), so state kept in its closures starts afresh.
func (s *Service) deleteBatch(ctx context.Context, entity string, bucket []byte, ids []string, hooks func() deleteHooks) ([]Result, error) {
	if err := s.checkBatch(len(ids)); err != nil {
		return nil, err
	}
	return s.commit(ctx, entity, "delete", func(tx store.Tx) ([]Result, error) {
		results := make([]Result, 0, len(ids))
		var h deleteHooks
		if hooks != nil {
			h = hooks()
		}
		for _, id := range ids {
			stored, err := tx.Get(bucket, []byte(id))
			if errors.Is(err, store.ErrNotFound) {
				results = append(results, Result{LinkID: id, Success: false, ExtendedInfo: NotFound})
				continue
			}
			if err != nil {
				return nil, err
			}
			if h.each != nil {
				if err := h.each(tx, id, stored); err != nil {
					return nil, err
				}
			}
			if err := tx.Delete(bucket, []byte(id)); err != nil {
				return nil, err
			}
			results = append(results, Result{LinkID: id, Success: true, ExtendedInfo: Deleted})
		}
		if h.done != nil {
			if err := h.done(tx); err != nil {
				return nil, err
			}
		}
		return results, nil
	})
}

// commit runs one batch in one write transaction: fn's writes, the
// generation bump that tells every decision cache, and the batch's journal
// event, all committed together or not at all. A context that is done
// before the commit (a client gone, a deadline passed) rolls it back.
func (s *Service) commit(ctx context.Context, entity, action string, fn func(store.Tx) ([]Result, error)) ([]Result, error) {
	var results []Result
	var events []journal.Event
	err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if results, err = fn(tx); err != nil {
			return err
		}
		if err := bumpGeneration(tx); err != nil {
			return err
		}
		if s.cfg.journal == nil {
			return nil
		}
		ev := journal.Event{Kind: journal.Batch, Source: journal.SourceFrom(ctx), Name: action, Entity: entity,
			Items: make([]journal.Item, len(results))}
		for i, r := range results {
			ev.Items[i] = journal.Item{LinkID: r.LinkID, Outcome: string(r.ExtendedInfo)}
		}
		events, err = s.cfg.journal.AppendTx(tx, ev)
		return err
	})
	if ctxErr := ctx.Err(); err != nil && ctxErr != nil && errors.Is(err, ctxErr) {
		// The client went away or its deadline passed: the store rolled
		// the batch back (or never began it).
		return nil, fmt.Errorf("access: batch not written: %w", err)
	}
	if err != nil {
		return nil, err
	}
	s.cfg.journal.AfterCommit(events)
	return results, nil
}

// upsertPlain writes entities that have no indexes: created or updated.
func (s *Service) upsertPlain(ctx context.Context, entity string, bucket []byte, n int, item func(i int) (string, any)) ([]Result, error) {
	return s.commit(ctx, entity, "upsert", func(tx store.Tx) ([]Result, error) {
		results := make([]Result, 0, n)
		for i := range n {
			id, v := item(i)
			found, err := exists(tx, bucket, id)
			if err != nil {
				return nil, err
			}
			if err := putJSON(tx, bucket, id, v); err != nil {
				return nil, err
			}
			info := Created
			if found {
				info = Updated
			}
			results = append(results, Result{LinkID: id, Success: true, ExtendedInfo: info})
		}
		return results, nil
	})
}
