package panel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store"
)

// Limits of a push of a panel's log.
const (
	// PageSize is how many events a panel sends per push.
	PageSize = 100
	// MaxPush is the most events one push may carry (ErrTooManyEvents).
	MaxPush = 1000
	// MaxCodeBytes bounds an event's code: 1 to 128 bytes of [A-Za-z0-9_.-].
	MaxCodeBytes = 128
	// MaxCategoryBytes bounds an event's category (UTF-8, no control
	// characters; it may be empty).
	MaxCategoryBytes = 64
	// MaxInfoBytes bounds an event's info, as received.
	MaxInfoBytes = 4096
	// MillisAbove is the rule that tells seconds from milliseconds: a
	// created_at above it is in milliseconds, one at or below in seconds.
	// 10^11 seconds is the year 5138; 10^11 milliseconds is March 1973.
	MillisAbove = 100_000_000_000
	// MaxCreatedSeconds and MaxCreatedMillis bound created_at (both are in
	// the year 2242 and 2248): the journal keeps times as int64
	// nanoseconds, which end in 2262.
	MaxCreatedSeconds = 1 << 33
	MaxCreatedMillis  = 1 << 43
	// MaxPushBytes is a bound an adapter may put on the body of a push:
	// no valid push of MaxPush events is longer, unless padded with
	// whitespace.
	MaxPushBytes = MaxPush * (MaxInfoBytes + 1024)
)

// LogEvent is one event of a panel's own log, as the link management
// channel pushes it (PUT /api/v0/devices/logs, {"events":[...]}).
type LogEvent struct {
	// CreatedAt is when it happened, in Unix seconds (or milliseconds,
	// see MillisAbove).
	CreatedAt int64 `json:"created_at"`
	// Category groups codes ("access", "door", ...).
	Category string `json:"category"`
	// Code is the event's name (access_granted_by_valid_identifier, ...).
	Code string `json:"code"`
	// Info is the event's details: a JSON object, or absent.
	Info json.RawMessage `json:"info,omitempty"`
}

// Push is the body of a push of a panel's log.
type Push struct {
	Events []LogEvent `json:"events"`
}

// EventError is the error of an invalid event of a push; it wraps
// ErrInvalidEvent.
type EventError struct {
	Index  int    // in the push, from 0
	Field  string // created_at, category, code or info
	Reason string
}

func (e *EventError) Error() string {
	return fmt.Sprintf("%v events[%d].%s: %s", ErrInvalidEvent, e.Index, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidEvent.
func (e *EventError) Unwrap() error { return ErrInvalidEvent }

// Time returns when the event happened, by the rule of MillisAbove, and
// whether created_at is in range.
func (e *LogEvent) Time() (time.Time, bool) {
	switch v := e.CreatedAt; {
	case v >= 0 && v <= MaxCreatedSeconds:
		return time.Unix(v, 0).UTC(), true
	case v > MillisAbove && v <= MaxCreatedMillis:
		return time.UnixMilli(v).UTC(), true
	}
	return time.Time{}, false
}

// ValidateEvents checks a push without writing anything: at most MaxPush
// events (ErrTooManyEvents), each valid (an *EventError, which wraps
// ErrInvalidEvent and says which one and why).
func ValidateEvents(events []LogEvent) error {
	_, err := prepare("", events)
	return err
}

// prepare validates events and returns them as journal events of serial.
func prepare(serial string, events []LogEvent) ([]journal.Event, error) {
	if len(events) > MaxPush {
		return nil, fmt.Errorf("%w: %d (at most %d)", ErrTooManyEvents, len(events), MaxPush)
	}
	out := make([]journal.Event, len(events))
	var key []byte
	for i := range events {
		e := &events[i]
		bad := func(field, format string, args ...any) error {
			return &EventError{Index: i, Field: field, Reason: fmt.Sprintf(format, args...)}
		}
		at, ok := e.Time()
		if !ok {
			return nil, bad("created_at", "%d is out of range (0 to %d seconds, or %d to %d milliseconds)",
				e.CreatedAt, int64(MaxCreatedSeconds), int64(MillisAbove+1), int64(MaxCreatedMillis))
		}
		if reason := checkCode(e.Code); reason != "" {
			return nil, bad("code", "%s", reason)
		}
		if reason := checkCategory(e.Category); reason != "" {
			return nil, bad("category", "%s", reason)
		}
		info, reason := canonicalInfo(e.Info)
		if reason != "" {
			return nil, bad("info", "%s", reason)
		}
		// The key says what the event is, injectively: a replayed event
		// has the same key, any other a different one.
		key = store.AppendKeyPart(key[:0], strconv.FormatInt(at.UnixMilli(), 10))
		key = store.AppendKeyPart(key, e.Category)
		key = store.AppendKeyPart(key, e.Code)
		key = store.AppendKeyPart(key, info)
		sum := sha256.Sum256(key)
		out[i] = journal.Event{Kind: journal.Panel, Time: at, Source: serial, Name: e.Code, Entity: e.Category,
			Key: hex.EncodeToString(sum[:])}
	}
	return out, nil
}

func checkCode(s string) string {
	if len(s) == 0 || len(s) > MaxCodeBytes {
		return fmt.Sprintf("%d bytes (1 to %d)", len(s), MaxCodeBytes)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return fmt.Sprintf("byte %#02x at %d (A-Z a-z 0-9 _ . - only)", c, i)
		}
	}
	return ""
}

func checkCategory(s string) string {
	if len(s) > MaxCategoryBytes {
		return fmt.Sprintf("%d bytes (at most %d)", len(s), MaxCategoryBytes)
	}
	if !utf8.ValidString(s) {
		return "not UTF-8"
	}
	for _, c := range s {
		if c < ' ' || c == 0x7f {
			return fmt.Sprintf("control character %U", c)
		}
	}
	return ""
}

// canonicalInfo checks info and returns its canonical form: "" when it is
// absent, null or {}, otherwise the object re-encoded compactly with its
// keys sorted and its numbers as written, so that the same details sent
// with other spacing or key order give the same event key.
func canonicalInfo(raw json.RawMessage) (string, string) {
	if len(raw) > MaxInfoBytes {
		return "", fmt.Sprintf("%d bytes (at most %d)", len(raw), MaxInfoBytes)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return "", ""
	}
	if trimmed[0] != '{' {
		return "", "not a JSON object"
	}
	d := json.NewDecoder(bytes.NewReader(trimmed))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return "", "not a JSON object: " + err.Error()
	}
	if d.InputOffset() != int64(len(trimmed)) {
		return "", "data after the JSON object"
	}
	if len(obj) == 0 {
		return "", ""
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return "", "not a JSON object: " + err.Error()
	}
	return string(b), ""
}

// PushLogs records events a panel pushed from its own log (its backlog is
// replayed when the link channel is first enabled), each as a journal
// event of kind journal.Panel with Source serial, Name the code, Entity
// the category, Time the created_at and Key a hash of the event (see the
// package doc), so that an event pushed twice is kept once. It returns
// how many were new. Every event is checked before anything is written
// (ErrTooManyEvents, or an *EventError wrapping ErrInvalidEvent); then the
// events are written in one transaction, durable when PushLogs returns. An
// unknown serial is ErrNotFound; without a journal, ErrNoJournal.
//
// The info object of an event is not kept: the journal has no field for
// it, and it may hold credential numbers the journal must not keep
// unmasked. It counts in the key: events that differ only in their info
// are kept both.
func (r *Registry) PushLogs(ctx context.Context, serial string, events []LogEvent) (int, error) {
	if err := CheckSerial(serial); err != nil {
		return 0, err
	}
	evs, err := prepare(serial, events)
	if err != nil {
		return 0, err
	}
	if r.journal == nil {
		return 0, ErrNoJournal
	}
	if len(evs) == 0 {
		return 0, r.exists(ctx, serial)
	}
	var written []journal.Event
	err = r.st.Update(ctx, func(tx store.Tx) error {
		if _, err := getRecord(tx, serial); err != nil {
			return err
		}
		var err error
		written, err = r.journal.AppendTx(tx, evs...)
		return err
	})
	if err != nil {
		return 0, err
	}
	r.journal.AfterCommit(written)
	return len(written), nil
}
