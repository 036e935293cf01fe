package httpadapter

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lintelhq/lintel/journal"
)

// 2N's log API over the journal: /api/log/caps, subscribe, pull and
// unsubscribe. A subscription is a channel with its own cursor into the
// journal, so many subscribers cost one read of new events each per pull,
// and a pull waits without spinning (journal.Wait) until an event commits
// or its timeout passes.

const (
	maxLogChannels   = 64               // open subscriptions at most
	maxPullEvents    = 128              // events in one pull, as on 2N devices
	maxPullTimeout   = time.Hour        // longest long poll
	defaultDuration  = 90 * time.Second // a channel not pulled for this long closes
	maxDuration      = time.Hour        // so no client can hold the 64 channels for long
	maxIncludeWindow = 30 * 24 * time.Hour
)

type logChannel struct {
	cursor   uint64 // the last journal id looked at
	filter   []string
	duration time.Duration
	expires  time.Time
	busy     bool // a pull is in progress
}

// logChannels are the 2N log subscriptions of one adapter.
type logChannels struct {
	j     *journal.Journal
	now   func() time.Time
	start time.Time // for upTime

	mu       sync.Mutex
	channels map[uint32]*logChannel
}

func newLogChannels(j *journal.Journal, now func() time.Time) *logChannels {
	return &logChannels{j: j, now: now, start: now(), channels: map[uint32]*logChannel{}}
}

// sweep closes channels whose duration passed without a pull.
func (l *logChannels) sweep(now time.Time) {
	for id, c := range l.channels {
		if !c.busy && now.After(c.expires) {
			delete(l.channels, id)
		}
	}
}

func (s *dir) logCaps(w http.ResponseWriter, _ *http.Request, _ *call) error {
	return s.ok(w, map[string][]string{"events": twoNEventNames})
}

// logSubscribe answers /api/log/subscribe?include=new|all|-<seconds>&filter=A,B&duration=<s>.
func (s *dir) logSubscribe(w http.ResponseWriter, r *http.Request, c *call) error {
	q := c.scalars
	l := s.logs
	ctx := r.Context()
	last, err := l.j.Last(ctx)
	if err != nil {
		return err
	}
	cursor := last
	switch inc := q.get("include"); {
	case inc == "" || inc == "new":
	case inc == "all":
		cursor = 0
	case strings.HasPrefix(inc, "-"):
		window, ok := seconds(inc[1:], 0, maxIncludeWindow)
		if !ok {
			return invalidParam("include")
		}
		if cursor, err = l.firstSince(ctx, l.now().Add(-window)); err != nil {
			return err
		}
	default:
		return invalidParam("include")
	}
	var filter []string
	if f := q.get("filter"); f != "" {
		for name := range strings.SplitSeq(f, ",") {
			if !slices.Contains(twoNEventNames, name) {
				return invalidParam("filter")
			}
			if !slices.Contains(filter, name) {
				filter = append(filter, name)
			}
		}
	}
	duration := defaultDuration
	if d := q.get("duration"); d != "" {
		var ok bool
		if duration, ok = seconds(d, time.Second, maxDuration); !ok {
			return invalidParam("duration")
		}
	}
	now := l.now()
	l.mu.Lock()
	l.sweep(now)
	if len(l.channels) >= maxLogChannels {
		l.mu.Unlock()
		return &twoNError{status: http.StatusOK, code: CodeProcessingError, desc: "too many subscriptions"}
	}
	var id uint32
	for id == 0 || l.channels[id] != nil {
		var b [4]byte
		_, _ = rand.Read(b[:])
		id = binary.BigEndian.Uint32(b[:]) & 0x7fffffff
	}
	l.channels[id] = &logChannel{cursor: cursor, filter: filter, duration: duration, expires: now.Add(duration)}
	l.mu.Unlock()
	return s.ok(w, map[string]uint32{"id": id})
}

// firstSince is the cursor before the first event at or after t.
func (l *logChannels) firstSince(ctx context.Context, t time.Time) (uint64, error) {
	evs, err := l.j.Events(ctx, 0, journal.Filter{Since: t}, 1)
	if err != nil || len(evs) == 0 {
		last, lerr := l.j.Last(ctx)
		return last, cmp.Or(err, lerr)
	}
	return evs[0].ID - 1, nil
}

// channel reads the id parameter and takes the channel for a pull or an
// unsubscribe.
func (s *dir) channel(call *call) (uint32, *logChannel, error) {
	raw := call.scalars.get("id")
	if raw == "" {
		return 0, nil, missingParam("id")
	}
	n, err := strconv.ParseUint(raw, 10, 32)
	l := s.logs
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(l.now())
	c := l.channels[uint32(n)]
	if err != nil || c == nil {
		return 0, nil, invalidParam("id")
	}
	return uint32(n), c, nil
}

// twoNLogEvent is one event of a pull.
type twoNLogEvent struct {
	ID      uint64         `json:"id"`
	UTCTime int64          `json:"utcTime"`
	UpTime  int64          `json:"upTime"`
	Event   string         `json:"event"`
	Params  map[string]any `json:"params"`
}

// logPull answers /api/log/pull?id=N&timeout=<s>: up to 128 events of the
// channel, waiting up to timeout seconds for the first.
func (s *dir) logPull(w http.ResponseWriter, r *http.Request, call *call) error {
	timeout := time.Duration(0)
	if t := call.scalars.get("timeout"); t != "" {
		var ok bool
		if timeout, ok = seconds(t, 0, maxPullTimeout); !ok {
			return invalidParam("timeout")
		}
	}
	_, c, err := s.channel(call)
	if err != nil {
		return err
	}
	l := s.logs
	l.mu.Lock()
	if c.busy {
		l.mu.Unlock()
		return &twoNError{status: http.StatusOK, code: CodeProcessingError, param: "id", desc: "a pull on this channel is in progress"}
	}
	c.busy = true
	cursor, filter := c.cursor, c.filter
	l.mu.Unlock()

	wait, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	out, cursor, err := l.collect(r.Context(), cursor, filter)
	for err == nil && len(out) == 0 && wait.Err() == nil {
		if l.j.Wait(wait, cursor) != nil {
			break // the timeout, or the client gone
		}
		out, cursor, err = l.collect(r.Context(), cursor, filter)
	}

	l.mu.Lock()
	c.busy, c.cursor, c.expires = false, cursor, l.now().Add(c.duration)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return s.ok(w, map[string][]twoNLogEvent{"events": out})
}

// collect reads events after cursor and returns those the filter selects,
// at most maxPullEvents, with the cursor after the last one looked at.
func (l *logChannels) collect(ctx context.Context, cursor uint64, filter []string) ([]twoNLogEvent, uint64, error) {
	out := []twoNLogEvent{}
	for len(out) < maxPullEvents {
		evs, err := l.j.Events(ctx, cursor, journal.Filter{}, 4*maxPullEvents)
		if err != nil || len(evs) == 0 {
			return out, cursor, err
		}
		for i := range evs {
			name, params, ok := twoNEvent(&evs[i])
			if ok && (filter == nil || slices.Contains(filter, name)) {
				out = append(out, twoNLogEvent{ID: evs[i].ID, UTCTime: evs[i].Time.Unix(),
					UpTime: int64(evs[i].Time.Sub(l.start).Seconds()), Event: name, Params: params})
			}
			cursor = evs[i].ID
			if len(out) == maxPullEvents {
				break
			}
		}
	}
	return out, cursor, nil
}

func (s *dir) logUnsubscribe(w http.ResponseWriter, _ *http.Request, c *call) error {
	id, _, err := s.channel(c)
	if err != nil {
		return err
	}
	s.logs.mu.Lock()
	delete(s.logs.channels, id)
	s.logs.mu.Unlock()
	return s.ok(w, nil)
}
