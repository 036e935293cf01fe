package directory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/store/memory"
)

func Example() {
	ctx := context.Background()
	d, err := directory.Open(ctx, memory.New(), directory.WithSeriesGenerator(func() string { return "42" }))
	if err != nil {
		log.Fatal(err)
	}
	created, err := d.Create(ctx, []json.RawMessage{
		json.RawMessage(`{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"Ada","access":{"pin":"1234"}}`),
		json.RawMessage(`{"name":"Bob","access.pin":"hello"}`),
	}, false)
	if err != nil {
		log.Fatal(err)
	}
	out, err := json.Marshal(created)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))

	changes, err := d.Query(ctx, "42", 0, []string{"name", "access.pin"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range changes.Users {
		fmt.Println(string(e))
	}
	// Output:
	// {"series":"42","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","timestamp":1},{"uuid":"","errors":[{"code":"EDIR_FIELD_VALUE_ERROR","field":"access.pin"}]}]}
	// {"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"Ada","access":{"pin":"1234"},"timestamp":1}
}
