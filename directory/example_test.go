package directory_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/store/memory"
)

func Example() {
	ctx := context.Background()
	d, err := directory.Open(ctx, memory.New(), directory.WithSeriesGenerator(func() string { return "42" }))
	if err != nil {
		panic(err)
	}
	created, _ := d.Create(ctx, []json.RawMessage{
		json.RawMessage(`{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"Ada","access":{"pin":"1234"}}`),
		json.RawMessage(`{"name":"Bob","access.pin":"hello"}`),
	}, false)
	out, _ := json.Marshal(created)
	fmt.Println(string(out))

	changes, _ := d.Query(ctx, "42", 0, []string{"name", "access.pin"})
	for _, e := range changes.Users {
		fmt.Println(string(e))
	}
	// Output:
	// {"series":"42","users":[{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","timestamp":1},{"uuid":"","errors":[{"code":"EDIR_FIELD_VALUE_ERROR","field":"access.pin"}]}]}
	// {"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"Ada","access":{"pin":"1234"},"timestamp":1}
}
