package face_test

import (
	"context"
	"encoding/base64"
	"errors"
	"image"
	"testing"

	"github.com/lintelhq/lintel/face"
)

// The fuzz targets check that, whatever the payload, Check returns a face,
// ErrBadImage or ErrNoFace, and never panics. Their limits are small so
// that each run is quick.
const fuzzMaxPixels = 512 * 512

func fuzzChecker(f *testing.F) *face.Checker {
	c, err := face.NewChecker(face.Config{MaxPayloadBytes: 256 << 10, MaxPixels: fuzzMaxPixels})
	if err != nil {
		f.Fatal(err)
	}
	return c
}

func checkFuzzed(t *testing.T, c *face.Checker, payload string) {
	e, err := c.Check(context.Background(), payload)
	switch {
	case err == nil:
		if e.Faces < 1 || e.Width*e.Height > fuzzMaxPixels {
			t.Fatalf("implausible enrolment %+v", e)
		}
	case errors.Is(err, face.ErrBadImage), errors.Is(err, face.ErrNoFace):
	default:
		t.Fatalf("undocumented error %v", err)
	}
}

// FuzzCheck mutates the payload's text: base64 forms and data URIs.
func FuzzCheck(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString(encodePNG(f, image.NewGray(image.Rect(0, 0, 32, 32)))))
	f.Add(base64.StdEncoding.EncodeToString(pngClaiming(f, 60000, 60000)))
	f.Add("data:image/png;base64," + base64.RawURLEncoding.EncodeToString(encodeJPEG(f, image.NewRGBA(image.Rect(0, 0, 24, 40)))))
	f.Add("/9j/4AAQSkZJRgABAQ==")
	f.Add("iVBORw0KGgo=")
	f.Add(base64.StdEncoding.EncodeToString(progressiveJPEG(48, 48, 3)))
	c := fuzzChecker(f)
	f.Fuzz(func(t *testing.T, payload string) { checkFuzzed(t, c, payload) })
}

// FuzzCheckImage mutates the image's bytes, sent in base64, to reach the
// JPEG and PNG decoders, the scan count and the detector.
func FuzzCheckImage(f *testing.F) {
	f.Add(encodeJPEG(f, image.NewRGBA(image.Rect(0, 0, 24, 40))))
	f.Add(encodePNG(f, image.NewGray(image.Rect(0, 0, 32, 32))))
	f.Add(encodePNG(f, image.NewNRGBA(image.Rect(0, 0, 16, 8))))
	f.Add(pngClaiming(f, 60000, 60000))
	f.Add(progressiveJPEG(48, 48, 3))
	c := fuzzChecker(f)
	f.Fuzz(func(t *testing.T, data []byte) { checkFuzzed(t, c, base64.StdEncoding.EncodeToString(data)) })
}
