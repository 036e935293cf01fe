package panel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
	"github.com/lintelhq/lintel/store/memory"
)

// FuzzPushLogs decodes an untrusted body as a push, bounded as an adapter
// bounds it, and pushes it: nothing panics; an invalid push is refused
// with ErrInvalidEvent or ErrTooManyEvents as ValidateEvents says, and
// writes nothing; a valid one is written, and pushed again adds nothing.
// Seeds are in testdata/fuzz/FuzzPushLogs.
func FuzzPushLogs(f *testing.F) {
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		var push panel.Push
		d := json.NewDecoder(io.LimitReader(bytes.NewReader(body), panel.MaxPushBytes))
		if err := d.Decode(&push); err != nil {
			return // a 400 of the adapter
		}
		// A store of its own per input: on a shared one, the journal's
		// retention would make an old event new again now and then.
		st := memory.New()
		defer st.Close()
		j, err := journal.Open(ctx, st, journal.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close(ctx)
		r, err := panel.Open(ctx, st, panel.WithJournal(j))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Put(ctx, "P1", ""); err != nil {
			t.Fatal(err)
		}
		verr := panel.ValidateEvents(push.Events)
		before, err := j.Last(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, err := r.PushLogs(ctx, "P1", push.Events)
		if verr != nil {
			if err == nil || err.Error() != verr.Error() || n != 0 {
				t.Fatalf("PushLogs = %d, %v; ValidateEvents: %v", n, err, verr)
			}
			if !errors.Is(err, panel.ErrInvalidEvent) && !errors.Is(err, panel.ErrTooManyEvents) {
				t.Fatalf("error %v", err)
			}
			var ee *panel.EventError
			if errors.As(err, &ee) && (ee.Index < 0 || ee.Index >= len(push.Events) || ee.Reason == "") {
				t.Fatalf("error %#v", ee)
			}
			if after, err := j.Last(ctx); err != nil || after != before {
				t.Fatalf("an invalid push wrote events %d to %d (%v)", before, after, err)
			}
			return
		}
		if err != nil || n < min(1, len(push.Events)) || n > len(push.Events) {
			t.Fatalf("PushLogs of %d valid events = %d, %v", len(push.Events), n, err)
		}
		if n, err := r.PushLogs(ctx, "P1", push.Events); err != nil || n != 0 {
			t.Fatalf("pushed again: %d, %v", n, err)
		}
	})
}
