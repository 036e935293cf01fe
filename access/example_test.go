package access_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/store/memory"
)

func Example() {
	ctx := context.Background()
	svc, err := access.New(ctx, memory.New(), access.WithCapabilities(access.Capabilities{MaxIdentifiers: 10_000}))
	if err != nil {
		log.Fatal(err)
	}

	// A management system pushes a card with ten passes, and its owner.
	cardID := "91c615e3-1040-4815-8ecb-039a18b756b5"
	c := access.Identifier{LinkID: cardID, Type: access.Card, Number: "0A:1B:2C:3D", Lock: access.LockFirst}
	c.Valid.Time.IsPermanent = true
	c.Valid.Passes.MaxPasses = 10
	results, err := svc.UpsertIdentifiers(ctx, []access.Identifier{c})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(results[0].ExtendedInfo)

	results, err = svc.UpsertUsers(ctx, []access.User{{
		LinkID: "eae44848-5e81-4861-8e63-861d9bd4ebb3", Name: "Ada", AuthFactors: []access.AuthFactor{access.FactorCard},
		IdentifierLinkIDs: []string{cardID},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(results[0].ExtendedInfo, *results[0].HasDuplicates)

	// The reader presents the card at the first door, then at the second.
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, lock := range []access.Door{access.FirstDoor, access.SecondDoor} {
		d, err := svc.Decide(ctx, access.Request{Type: access.Card, Number: "0a-1b-2c-3d", Lock: lock, At: at})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(lock, d.Allow, d.Reason, d.PassesLeft)
	}
	// Output:
	// created
	// created false
	// 1 true granted 9
	// 2 false wrong_lock -1
}
