package face_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/face"
)

func sample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sample.jpg")
	require.NoError(t, err)
	return b
}

func newChecker(t testing.TB) *face.Checker {
	t.Helper()
	c, err := face.NewChecker(face.Config{})
	require.NoError(t, err)
	return c
}

func TestSamplePhotoHasAFace(t *testing.T) {
	c := newChecker(t)
	e, err := c.Check(context.Background(), base64.StdEncoding.EncodeToString(sample(t)))
	require.NoError(t, err)
	t.Logf("%+v", e)
	assert.Equal(t, "jpeg", e.Format)
	assert.Equal(t, 320, e.Width)
	assert.Equal(t, 400, e.Height)
	assert.GreaterOrEqual(t, e.Faces, 1)
	assert.GreaterOrEqual(t, e.Face.Score, float32(face.DefaultMinScore))
	assert.GreaterOrEqual(t, e.Face.Rect.Dx(), face.DefaultMinFaceSize)
	// The portrait's face: inside the photo, in its upper two thirds, roughly centred.
	assert.True(t, e.Face.Rect.In(image.Rect(0, 0, 320, 400)), "face %v outside the photo", e.Face.Rect)
	cx, cy := (e.Face.Rect.Min.X+e.Face.Rect.Max.X)/2, (e.Face.Rect.Min.Y+e.Face.Rect.Max.Y)/2
	assert.InDelta(t, 160, cx, 80)
	assert.Less(t, cy, 270)
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}))
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func TestAcceptedEncodings(t *testing.T) {
	raw := sample(t)
	std := base64.StdEncoding.EncodeToString(raw)
	var wrapped strings.Builder
	for i := 0; i < len(std); i += 76 {
		wrapped.WriteString(std[i:min(i+76, len(std))])
		wrapped.WriteString("\r\n")
	}
	img, err := jpeg.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	big := enlarged(t, 4) // to go through the downscaling path
	tests := map[string]string{
		"standard, padded":      std,
		"standard, unpadded":    base64.RawStdEncoding.EncodeToString(raw),
		"URL alphabet":          base64.URLEncoding.EncodeToString(raw),
		"URL alphabet, no pad":  base64.RawURLEncoding.EncodeToString(raw),
		"wrapped at 76 columns": wrapped.String(),
		"data URI":              "data:image/jpeg;base64," + std,
		"PNG":                   base64.StdEncoding.EncodeToString(encodePNG(t, img)),
		"4x larger photo":       base64.StdEncoding.EncodeToString(encodeJPEG(t, big)),
	}
	c := newChecker(t)
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := c.Check(context.Background(), payload)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, e.Faces, 1)
			if name == "4x larger photo" {
				assert.Equal(t, 1280, e.Width)
				assert.Greater(t, e.Face.Rect.Dx(), 600, "rectangles come back in the photo's own pixels (the face is about 240 px across at 1x)")
			}
		})
	}
}

func TestPhotosWithoutAFace(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 400, 500
	flat := image.NewRGBA(image.Rect(0, 0, w, h))
	noise := image.NewGray(image.Rect(0, 0, w, h))
	gradient := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			flat.Set(x, y, color.RGBA{R: 90, G: 140, B: 200, A: 255})
			noise.SetGray(x, y, color.Gray{Y: uint8(rng.IntN(256))})
			gradient.Set(x, y, color.RGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: 128, A: 255})
		}
	}
	c := newChecker(t)
	for name, img := range map[string]image.Image{"flat": flat, "noise": noise, "gradient": gradient} {
		for format, data := range map[string][]byte{"jpeg": encodeJPEG(t, img), "png": encodePNG(t, img)} {
			_, err := c.Check(context.Background(), base64.StdEncoding.EncodeToString(data))
			assert.ErrorIs(t, err, face.ErrNoFace, "%s %s", name, format)
		}
	}
}

// pngClaiming returns a valid tiny PNG whose header says w x h pixels.
func pngClaiming(t testing.TB, w, h uint32) []byte {
	t.Helper()
	data := encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	ihdr := data[8+4 : 8+4+4+13] // chunk type and data
	binaryPutUint32(ihdr[4:], w)
	binaryPutUint32(ihdr[8:], h)
	binaryPutUint32(data[8+4+4+13:], crc32IEEE(ihdr))
	return data
}

func TestBadImages(t *testing.T) {
	raw := sample(t)
	var gif bytes.Buffer
	gif.WriteString("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	tests := map[string]string{
		"empty":                   "",
		"only white space":        " \n\t",
		"not base64":              "this is not a photo!",
		"wrong alphabet mix":      "ab+c-d/_" + base64.RawStdEncoding.EncodeToString(raw[:30]),
		"text, not an image":      base64.StdEncoding.EncodeToString([]byte("hello, panel")),
		"GIF":                     base64.StdEncoding.EncodeToString(gif.Bytes()),
		"truncated JPEG":          base64.StdEncoding.EncodeToString(raw[:len(raw)/2]),
		"JPEG header only":        base64.StdEncoding.EncodeToString(raw[:200]),
		"PNG claiming 50000^2":    base64.StdEncoding.EncodeToString(pngClaiming(t, 50000, 50000)),
		"PNG claiming 0 width":    base64.StdEncoding.EncodeToString(pngClaiming(t, 0, 10)),
		"data URI of text":        "data:text/plain;base64," + base64.StdEncoding.EncodeToString(raw),
		"data URI without base64": "data:image/jpeg," + base64.StdEncoding.EncodeToString(raw),
		"data URI without comma":  "data:image/jpeg;base64",
		"padding in the middle":   base64.StdEncoding.EncodeToString(raw[:10]) + base64.StdEncoding.EncodeToString(raw[10:]),
	}
	c := newChecker(t)
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := c.Check(context.Background(), payload)
			require.ErrorIs(t, err, face.ErrBadImage)
		})
	}
}

// allocatedBytes runs fn and returns the bytes it allocated.
func allocatedBytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestBoundsCostNextToNothing(t *testing.T) {
	ctx := context.Background()
	c, err := face.NewChecker(face.Config{MaxPayloadBytes: 1 << 20, MaxPixels: 1_000_000})
	require.NoError(t, err)

	// A decompression bomb: 3000x3000 black pixels compress to a few KiB.
	bomb := encodePNG(t, image.NewGray(image.Rect(0, 0, 3000, 3000)))
	require.Less(t, len(bomb), 64<<10)
	cases := map[string]string{
		"decompression bomb":      base64.StdEncoding.EncodeToString(bomb),
		"header claiming 50000^2": base64.StdEncoding.EncodeToString(pngClaiming(t, 50000, 50000)),
		"oversized payload":       strings.Repeat("A", 2<<20),
	}
	for name, payload := range cases {
		var err error
		n := allocatedBytes(func() { _, err = c.Check(ctx, payload) })
		require.ErrorIs(t, err, face.ErrBadImage, name)
		t.Logf("%s: %d bytes allocated", name, n)
		assert.Less(t, n, uint64(256<<10), "%s allocated %d bytes", name, n)
	}
}

func TestContextIsHonoured(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newChecker(t).Check(ctx, base64.StdEncoding.EncodeToString(sample(t)))
	require.ErrorIs(t, err, context.Canceled)
}

type fakeDetector struct{ faces []face.Face }

func (f fakeDetector) Detect(ctx context.Context, img image.Image) ([]face.Face, error) {
	return f.faces, nil
}

func TestPolicyWithAPluggedDetector(t *testing.T) {
	photo := base64.StdEncoding.EncodeToString(encodePNG(t, image.NewGray(image.Rect(0, 0, 300, 300))))
	small := face.Face{Rect: image.Rect(0, 0, 50, 50), Score: 30}
	unsure := face.Face{Rect: image.Rect(0, 0, 200, 200), Score: 2}
	good := face.Face{Rect: image.Rect(10, 10, 130, 130), Score: 9}
	larger := face.Face{Rect: image.Rect(100, 100, 260, 260), Score: 6}

	c, err := face.NewChecker(face.Config{Detector: fakeDetector{[]face.Face{small, unsure, good, larger}}})
	require.NoError(t, err)
	e, err := c.Check(context.Background(), photo)
	require.NoError(t, err)
	assert.Equal(t, larger, e.Face, "the largest face that passes both thresholds")
	assert.Equal(t, 2, e.Faces)

	c, err = face.NewChecker(face.Config{Detector: fakeDetector{[]face.Face{small, unsure}}})
	require.NoError(t, err)
	_, err = c.Check(context.Background(), photo)
	assert.ErrorIs(t, err, face.ErrNoFace)

	c, err = face.NewChecker(face.Config{MinFaceSize: 40, MinScore: 1, Detector: fakeDetector{[]face.Face{small}}})
	require.NoError(t, err)
	e, err = c.Check(context.Background(), photo)
	require.NoError(t, err)
	assert.Equal(t, small, e.Face)
}

func TestConcurrentChecksShareOneDetector(t *testing.T) {
	c := newChecker(t)
	payload := base64.StdEncoding.EncodeToString(sample(t))
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := c.Check(context.Background(), payload)
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
}

// enlarged returns the sample photo scaled up k times (nearest neighbour).
func enlarged(t testing.TB, k int) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(sample(t)))
	require.NoError(t, err)
	b := img.Bounds()
	big := image.NewRGBA(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := range big.Bounds().Dy() {
		for x := range big.Bounds().Dx() {
			big.Set(x, y, img.At(x/k, y/k))
		}
	}
	return big
}

func BenchmarkCheck(b *testing.B) {
	b.Run("Sample320x400", func(b *testing.B) { benchCheck(b, sample(b)) })
	b.Run("Enlarged2560x3200", func(b *testing.B) { benchCheck(b, encodeJPEG(b, enlarged(b, 8))) })
}

func benchCheck(b *testing.B, photo []byte) {
	c := newChecker(b)
	payload := base64.StdEncoding.EncodeToString(photo)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Check(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
}
