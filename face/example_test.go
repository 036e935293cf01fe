package face_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"

	"github.com/lintelhq/lintel/face"
)

func Example() {
	checker, err := face.NewChecker(face.Config{}) // the defaults: pigo, 100 px faces
	if err != nil {
		panic(err)
	}
	photo, err := os.ReadFile("testdata/sample.jpg")
	if err != nil {
		panic(err)
	}
	e, err := checker.Check(context.Background(), "data:image/jpeg;base64,"+base64.StdEncoding.EncodeToString(photo))
	fmt.Println(e.Format, e.Width, e.Height, e.Faces, err)

	_, err = checker.Check(context.Background(), "bm90IGEgcGhvdG8=") // "not a photo"
	fmt.Println(errors.Is(err, face.ErrBadImage))
	// Output:
	// jpeg 320 400 1 <nil>
	// true
}
