package face_test

import (
	"context"
	"encoding/base64"
	"errors"
	"image"
	"testing"

	"github.com/lintelhq/lintel/face"
)

// FuzzCheck: whatever the payload, Check returns a face, ErrBadImage or
// ErrNoFace, and never panics. The limits are small so that each run is quick.
func FuzzCheck(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString(encodePNG(f, image.NewGray(image.Rect(0, 0, 32, 32)))))
	f.Add(base64.StdEncoding.EncodeToString(pngClaiming(f, 60000, 60000)))
	f.Add("data:image/png;base64," + base64.RawURLEncoding.EncodeToString(encodeJPEG(f, image.NewRGBA(image.Rect(0, 0, 24, 40)))))
	f.Add("/9j/4AAQSkZJRgABAQ==")
	f.Add("iVBORw0KGgo=")
	c, err := face.NewChecker(face.Config{MaxPayloadBytes: 256 << 10, MaxPixels: 512 * 512})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		e, err := c.Check(context.Background(), payload)
		switch {
		case err == nil:
			if e.Faces < 1 || e.Width*e.Height > 512*512 {
				t.Fatalf("implausible enrolment %+v", e)
			}
		case errors.Is(err, face.ErrBadImage), errors.Is(err, face.ErrNoFace):
		default:
			t.Fatalf("undocumented error %v", err)
		}
	})
}
