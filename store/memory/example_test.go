package memory_test

import (
	"context"
	"fmt"
	"log"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

func Example() {
	ctx := context.Background()
	s := memory.New()
	defer s.Close()

	users := []byte("users")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateBucketIfNotExists(users); err != nil {
			return err
		}
		for _, name := range []string{"carol", "alice", "bob"} {
			if err := tx.Put(users, []byte("name/"+name), []byte(name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		return tx.Scan(users, []byte("name/"), func(k, v []byte) error {
			fmt.Println(string(v))
			return nil
		})
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// alice
	// bob
	// carol
}
