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
	bucketEntries = []byte("directory.entries") // canonical uuid -> record JSON
	bucketChanges = []byte("directory.changes") // timestamp (8 bytes) -> canonical uuid
	bucketOwners  = []byte("directory.owners")  // store.Key(owner, uuid) -> ""
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
	capacity      int
	maxPerRequest int
	newSeries     func() string
	log           *slog.Logger
}

// Option configures Open.
type Option func(*Directory)

// WithModel sets the device model (default VersoModel).
func WithModel(m Model) Option { return func(d *Directory) { d.model = m } }

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
	d := &Directory{st: st, reg: newRegistry(), model: VersoModel(), capacity: DefaultCapacity,
		maxPerRequest: DefaultMaxPerRequest, newSeries: randomSeries, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(d)
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		for _, b := range [][]byte{bucketEntries, bucketChanges, bucketOwners, bucketMeta} {
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
		return migrateOwners(tx)
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
	for key, dst := range map[string]*int64{string(keyLast): &m.last, string(keyLive): &m.live} {
		v, err := tx.Get(bucketMeta, []byte(key))
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return m, err
		default:
			*dst = int64(binary.BigEndian.Uint64(v))
		}
	}
	return m, nil
}

func writeMeta(tx store.Tx, m meta) error {
	if err := tx.Put(bucketMeta, keyLast, binary.BigEndian.AppendUint64(nil, uint64(m.last))); err != nil {
		return err
	}
	return tx.Put(bucketMeta, keyLive, binary.BigEndian.AppendUint64(nil, uint64(m.live)))
}

func getRecord(tx store.Tx, key string) (*record, error) {
	raw, err := tx.Get(bucketEntries, []byte(key))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec := new(record)
	if err := json.Unmarshal(raw, rec); err != nil {
		return nil, fmt.Errorf("directory: decoding %s: %w", key, err)
	}
	return rec, nil
}

// putRecord stores rec with the next timestamp and moves its change-index
// entry; old is the record it replaces, or nil.
func putRecord(tx store.Tx, m *meta, rec, old *record) error {
	m.last++
	if old != nil {
		if err := tx.Delete(bucketChanges, binary.BigEndian.AppendUint64(nil, uint64(old.Timestamp))); err != nil {
			return err
		}
		if owner, _ := old.Values["owner"].(string); owner != "" {
			if err := tx.Delete(bucketOwners, ownerKey(owner, rec.UUID)); err != nil {
				return err
			}
		}
	}
	rec.Timestamp = m.last
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := tx.Put(bucketEntries, []byte(rec.UUID), raw); err != nil {
		return err
	}
	if owner, _ := rec.Values["owner"].(string); owner != "" {
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
func migrateOwners(tx store.Tx) error {
	if v, err := tx.Get(bucketMeta, keyOwnerLayout); err == nil && string(v) == ownerLayout {
		return nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var old [][]byte
	err := tx.Scan(bucketOwners, nil, func(k, _ []byte) error { old = append(old, bytes.Clone(k)); return nil })
	if err != nil {
		return err
	}
	for _, k := range old {
		if err := tx.Delete(bucketOwners, k); err != nil {
			return err
		}
	}
	var keys [][]byte
	err = tx.Scan(bucketEntries, nil, func(k, v []byte) error {
		var rec record
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("directory: decoding %s: %w", k, err)
		}
		if owner, _ := rec.Values["owner"].(string); owner != "" && !rec.Deleted {
			keys = append(keys, ownerKey(owner, rec.UUID))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Put(bucketOwners, k, nil); err != nil {
			return err
		}
	}
	return tx.Put(bucketMeta, keyOwnerLayout, []byte(ownerLayout))
}

// apply sets an entry's values, dropping those equal to their default.
func (d *Directory) apply(rec *record, values map[string]any) {
	if rec.Values == nil {
		rec.Values = map[string]any{}
	}
	for path, v := range values {
		if d.reg.byPath[path].def == v {
			delete(rec.Values, path)
			continue
		}
		rec.Values[path] = v
	}
}

// change runs a batch of entry changes in one transaction. each gets the
// decoded entry (nil with err set for one that is not an object) and
// returns its result.
func (d *Directory) change(ctx context.Context, action string, users []json.RawMessage, each func(tx store.Tx, m *meta, in *input) (EntryResult, error)) (ChangeResult, error) {
	if err := d.checkRequest(len(users)); err != nil {
		return ChangeResult{}, err
	}
	inputs := make([]*input, len(users))
	for i, raw := range users {
		in, err := d.reg.decodeEntry(raw, d.model)
		if err != nil {
			return ChangeResult{}, &RequestError{Code: CodeInvalidParameter, Param: fmt.Sprintf("users[%d]", i), Description: err.Error()}
		}
		inputs[i] = in
	}
	var res ChangeResult
	var events []journal.Event
	err := d.st.Update(ctx, func(tx store.Tx) error {
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		res = ChangeResult{Series: m.series, Users: make([]EntryResult, 0, len(users))}
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
	d.afterCommit(events)
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

func (d *Directory) afterCommit(events []journal.Event) {
	if d.journal != nil {
		d.journal.AfterCommit(events)
	}
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
	return d.change(ctx, "create", users, func(tx store.Tx, m *meta, in *input) (EntryResult, error) {
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
		old, err := getRecord(tx, key)
		if err != nil {
			return EntryResult{}, err
		}
		if old != nil && !old.Deleted && !force {
			return failed(given, EntryError{Code: UUIDAlreadyExists}), nil
		}
		if old == nil || old.Deleted {
			m.live++
		}
		rec := &record{UUID: key}
		d.apply(rec, in.values)
		if err := putRecord(tx, m, rec, old); err != nil {
			return EntryResult{}, err
		}
		return EntryResult{UUID: given, Timestamp: rec.Timestamp}, nil
	})
}

// Update sets the fields an entry sends and keeps the others. The uuid is
// required (EDIR_UUID_IS_MISSING) and must name an entry that exists
// (EDIR_UUID_DOES_NOT_EXIST; a tombstone does not); deleted and timestamp
// are ignored. An entry with any field error is not updated.
func (d *Directory) Update(ctx context.Context, users []json.RawMessage) (ChangeResult, error) {
	return d.change(ctx, "update", users, func(tx store.Tx, m *meta, in *input) (EntryResult, error) {
		key, ok := parseUUID(in.uuid)
		switch {
		case !in.hasUUID:
			return failed("", EntryError{Code: UUIDIsMissing}), nil
		case !ok:
			return failed(in.uuid, EntryError{Code: UUIDInvalidFormat}), nil
		}
		rec, err := getRecord(tx, key)
		if err != nil {
			return EntryResult{}, err
		}
		if rec == nil || rec.Deleted {
			return failed(in.uuid, EntryError{Code: UUIDDoesNotExist}), nil
		}
		if len(in.errs) > 0 {
			return failed(in.uuid, in.errs...), nil
		}
		old := *rec
		d.apply(rec, in.values)
		if err := putRecord(tx, m, rec, &old); err != nil {
			return EntryResult{}, err
		}
		return EntryResult{UUID: in.uuid, Timestamp: rec.Timestamp}, nil
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
			rec, err := getRecord(tx, key)
			if err != nil {
				return err
			}
			if rec == nil || rec.Deleted {
				res.Users = append(res.Users, failed(given, EntryError{Code: UUIDDoesNotExist}))
				continue
			}
			old := *rec
			tomb := &record{UUID: key, Deleted: true}
			if err := putRecord(tx, &m, tomb, &old); err != nil {
				return err
			}
			m.live--
			res.Users = append(res.Users, EntryResult{UUID: given, Timestamp: tomb.Timestamp})
		}
		if events, err = d.record(ctx, tx, "delete", res); err != nil {
			return err
		}
		return writeMeta(tx, m)
	})
	if err != nil {
		return ChangeResult{}, err
	}
	d.afterCommit(events)
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
// defaults; an empty slice returns all; names return those fields, by
// exact path ("callPos[1].grouped"), without indexes ("callPos.peer", every
// position) or as a group ("access"). Unknown names are ignored; uuid and
// timestamp are always there, and deleted for a tombstone.
func (d *Directory) Get(ctx context.Context, uuids []string, fields []string) (ListResult, error) {
	if err := d.checkRequest(len(uuids)); err != nil {
		return ListResult{}, err
	}
	sel := newSelection(fields)
	var res ListResult
	err := d.st.View(ctx, func(tx store.Tx) error {
		m, err := readMeta(tx)
		if err != nil {
			return err
		}
		res = ListResult{Series: m.series, Users: make([]json.RawMessage, 0, len(uuids))}
		for _, given := range uuids {
			key, ok := parseUUID(given)
			var rec *record
			if ok {
				if rec, err = getRecord(tx, key); err != nil {
					return err
				}
			}
			if rec == nil {
				code := UUIDDoesNotExist
				if !ok {
					code = UUIDInvalidFormat
				}
				raw, _ := json.Marshal(failed(given, EntryError{Code: code}))
				res.Users = append(res.Users, raw)
				continue
			}
			res.Users = append(res.Users, d.encode(rec, sel))
		}
		return nil
	})
	return res, err
}

func (d *Directory) encode(rec *record, sel selection) json.RawMessage {
	var buf bytes.Buffer
	d.reg.encode(&buf, rec, d.model, sel)
	return buf.Bytes()
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
	sel := newSelection(fields)
	var keys []string
	var resync bool
	err := d.st.View(ctx, func(tx store.Tx) error {
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
			keys = append(keys, string(key))
			return nil
		})
	})
	if err != nil {
		return "", err
	}
	for len(keys) > 0 {
		var chunk []json.RawMessage
		var read int
		err := d.st.View(ctx, func(tx store.Tx) error {
			chunk, read = chunk[:0], 0
			size := 0
			for read < len(keys) && read < queryChunkEntries && size < queryChunkBytes {
				rec, err := getRecord(tx, keys[read])
				if err != nil {
					return err
				}
				read++
				if rec == nil || (resync && rec.Deleted) {
					continue
				}
				entry := d.encode(rec, sel)
				chunk, size = append(chunk, entry), size+len(entry)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		keys = keys[read:]
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
	return d.encode(&record{}, newSelection([]string{}))
}
