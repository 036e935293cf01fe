package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Kind is what an event records.
type Kind string

// The kinds of event.
const (
	// Decision: an access decision, granted or denied.
	Decision Kind = "decision"
	// Batch: a committed batch of a management API (upsert or delete).
	Batch Kind = "batch"
	// Directory: a change of the 2N directory.
	Directory Kind = "directory"
	// Switch: a switch or access point action.
	Switch Kind = "switch"
	// Login: a failed or throttled login.
	Login Kind = "login"
	// Panel: an event a panel pushed (its own log).
	Panel Kind = "panel"
)

// Event is one entry of the journal. Which fields are set depends on
// Kind; secrets never belong in an event: numbers are masked by the caller
// (see Mask), and face photos are never stored.
type Event struct {
	ID   uint64    `json:"id"` // set by the journal
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`

	// Source says where the event came from: a user name, a panel's
	// serial, "remote" for a panel's remote access request.
	Source string `json:"source,omitempty"`
	// Name is a kind-specific name: the vendor event name of a panel's
	// event, the action of a batch ("upsert", "delete"), of a switch, or
	// of a login ("failed", "throttled").
	Name string `json:"name,omitempty"`

	// Decisions.
	Granted          bool   `json:"granted,omitempty"`
	Reason           string `json:"reason,omitempty"`
	CredentialType   string `json:"credential_type,omitempty"`
	Number           string `json:"number,omitempty"` // masked
	IdentifierLinkID string `json:"identifier_link_id,omitempty"`
	UserLinkID       string `json:"user_link_id,omitempty"`
	UserName         string `json:"user_name,omitempty"`
	Lock             int    `json:"lock,omitempty"`

	// Batches and directory changes: the entity, and one item per input
	// item with its outcome.
	Entity string `json:"entity,omitempty"`
	Items  []Item `json:"items,omitempty"`

	// Key identifies an event from outside (a panel's own event id), so
	// that one pushed twice is kept once; see AppendOnce.
	Key string `json:"key,omitempty"`
}

// Item is the outcome of one item of a batch.
type Item struct {
	LinkID  string `json:"link_id"`
	Outcome string `json:"outcome"`
}

// Mask hides a credential number but for its end, so that a log can say
// which card it was without giving it away: a number of more than eight
// characters keeps its last four, one of five to eight its last two, and
// one of four or fewer is hidden whole. PIN codes should not be given to
// Mask at all; callers record them as "****".
func Mask(number string) string {
	r := []rune(number)
	keep := 4
	switch {
	case len(r) <= 4:
		keep = 0
	case len(r) <= 8:
		keep = 2
	}
	out := make([]rune, len(r))
	for i := range r {
		out[i] = '*'
		if i >= len(r)-keep {
			out[i] = r[i]
		}
	}
	return string(out)
}

// errCorrupt is wrapped by decoding errors of stored groups.
var errCorrupt = errors.New("journal: corrupt record")

// The binary form of an event, written by appendEvent and read by
// readEvent: a version byte, then the fields in a fixed order, integers as
// varints and strings and lists length-prefixed. It is several times
// faster than JSON, which matters because every decision writes one.
const eventVersion = 1

func appendEvent(b []byte, e *Event) []byte {
	b = append(b, eventVersion)
	b = binary.AppendUvarint(b, e.ID)
	b = binary.AppendVarint(b, e.Time.UnixNano())
	for _, s := range []string{string(e.Kind), e.Source, e.Name, e.Reason, e.CredentialType, e.Number,
		e.IdentifierLinkID, e.UserLinkID, e.UserName, e.Entity, e.Key} {
		b = appendString(b, s)
	}
	var flags byte
	if e.Granted {
		flags = 1
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, int64(e.Lock))
	b = binary.AppendUvarint(b, uint64(len(e.Items)))
	for _, it := range e.Items {
		b = appendString(b, it.LinkID)
		b = appendString(b, it.Outcome)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads the binary form; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func readEvent(d *decoder) Event {
	var e Event
	if d.byte() != eventVersion {
		d.fail()
		return e
	}
	e.ID = d.uvarint()
	e.Time = time.Unix(0, d.varint()).UTC()
	for _, p := range []*string{(*string)(&e.Kind), &e.Source, &e.Name, &e.Reason, &e.CredentialType, &e.Number,
		&e.IdentifierLinkID, &e.UserLinkID, &e.UserName, &e.Entity, &e.Key} {
		*p = d.string()
	}
	e.Granted = d.byte()&1 == 1
	lock := d.varint()
	if lock < math.MinInt32 || lock > math.MaxInt32 {
		d.fail()
	}
	e.Lock = int(lock)
	n := d.uvarint()
	if n > uint64(len(d.b))/2 { // every item takes at least two bytes
		d.fail()
		return e
	}
	if n > 0 {
		e.Items = make([]Item, n)
		for i := range e.Items {
			e.Items[i] = Item{LinkID: d.string(), Outcome: d.string()}
		}
	}
	return e
}

// decodeGroup reads the events of one stored group.
func decodeGroup(raw []byte) ([]Event, error) {
	d := &decoder{b: raw}
	n := d.uvarint()
	if n > uint64(len(raw)) {
		return nil, fmt.Errorf("%w: %d events in %d bytes", errCorrupt, n, len(raw))
	}
	evs := make([]Event, 0, n)
	for range n {
		evs = append(evs, readEvent(d))
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	return evs, nil
}

// encodeGroup writes events as one stored group.
func encodeGroup(evs []Event) []byte {
	b := binary.AppendUvarint(make([]byte, 0, 64*len(evs)), uint64(len(evs)))
	for i := range evs {
		b = appendEvent(b, &evs[i])
	}
	return b
}

type sourceKey struct{}

// WithSource returns a context that names who acts (a user name, a panel's
// serial); packages that record events take Event.Source from it.
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

// SourceFrom returns the source WithSource put in ctx, or "".
func SourceFrom(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}
