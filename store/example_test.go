package store_test

import (
	"context"
	"fmt"
	"log"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

// A secondary index with injective composite keys and a counter, written
// in one transaction and read back with a prefix scan.
func Example() {
	ctx := context.Background()
	var st store.Store = memory.New()
	defer st.Close()
	people, byName, meta := []byte("people"), []byte("people.by_name"), []byte("meta")
	err := st.Update(ctx, func(tx store.Tx) error {
		for _, b := range [][]byte{people, byName, meta} {
			if err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		for id, name := range map[string]string{"1": "Zed", "2": "Zed\x00Extra", "3": "Zed"} {
			if err := tx.Put(people, []byte(id), []byte(name)); err != nil {
				return err
			}
			if err := tx.Put(byName, store.Key(name, id), nil); err != nil {
				return err
			}
		}
		return store.PutUint64(tx, meta, []byte("generation"), 1)
	})
	if err != nil {
		log.Fatal(err)
	}
	err = st.View(ctx, func(tx store.Tx) error {
		prefix := store.Key("Zed")
		err := tx.Scan(byName, prefix, func(k, _ []byte) error {
			parts, err := store.SplitKey(k[len(prefix):])
			if err != nil {
				return err
			}
			fmt.Println("Zed is", parts[0])
			return nil
		})
		if err != nil {
			return err
		}
		gen, err := store.GetUint64(tx, meta, []byte("generation"))
		fmt.Println("generation", gen)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// Zed is 1
	// Zed is 3
	// generation 1
}
