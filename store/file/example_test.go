package file_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
)

func Example() {
	dir, err := os.MkdirTemp("", "lintel-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := file.Open(filepath.Join(dir, "lintel.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	ctx := context.Background()
	bucket := []byte("doors")
	err = s.Update(ctx, func(tx store.Tx) error { // one fsync when it returns
		if err := tx.CreateBucketIfNotExists(bucket); err != nil {
			return err
		}
		return tx.Put(bucket, []byte("front"), []byte("locked"))
	})
	if err != nil {
		log.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(bucket, []byte("front"))
		fmt.Println(string(v))
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: locked
}
