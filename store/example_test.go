package store_test

import (
	"context"
	"errors"
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

// JSON values: PutJSON encodes, GetJSON decodes, and a missing key is
// ErrNotFound as from Get.
func ExamplePutJSON() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	doors := []byte("doors")
	type door struct {
		Name  string `json:"name"`
		Floor int    `json:"floor"`
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateBucketIfNotExists(doors); err != nil {
			return err
		}
		return store.PutJSON(tx, doors, []byte("front"), door{Name: "Front door", Floor: 0})
	})
	if err != nil {
		log.Fatal(err)
	}
	err = st.View(ctx, func(tx store.Tx) error {
		var d door
		if err := store.GetJSON(tx, doors, []byte("front"), &d); err != nil {
			return err
		}
		fmt.Printf("%+v\n", d)
		err := store.GetJSON(tx, doors, []byte("back"), &d)
		fmt.Println(errors.Is(err, store.ErrNotFound))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// {Name:Front door Floor:0}
	// true
}

// Open makes a store of any driver; the backends' constructors
// (memory.New, file.Open, postgres.Open) do the same with their own.
func ExampleOpen() {
	st := store.Open(memory.NewDriver(), &store.Options{MaxRetries: 3})
	defer st.Close()
	ctx := context.Background()
	meta := []byte("meta")
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateBucketIfNotExists(meta); err != nil {
			return err
		}
		return store.PutUint64(tx, meta, []byte("generation"), 42)
	})
	if err != nil {
		log.Fatal(err)
	}
	gen, err := st.ReadCounter(ctx, meta, []byte("generation")) // without a transaction on memory
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(gen)
	// Output: 42
}
