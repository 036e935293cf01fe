package directory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

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

// An embedder builds entries in Go, by the field paths of the JSON API,
// and reads them back in the order their fields were written.
func ExampleEntry() {
	ctx := context.Background()
	d, err := directory.Open(ctx, memory.New(), directory.WithSeriesGenerator(func() string { return "42" }))
	if err != nil {
		log.Fatal(err)
	}
	var ada directory.Entry
	for _, set := range []error{
		ada.SetString("uuid", "01234567-89ab-cdef-0123-456789abcdef"),
		ada.SetString("name", "Ada"),
		ada.SetString("access.pin", "1234"),
		ada.SetBool("callPos[0].grouped", true),
	} {
		if set != nil {
			log.Fatal(set)
		}
	}
	// Bad paths and values are refused with the API's codes.
	err = ada.SetString("access.pin", "12ab")
	fmt.Println(err, errors.Is(err, directory.FieldValueError))
	err = ada.SetString("albert", "einstein")
	fmt.Println(err, errors.Is(err, directory.FieldNameUnknown))

	res, err := d.CreateEntries(ctx, []directory.Entry{ada}, false)
	if err != nil {
		log.Fatal(err)
	}
	if errs := res.Users[0].Errors; errs != nil {
		log.Fatal(errs)
	}

	got, err := d.Entry(ctx, ada.UUID)
	if err != nil {
		log.Fatal(err)
	}
	for path, v := range got.All() {
		fmt.Printf("%s = %v\n", path, v)
	}
	pin, err := got.GetString("access.pin")
	if err != nil {
		log.Fatal(err)
	}
	treepath, err := got.GetString("treepath") // not set: the default
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.UUID, got.Timestamp(), pin, treepath)
	out, err := json.Marshal(got)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))
	// Output:
	// directory: EDIR_FIELD_VALUE_ERROR (access.pin) true
	// directory: EDIR_FIELD_NAME_UNKNOWN (albert) true
	// name = Ada
	// access.pin = 1234
	// callPos[0].grouped = true
	// 01234567-89AB-CDEF-0123-456789ABCDEF 1 1234 /
	// {"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"Ada","access":{"pin":"1234"},"callPos":[{"grouped":true},{},{}],"timestamp":1}
}

// A server that stands in for a 2N device picks the model by the device's
// firmwarePackage, finds a presented card and checks access at the door.
func ExampleDirectory_CheckAccess() {
	ctx := context.Background()
	model, ok := directory.ModelFor("Verso 2.0")
	if !ok {
		log.Fatal("unknown model")
	}
	d, err := directory.Open(ctx, memory.New(), directory.WithModel(model))
	if err != nil {
		log.Fatal(err)
	}
	_, err = d.Create(ctx, []json.RawMessage{json.RawMessage(`{"uuid":"01234567-89AB-CDEF-0123-456789ABCDEF","name":"Ada",
		"access":{"validTo":"1893456000","card":["00A1B2C3D4",""],"accessPoints":[{},{"enabled":false}]}}`)}, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Model().Name)

	// A reader that sends fewer digits still finds the card (6 at least).
	user, found, err := d.FindCard(ctx, "a1b2c3d4")
	if err != nil || !found {
		log.Fatal(found, err)
	}
	fmt.Println(user)

	at := time.Date(2029, 6, 1, 8, 0, 0, 0, time.UTC)
	for _, ap := range []int{0, 1, 2} {
		granted, reason, err := d.CheckAccess(ctx, user, ap, at)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %v %q\n", ap, granted, reason)
	}
	granted, reason, _ := d.CheckAccess(ctx, user, 0, time.Date(2030, 1, 1, 0, 0, 1, 0, time.UTC))
	fmt.Printf("2030 %v %q\n", granted, reason)
	// Output:
	// verso
	// 01234567-89AB-CDEF-0123-456789ABCDEF
	// 0 true ""
	// 1 false "invalidCredential"
	// 2 false "invalidAp"
	// 2030 false "invalidCredential"
}
