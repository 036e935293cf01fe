package directory

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"strings"

	"github.com/google/uuid"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

var (
	bucketEntries = []byte("directory.entries") // canonical uuid -> record (record.go)
	bucketChanges = []byte("directory.changes") // timestamp (8 bytes) -> canonical uuid
	bucketOwners  = []byte("directory.owners")  // store.Key(owner, uuid) -> ""
	bucketCards   = []byte("directory.cards")   // store.Key(cardKey(card), uuid) -> "" (cards.go)
	bucketMeta    = []byte("directory.meta")
	keySeries     = []byte("series")
	keyLast       = []byte("timestamp") // the last timestamp given
	keyLive       = []byte("live")      // entries that are not tombstones
)

// Defaults of Open.
const (
	DefaultCapacity      = 10_000
	DefaultMaxPerRequest = 10_000
)

// Directory is a 2N-style directory kept in a store. It is safe for
// concurrent use, also by several Directories on one store (in one process
// or several): the series, the last timestamp and the entry count live in
// the store and are read and written inside each transaction.
type Directory struct {
	journal       *journal.Journal
	st            store.Store
	reg           *registry
	model         Model
	view          *view // the fields of the model
	capacity      int
	maxPerRequest int
	newSeries     func() string
	log           *slog.Logger
}

// Option configures Open.
type Option func(*Directory)

// WithModel sets the device model (default VersoModel; see ModelFor).
func WithModel(m Model) Option { return func(d *Directory) { d.model = m } }

// Model returns the directory's model (see WithModel), with its canonical
// Name.
func (d *Directory) Model() Model { return d.model }

// WithCapacity sets the most entries (not counting tombstones) the
// directory holds (default DefaultCapacity).
func WithCapacity(n int) Option { return func(d *Directory) { d.capacity = n } }

// WithMaxPerRequest bounds the entries of one request (default
// DefaultMaxPerRequest).
func WithMaxPerRequest(n int) Option { return func(d *Directory) { d.maxPerRequest = n } }

// WithSeriesGenerator replaces the random series of a new directory (for
// tests and reproducible examples).
func WithSeriesGenerator(f func() string) Option { return func(d *Directory) { d.newSeries = f } }

// WithJournal records every committed create, update and delete in j, as
// one journal.Directory event per request, written in the request's own
// transaction: one item per entry, with its uuid and "ok" or its first
// error code. Event.Source comes from the context (journal.WithSource).
func WithJournal(j *journal.Journal) Option { return func(d *Directory) { d.journal = j } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(d *Directory) { d.log = l } }

// Open opens the directory in st, creating it (with a new series) on first
// use.
func Open(ctx context.Context, st store.Store, opts ...Option) (*Directory, error) {
	d := &Directory{st: st, reg: templateRegistry(), model: VersoModel(), capacity: DefaultCapacity,
		maxPerRequest: DefaultMaxPerRequest, newSeries: randomSeries, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(d)
	}
	def, err := d.model.resolve()
	if err != nil {
		return nil, err
	}
	d.model.Name, d.model.def = def.name, def
	d.view = newView(d.reg, def)
	err = st.Update(ctx, func(tx store.Tx) error {
		for _, b := range [][]byte{bucketEntries, bucketChanges, bucketOwners, bucketCards, bucketMeta} {
			if err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if _, err := tx.Get(bucketMeta, keySeries); errors.Is(err, store.ErrNotFound) {
			if err := tx.Put(bucketMeta, keySeries, []byte(d.newSeries())); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := migrateOwners(tx, d.reg); err != nil {
			return err
		}
		return migrateCards(tx, d.reg)
	})
	if err != nil {
		return nil, fmt.Errorf("directory: opening: %w", err)
	}
	return d, nil
}

// randomSeries is a random 63-bit decimal number, as 2N devices show.
func randomSeries() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n.Add(n, big.NewInt(1<<62)).String()
}

// RequestError is a failure of a whole request. Code is the 2N API's
// numeric error code for it (11 missing mandatory parameter, 12 invalid
// parameter value, 13 parameter data too big, 14 processing error) and
// Param the parameter concerned; nothing of the request was written.
type RequestError struct {
	Code        int
	Param       string
	Description string
	Err         error // the cause, if any (ErrFull)
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("directory: %s (code %d, %s)", e.Description, e.Code, e.Param)
}

// The 2N codes of RequestError.
const (
	CodeMissingParameter   = 11
	CodeInvalidParameter   = 12
	CodeDataTooBig         = 13
	CodeProcessingError    = 14
	CodeParameterCollision = 17 // two parameters that exclude each other
)

// ErrFull is wrapped by the RequestError of a create that would take the
// directory past its capacity.
var ErrFull = errors.New("directory: capacity reached")

// ChangeResult is the result of create, update and delete: the series and
// one element per entry of the request, in order.
type ChangeResult struct {
	Series string        `json:"series"`
	Users  []EntryResult `json:"users"`
}

// EntryResult is {uuid, timestamp} for a change made, or {uuid, errors}.
type EntryResult struct {
	UUID      string       `json:"uuid"`
	Timestamp int64        `json:"timestamp,omitempty"`
	Errors    []EntryError `json:"errors,omitempty"`
}

// parseUUID checks the XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX form (hex,
// either case, not all zeros) and returns the canonical upper-case key.
// Results echo the uuid as the request spelled it.
func parseUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil || u == uuid.Nil {
		return "", false
	}
	return strings.ToUpper(s), true
}

func (d *Directory) checkRequest(n int) error {
	if n == 0 {
		return &RequestError{Code: CodeMissingParameter, Param: "users", Description: "users must hold at least one entry"}
	}
	if n > d.maxPerRequest {
		return &RequestError{Code: CodeDataTooBig, Param: "users", Description: fmt.Sprintf("%d entries, at most %d in one request", n, d.maxPerRequest)}
	}
	return nil
}

// meta is the directory's counters, read and written in each transaction.
type meta struct {
	series string
	last   int64
	live   int64
}

func readMeta(tx store.Tx) (meta, error) {
	var m meta
	series, err := tx.Get(bucketMeta, keySeries)
	if err != nil {
		return m, fmt.Errorf("directory: series: %w", err)
	}
	m.series = string(series)
	if m.last, err = readCounter(tx, keyLast); err != nil {
		return m, err
	}
	m.live, err = readCounter(tx, keyLive)
	return m, err
}

// readCounter reads a counter of the meta bucket, 0 when never written.
func readCounter(tx store.Tx, key []byte) (int64, error) {
	v, err := tx.Get(bucketMeta, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	case len(v) != 8:
		return 0, fmt.Errorf("directory: counter %s: %d bytes", key, len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

func writeMeta(tx store.Tx, m meta) error {
	if err := tx.Put(bucketMeta, keyLast, binary.BigEndian.AppendUint64(nil, uint64(m.last))); err != nil {
		return err
	}
	return tx.Put(bucketMeta, keyLive, binary.BigEndian.AppendUint64(nil, uint64(m.live)))
}

// readRecord reads the record of key into e; it reports false when there
// is none.
func (d *Directory) readRecord(tx store.Tx, key []byte, e *Entry) (bool, error) {
	raw, err := tx.Get(bucketEntries, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := d.reg.decodeRecord(raw, e); err != nil {
		return false, fmt.Errorf("directory: decoding %s: %w", key, err)
	}
	return true, nil
}

// getRecord returns the record of key, or nil.
func (d *Directory) getRecord(tx store.Tx, key string) (*Entry, error) {
	rec := new(Entry)
	if found, err := d.readRecord(tx, []byte(key), rec); !found {
		return nil, err
	}
	return rec, nil
}

// putRecord stores rec with the next timestamp and moves its change-index
// entry and its owner and card index entries; old is the record it
// replaces, or nil.
func (d *Directory) putRecord(tx store.Tx, m *meta, rec, old *Entry) error {
	if err := d.reindexCards(tx, rec, old); err != nil {
		return err
	}
	m.last++
	if old != nil {
		if err := tx.Delete(bucketChanges, binary.BigEndian.AppendUint64(nil, uint64(old.timestamp))); err != nil {
			return err
		}
		if owner := old.text("owner"); owner != "" {
			if err := tx.Delete(bucketOwners, ownerKey(owner, rec.UUID)); err != nil {
				return err
			}
		}
	}
	rec.timestamp = m.last
	if err := tx.Put(bucketEntries, []byte(rec.UUID), appendRecord(nil, rec)); err != nil {
		return err
	}
	if owner := rec.text("owner"); owner != "" {
		if err := tx.Put(bucketOwners, ownerKey(owner, rec.UUID), nil); err != nil {
			return err
		}
	}
	return tx.Put(bucketChanges, binary.BigEndian.AppendUint64(nil, uint64(m.last)), []byte(rec.UUID))
}

// ownerKey is the owner index's key: injective, so that no owner reaches
// the entries of an owner whose name it begins (Key("acme") is not a
// prefix of Key("acme\x00corp", ...)).
func ownerKey(owner, key string) []byte { return store.Key(owner, key) }

// ownerLayout is the owner index's layout: 1 joined owner and uuid with a
// 0 byte, 2 is store.Key.
const ownerLayout = "2"

var keyOwnerLayout = []byte("owners.layout")

// migrateOwners rebuilds the owner index from the entries when it was
// written by an older layout.
func migrateOwners(tx store.Tx, r *registry) error {
	return rebuildIndex(tx, r, bucketOwners, keyOwnerLayout, ownerLayout, func(rec *Entry, _ string) [][]byte {
		if owner := rec.text("owner"); owner != "" && !rec.deleted {
			return [][]byte{ownerKey(owner, rec.UUID)}
		}
		return nil
	})
}

// rebuildIndex writes the index in bucket anew from the entries, with
// the keys keysOf gives each (with its key in the entries' bucket), unless the meta record layoutKey says the
// index is of the current layout; then it records that layout.
func rebuildIndex(tx store.Tx, r *registry, bucket, layoutKey []byte, layout string, keysOf func(rec *Entry, key string) [][]byte) error {
	if v, err := tx.Get(bucketMeta, layoutKey); err == nil && string(v) == layout {
		return nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var old [][]byte
	err := tx.Scan(bucket, nil, func(k, _ []byte) error { old = append(old, bytes.Clone(k)); return nil })
	if err != nil {
		return err
	}
	for _, k := range old {
		if err := tx.Delete(bucket, k); err != nil {
			return err
		}
	}
	var keys [][]byte
	var rec Entry
	err = tx.Scan(bucketEntries, nil, func(k, v []byte) error {
		if err := r.decodeRecord(v, &rec); err != nil {
			return fmt.Errorf("directory: decoding %s: %w", k, err)
		}
		keys = append(keys, keysOf(&rec, string(k))...)
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Put(bucket, k, nil); err != nil {
			return err
		}
	}
	return tx.Put(bucketMeta, layoutKey, []byte(layout))
}

// decodeUsers checks a request's size and decodes its entries.
func (d *Directory) decodeUsers(users []json.RawMessage) ([]*input, error) {
	if err := d.checkRequest(len(users)); err != nil {
		return nil, err
	}
	inputs := make([]*input, len(users))
	for i, raw := range users {
		in, err := d.reg.decodeEntry(raw, d.view)
		if err != nil {
			return nil, &RequestError{Code: CodeInvalidParameter, Param: fmt.Sprintf("users[%d]", i), Description: err.Error()}
		}
		inputs[i] = in
	}
	return inputs, nil
}

// change runs a batch of entry changes in one transaction. each gets a
// decoded entry and returns its result.
func (d *Directory) change(ctx context.Context, action string, inputs []*input, each func(tx store.Tx, m *meta, in *input) (EntryResult, error)) (ChangeResult, error) {
	var res ChangeResult
	var events []journal.Event
	err := d.st.Update(ctx, func(tx store.Tx) error {
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		res = ChangeResult{Series: m.series, Users: make([]EntryResult, 0, len(inputs))}
		for _, in := range inputs {
			r, err := each(tx, &m, in)
			if err != nil {
				return err
			}
			res.Users = append(res.Users, r)
		}
		if m.live > int64(d.capacity) {
			return &RequestError{Code: CodeDataTooBig, Param: "users", Err: ErrFull,
				Description: fmt.Sprintf("%d entries would exceed the capacity of %d", m.live, d.capacity)}
		}
		if events, err = d.record(ctx, tx, action, res); err != nil {
			return err
		}
		return writeMeta(tx, m)
	})
	if err != nil {
		return ChangeResult{}, err
	}
	d.journal.AfterCommit(events)
	return res, nil
}

// record writes a request's journal event in its transaction.
func (d *Directory) record(ctx context.Context, tx store.Tx, action string, res ChangeResult) ([]journal.Event, error) {
	if d.journal == nil {
		return nil, nil
	}
	ev := journal.Event{Kind: journal.Directory, Source: journal.SourceFrom(ctx), Name: action, Entity: "directory",
		Items: make([]journal.Item, len(res.Users))}
	for i, u := range res.Users {
		outcome := "ok"
		if len(u.Errors) > 0 {
			outcome = string(u.Errors[0].Code)
		}
		ev.Items[i] = journal.Item{LinkID: u.UUID, Outcome: outcome}
	}
	return d.journal.AppendTx(tx, ev)
}

// Unwrap returns the cause, so that errors.Is(err, ErrFull) works.
func (e *RequestError) Unwrap() error { return e.Err }

func failed(uuid string, errs ...EntryError) EntryResult {
	return EntryResult{UUID: uuid, Errors: errs}
}

// Create adds entries. An entry without a uuid gets a new one; a malformed
// uuid is EDIR_FIELD_VALUE_ERROR on the field uuid; an entry
// whose uuid exists is EDIR_UUID_ALREADY_EXISTS unless force, which
// overwrites it and resets the fields it does not send to their defaults.
// A tombstone's uuid may be reused. An entry with any field error (unknown,
// not available on the model, bad value) is rejected whole, with all its
// errors. A create that would take the directory past its capacity fails
// whole with a RequestError wrapping ErrFull.
func (d *Directory) Create(ctx context.Context, users []json.RawMessage, force bool) (ChangeResult, error) {
	inputs, err := d.decodeUsers(users)
	if err != nil {
		return ChangeResult{}, err
	}
	return d.create(ctx, inputs, force)
}

func (d *Directory) create(ctx context.Context, inputs []*input, force bool) (ChangeResult, error) {
	return d.change(ctx, "create", inputs, func(tx store.Tx, m *meta, in *input) (EntryResult, error) {
		given := in.uuid
		key, ok := parseUUID(in.uuid)
		switch {
		case in.hasUUID && !ok:
			// A malformed uuid is a bad field value on create, as on 2N
			// devices (get, update and delete answer UUIDInvalidFormat).
			return failed(given, append([]EntryError{{Code: FieldValueError, Field: "uuid"}}, in.errs...)...), nil
		case len(in.errs) > 0:
			return failed(given, in.errs...), nil // no uuid is made for an entry not created
		case !in.hasUUID:
			key = strings.ToUpper(uuid.NewString())
			given = key
		}
		old, err := d.getRecord(tx, key)
		if err != nil {
			return EntryResult{}, err
		}
		if old != nil && !old.deleted && !force {
			return failed(given, EntryError{Code: UUIDAlreadyExists}), nil
		}
		if old == nil || old.deleted {
			m.live++
		}
		rec := &Entry{UUID: key}
		rec.merge(in.values)
		if err := d.putRecord(tx, m, rec, old); err != nil {
			return EntryResult{}, err
		}
		return EntryResult{UUID: given, Timestamp: rec.timestamp}, nil
	})
}

// Update sets the fields an entry sends and keeps the others. The uuid is
// required (EDIR_UUID_IS_MISSING) and must name an entry that exists
// (EDIR_UUID_DOES_NOT_EXIST; a tombstone does not); deleted and timestamp
// are ignored. An entry with any field error is not updated.
func (d *Directory) Update(ctx context.Context, users []json.RawMessage) (ChangeResult, error) {
	inputs, err := d.decodeUsers(users)
	if err != nil {
		return ChangeResult{}, err
	}
	return d.update(ctx, inputs)
}

func (d *Directory) update(ctx context.Context, inputs []*input) (ChangeResult, error) {
	return d.change(ctx, "update", inputs, func(tx store.Tx, m *meta, in *input) (EntryResult, error) {
		key, ok := parseUUID(in.uuid)
		switch {
		case !in.hasUUID:
			return failed("", EntryError{Code: UUIDIsMissing}), nil
		case !ok:
			return failed(in.uuid, EntryError{Code: UUIDInvalidFormat}), nil
		}
		rec, err := d.getRecord(tx, key)
		if err != nil {
			return EntryResult{}, err
		}
		if rec == nil || rec.deleted {
			return failed(in.uuid, EntryError{Code: UUIDDoesNotExist}), nil
		}
		if len(in.errs) > 0 {
			return failed(in.uuid, in.errs...), nil
		}
		old := *rec
		rec.merge(in.values) // on a copy of the values: old keeps its owner
		if err := d.putRecord(tx, m, rec, &old); err != nil {
			return EntryResult{}, err
		}
		return EntryResult{UUID: in.uuid, Timestamp: rec.timestamp}, nil
	})
}

// Delete turns entries into tombstones (deleted, no fields) that keep
// their uuid and take a new timestamp, so that a syncing client sees the
// deletion. With owner set, every entry of that owner is deleted and
// uuids must be empty; otherwise each uuid gets a result.
func (d *Directory) Delete(ctx context.Context, uuids []string, owner string) (ChangeResult, error) {
	if owner != "" && len(uuids) > 0 {
		return ChangeResult{}, &RequestError{Code: CodeParameterCollision, Param: "owner", Description: "give users or owner, not both"}
	}
	if owner == "" {
		if err := d.checkRequest(len(uuids)); err != nil {
			return ChangeResult{}, err
		}
	}
	var res ChangeResult
	var events []journal.Event
	err := d.st.Update(ctx, func(tx store.Tx) error {
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		res = ChangeResult{Series: m.series, Users: []EntryResult{}}
		targets := uuids
		if owner != "" {
			targets = nil
			prefix := store.Key(owner)
			err := tx.Scan(bucketOwners, prefix, func(k, _ []byte) error {
				parts, err := store.SplitKey(k[len(prefix):])
				if err != nil || len(parts) != 1 {
					return fmt.Errorf("directory: owner index key %q: %w", k, store.ErrBadKey)
				}
				targets = append(targets, parts[0])
				return nil
			})
			if err != nil {
				return err
			}
		}
		for _, given := range targets {
			key, ok := parseUUID(given)
			if !ok {
				res.Users = append(res.Users, failed(given, EntryError{Code: UUIDInvalidFormat}))
				continue
			}
			old, err := d.getRecord(tx, key)
			if err != nil {
				return err
			}
			if old == nil || old.deleted {
				res.Users = append(res.Users, failed(given, EntryError{Code: UUIDDoesNotExist}))
				continue
			}
			tomb := &Entry{UUID: key, deleted: true}
			if err := d.putRecord(tx, &m, tomb, old); err != nil {
				return err
			}
			m.live--
			res.Users = append(res.Users, EntryResult{UUID: given, Timestamp: tomb.timestamp})
		}
		if events, err = d.record(ctx, tx, "delete", res); err != nil {
			return err
		}
		return writeMeta(tx, m)
	})
	if err != nil {
		return ChangeResult{}, err
	}
	d.journal.AfterCommit(events)
	return res, nil
}

// ListResult is the result of Get and Query: the series and the entries,
// each a JSON object in template order, or {uuid, errors} for a uuid that
// Get could not find.
type ListResult struct {
	Series string            `json:"series"`
	Users  []json.RawMessage `json:"users"`
}

// Get returns the entries of uuids. fields selects what each entry
// carries: nil (fields omitted) returns the fields that differ from their
// defaults, in the order they were written (see Entry); an empty slice
// returns all; names return those fields, by exact path
// ("callPos[1].grouped"), without indexes ("callPos.peer", every position)
// or as a group ("access"), both in template order. Unknown names are
// ignored; uuid (first) and timestamp (last) are always there, and deleted
// for a tombstone.
func (d *Directory) Get(ctx context.Context, uuids []string, fields []string) (ListResult, error) {
	if err := d.checkRequest(len(uuids)); err != nil {
		return ListResult{}, err
	}
	enc := newEncoder(d.reg, d.view, newSelection(fields))
	var res ListResult
	err := d.st.View(ctx, func(tx store.Tx) error {
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		res = ListResult{Series: m.series, Users: make([]json.RawMessage, 0, len(uuids))}
		var rec Entry
		var buf []byte
		for _, given := range uuids {
			key, ok := parseUUID(given)
			found := false
			if ok {
				if found, err = d.readRecord(tx, []byte(key), &rec); err != nil {
					return err
				}
			}
			if !found {
				code := UUIDDoesNotExist
				if !ok {
					code = UUIDInvalidFormat
				}
				raw, _ := json.Marshal(failed(given, EntryError{Code: code}))
				res.Users = append(res.Users, raw)
				continue
			}
			buf = enc.append(buf[:0], &rec)
			res.Users = append(res.Users, bytes.Clone(buf))
		}
		return nil
	})
	return res, err
}

// Query returns what changed after timestamp since, in timestamp order,
// tombstones included, read from the change index (its cost grows with
// the changes returned, not with the directory). A series other than the
// directory's (a client that synced with another directory, or before a
// factory reset) gets the directory's series and every entry that is not a
// tombstone, so that the client starts over. fields as in Get.
func (d *Directory) Query(ctx context.Context, series string, since int64, fields []string) (ListResult, error) {
	res := ListResult{Users: []json.RawMessage{}}
	var err error
	res.Series, err = d.QueryEach(ctx, series, since, fields, func(_ string, entry json.RawMessage) error {
		res.Users = append(res.Users, entry)
		return nil
	})
	if err != nil {
		return ListResult{}, err
	}
	return res, nil
}

// Bounds of one read of QueryEach.
const (
	queryChunkEntries = 64
	queryChunkBytes   = 4 << 20
)

// QueryEach is Query for answers too large to hold: it calls each with
// the directory's series and every entry's JSON in turn, and returns the
// series. It lists the changed entries in one read transaction, then reads
// and encodes them in chunks of at most 64 entries or 4 MiB, each in a
// short read transaction of its own, so neither the directory nor the
// caller holds the whole answer and no transaction waits on a slow client.
// An entry changed while the answer is being written is written once, as
// it is when its chunk is read (deleted:true if it was deleted), which a
// client that syncs by timestamp sees as one more change. An error from
// each stops the query and is returned.
func (d *Directory) QueryEach(ctx context.Context, series string, since int64, fields []string, each func(series string, entry json.RawMessage) error) (string, error) {
	enc := newEncoder(d.reg, d.view, newSelection(fields))
	var buf []byte
	return query(d, ctx, series, since, func(e *Entry) (json.RawMessage, int) {
		buf = enc.append(buf[:0], e)
		return bytes.Clone(buf), len(buf)
	}, each)
}

// query is QueryEach for any form of the entries: read turns a record,
// which it must not keep, into what each gets, and says how many bytes
// that holds.
func query[T any](d *Directory, ctx context.Context, series string, since int64, read func(*Entry) (T, int), each func(series string, entry T) error) (string, error) {
	var keys [][]byte
	var resync bool
	err := d.st.View(ctx, func(tx store.Tx) error {
		keys = keys[:0]
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		resync = series != m.series
		series = m.series
		if resync {
			since = 0
		}
		if since == math.MaxInt64 {
			return nil // nothing is newer, and since+1 would wrap
		}
		return tx.ScanRange(bucketChanges, binary.BigEndian.AppendUint64(nil, uint64(max(since, 0)+1)), nil, func(_, key []byte) error {
			keys = append(keys, bytes.Clone(key))
			return nil
		})
	})
	if err != nil {
		return "", err
	}
	var rec Entry
	for len(keys) > 0 {
		chunk := make([]T, 0, min(len(keys), queryChunkEntries)) // new: not to keep the last one's entries alive
		var n int
		err := d.st.View(ctx, func(tx store.Tx) error {
			chunk, n = chunk[:0], 0
			size := 0
			for n < len(keys) && n < queryChunkEntries && size < queryChunkBytes {
				found, err := d.readRecord(tx, keys[n], &rec)
				if err != nil {
					return err
				}
				n++
				if !found || (resync && rec.deleted) {
					continue
				}
				entry, k := read(&rec)
				chunk, size = append(chunk, entry), size+k
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		keys = keys[n:]
		for _, entry := range chunk {
			if err := each(series, entry); err != nil {
				return "", err
			}
		}
	}
	return series, nil
}

// Series returns the directory's series.
func (d *Directory) Series(ctx context.Context) (string, error) {
	var s string
	err := d.st.View(ctx, func(tx store.Tx) error {
		m, err := readMeta(tx)
		s = m.series
		return err
	})
	return s, err
}

// Template returns an entry with every field of the model at its default,
// as the 2N template function shows it.
func (d *Directory) Template() json.RawMessage {
	return newEncoder(d.reg, d.view, newSelection([]string{})).append(nil, &Entry{})
}
