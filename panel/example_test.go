package panel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
	"github.com/lintelhq/lintel/store/memory"
)

func Example() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	j, err := journal.Open(ctx, st, journal.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close(ctx)
	now := time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC)
	r, err := panel.Open(ctx, st,
		panel.WithJournal(j),
		panel.WithClock(func() time.Time { return now }),
		panel.WithBcryptCost(bcrypt.MinCost)) // the default cost in production
	if err != nil {
		log.Fatal(err)
	}

	// The administrator registers a panel and gives it its credentials.
	if err := r.Put(ctx, "AV-04SD-0042", "Entrance A"); err != nil {
		log.Fatal(err)
	}
	secret, err := panel.NewSecret() // goes into the panel's remote access URL
	if err != nil {
		log.Fatal(err)
	}
	if err := r.SetSecret(ctx, "AV-04SD-0042", secret); err != nil {
		log.Fatal(err)
	}
	if err := r.SetPassword(ctx, "AV-04SD-0042", "link-password"); err != nil {
		log.Fatal(err)
	}

	// Remote access: which panel asks?
	p, err := r.PanelBySecret(ctx, secret)
	fmt.Println(p.Serial, p.Name, err)
	_, err = r.PanelBySecret(ctx, "not-the-secret-at-all")
	fmt.Println(errors.Is(err, panel.ErrBadSecret))

	// The link channel: login, then calls with the token.
	token, err := r.Login(ctx, "AV-04SD-0042", "link-password")
	if err != nil {
		log.Fatal(err)
	}
	serial, err := r.Authenticate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	if err := r.Seen(ctx, serial); err != nil { // the pong
		log.Fatal(err)
	}
	var push panel.Push
	body := `{"events":[
		{"created_at":1798102800,"category":"access","code":"access_granted_by_valid_identifier","info":{"lock":1}},
		{"created_at":1798102805,"category":"door","code":"door_was_opened"}]}`
	if err := json.Unmarshal([]byte(body), &push); err != nil {
		log.Fatal(err)
	}
	for range 2 { // the backlog replayed
		n, err := r.PushLogs(ctx, serial, push.Events)
		fmt.Println("new events:", n, err)
	}

	// Silence: a periodic Sweep records the panel offline.
	now = now.Add(time.Minute)
	if err := r.Sweep(ctx); err != nil {
		log.Fatal(err)
	}
	p, err = r.Get(ctx, serial)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("online:", r.Online(p), "last seen", p.LastSeen.Format(time.TimeOnly))

	evs, err := j.Events(ctx, 0, journal.Filter{Kinds: []journal.Kind{journal.Panel}}, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range evs {
		fmt.Println(ev.Time.Format(time.TimeOnly), ev.Source, ev.Entity, ev.Name)
	}
	// Output:
	// AV-04SD-0042 Entrance A <nil>
	// true
	// new events: 2 <nil>
	// new events: 0 <nil>
	// online: false last seen 09:00:00
	// 09:00:00 AV-04SD-0042  online
	// 09:00:00 AV-04SD-0042 access access_granted_by_valid_identifier
	// 09:00:05 AV-04SD-0042 door door_was_opened
	// 09:00:30 AV-04SD-0042  offline
}
