package journal_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/store/memory"
)

func Example() {
	ctx := context.Background()
	j, err := journal.Open(ctx, memory.New(), journal.Options{MaxEvents: 10_000})
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close(ctx)

	// A reader that streams new events, as an MQTT bridge would.
	sub := j.Subscribe(ctx, 0, journal.Filter{Kinds: []journal.Kind{journal.Decision}}, 16)
	defer sub.Close()

	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, granted := range []bool{true, false} {
		err := j.Append(ctx, journal.Event{Kind: journal.Decision, Time: at, Granted: granted,
			CredentialType: "card", Number: journal.Mask("0A:1B:2C:3D"), Lock: 1})
		if err != nil {
			log.Fatal(err)
		}
	}
	for range 2 {
		ev := <-sub.C
		fmt.Println(ev.ID, ev.Time.Format(time.TimeOnly), ev.Number, ev.Granted)
	}

	// Paging forward from an id, as a log download does.
	evs, err := j.Events(ctx, 1, journal.Filter{}, 100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(evs), evs[0].ID)
	// Output:
	// 1 09:00:00 *******C:3D true
	// 2 09:00:00 *******C:3D false
	// 1 2
}
