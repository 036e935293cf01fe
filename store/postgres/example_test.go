package postgres_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/store/postgres"
)

// Two processes would each do this with the same URL; their access
// services then see each other's changes at their next decision. (No
// Output comment: it needs a database, so go test only compiles it.)
func Example() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv("LINTEL_POSTGRES_URL"), &postgres.Options{Schema: "lintel"})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	svc, err := access.New(ctx, st)
	if err != nil {
		log.Fatal(err)
	}
	d, err := svc.Decide(ctx, access.Request{Type: access.Card, Number: "12345", Lock: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Reason)
}

// Schema names are checked, not quoted: Open refuses one that is not a
// plain lower-case identifier before it sends anything to the server (so
// this example runs without one).
func ExampleOpen_schemaName() {
	_, err := postgres.Open(context.Background(), "postgres://lintel@127.0.0.1:5432/lintel", &postgres.Options{Schema: "Lintel-Prod"})
	if err == nil {
		log.Fatal("a bad schema name was accepted")
	}
	fmt.Println(err)
	// Output: postgres: schema name "Lintel-Prod": lower-case letters, digits and _ only
}
