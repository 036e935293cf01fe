package journal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func FuzzDecodeRecord(f *testing.F) {
	ev := Event{ID: 7, Time: time.Unix(1700000000, 5).UTC(), Kind: Decision, Source: "admin", Granted: true, Reason: "granted",
		Number: "****3D", Lock: 2, Items: []Item{{LinkID: "a", Outcome: "created"}}, Key: "k"}
	f.Add(append([]byte{hasKeys, 2}, encodeGroup([]Event{ev, {ID: 8, Kind: Batch}})...))
	f.Add([]byte{0, 0, 1, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rec []byte) {
		evs, err := decodeRecord(rec) // must not panic or allocate without bound
		if err != nil {
			return
		}
		// What decodes encodes back to the same events.
		again, err := decodeGroup(encodeGroup(evs))
		require.NoError(t, err)
		require.Equal(t, len(evs), len(again))
		for i := range evs {
			require.Equal(t, evs[i].ID, again[i].ID)
			require.Equal(t, evs[i].Items, again[i].Items)
		}
	})
}

func FuzzEventRoundTrip(f *testing.F) {
	f.Add(uint64(1), int64(1700000000000000000), "decision", "0A:1B", "granted", true, 1, "link", "created")
	f.Fuzz(func(t *testing.T, id uint64, nanos int64, kind, number, reason string, granted bool, lock int, link, outcome string) {
		lock = int(int32(lock))
		ev := Event{ID: id, Time: time.Unix(0, nanos).UTC(), Kind: Kind(kind), Number: number, Reason: reason, Granted: granted,
			Lock: lock, Items: []Item{{LinkID: link, Outcome: outcome}}}
		got, err := decodeGroup(encodeGroup([]Event{ev}))
		require.NoError(t, err)
		require.Equal(t, []Event{ev}, got)
	})
}
