package face_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
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
	assert.Equal(t, 1, e.Faces, "one portrait")
	assert.GreaterOrEqual(t, e.Face.Score, float32(face.DefaultMinScore))
	// The portrait's face is about 230 pixels wide; its square holds both
	// eyes and the mouth, read off the photo, and stays inside it.
	r := e.Face.Rect
	assert.True(t, r.In(image.Rect(0, 0, 320, 400)), "face %v outside the photo", r)
	assert.InDelta(t, 230, r.Dx(), 60)
	for name, p := range map[string]image.Point{"left eye": {117, 184}, "right eye": {203, 183}, "mouth": {160, 287}} {
		assert.True(t, p.In(r), "%s %v outside the face %v", name, p, r)
	}
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
	big := scaledSample(t, 4, 1) // to go through the downscaling path
	tests := map[string]string{
		"standard, padded":      std,
		"standard, unpadded":    base64.RawStdEncoding.EncodeToString(raw),
		"URL alphabet":          base64.URLEncoding.EncodeToString(raw),
		"URL alphabet, no pad":  base64.RawURLEncoding.EncodeToString(raw),
		"wrapped at 76 columns": wrapped.String(),
		"data URI":              "data:image/jpeg;base64," + std,
		"data URI, mislabelled": "\n data:image/png;base64," + std + "\n", // the signature decides
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
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	binary.BigEndian.PutUint32(data[8+4+4+13:], crc32.ChecksumIEEE(ihdr))
	return data
}

// progressiveJPEG returns a valid grey progressive JPEG of w x h pixels
// made of the given number of AC scans, each of which says in a few bytes
// that every block of the image is empty (an end-of-band run of 16384
// blocks, repeated): a decoder still walks every block in every scan.
func progressiveJPEG(w, h, scans int) []byte {
	var b bytes.Buffer
	segment := func(marker byte, payload ...byte) {
		b.Write([]byte{0xff, marker})
		b.Write(binary.BigEndian.AppendUint16(nil, uint16(len(payload)+2)))
		b.Write(payload)
	}
	oneCode := func(class, symbol byte) []byte { // a Huffman table of one 1-bit code
		return append([]byte{class, 1}, append(make([]byte, 15), symbol)...)
	}
	b.Write([]byte{0xff, 0xd8})                                               // SOI
	segment(0xdb, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)...)       // DQT
	segment(0xc2, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 1, 1, 0x11, 0) // SOF2, one component
	segment(0xc4, oneCode(0x00, 0x00)...)                                     // DHT, DC
	segment(0xc4, oneCode(0x10, 0xe0)...)                                     // DHT, AC: EOBRUN of 2^14
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	runs := (blocks + 1<<14 - 1) >> 14
	data := make([]byte, (runs*15+7)/8) // each run: a 0 code bit and 14 zero bits
	for range scans {
		segment(0xda, 1, 1, 0x00, 1, 63, 0x00) // SOS: component 1, coefficients 1-63
		b.Write(data)
	}
	b.Write([]byte{0xff, 0xd9}) // EOI
	return b.Bytes()
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
		"JPEG of too many scans":  base64.StdEncoding.EncodeToString(progressiveJPEG(64, 64, face.MaxJPEGScans+1)),
		"JPEG claiming 60000^2":   base64.StdEncoding.EncodeToString(progressiveJPEG(60000, 60000, 1)),
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

// TestBoundsCostNextToNothing: payloads that would cost much memory or
// time if decoded are refused for the little it takes to read their size
// and header.
func TestBoundsCostNextToNothing(t *testing.T) {
	ctx := context.Background()
	defaults := newChecker(t)
	small, err := face.NewChecker(face.Config{MaxPayloadBytes: 1 << 20, MaxPixels: 1_000_000})
	require.NoError(t, err)

	// A decompression bomb: 3000x3000 black pixels compress to a few KiB.
	bomb := encodePNG(t, image.NewGray(image.Rect(0, 0, 3000, 3000)))
	require.Less(t, len(bomb), 64<<10)
	// 16 megapixels, within the default limit, in 65 scans of 40 bytes:
	// decoded, it would walk 250,000 blocks 65 times.
	scans := progressiveJPEG(4000, 4000, face.MaxJPEGScans+1)
	require.Less(t, len(scans), 4<<10)
	tests := map[string]struct {
		checker *face.Checker
		payload string
	}{
		"PNG bomb over MaxPixels":      {small, base64.StdEncoding.EncodeToString(bomb)},
		"PNG header claiming 50000^2":  {defaults, base64.StdEncoding.EncodeToString(pngClaiming(t, 50000, 50000))},
		"JPEG header claiming 60000^2": {defaults, base64.StdEncoding.EncodeToString(progressiveJPEG(60000, 60000, 1))},
		"JPEG of endless empty scans":  {defaults, base64.StdEncoding.EncodeToString(scans)},
		"payload over MaxPayloadBytes": {small, strings.Repeat("A", 2<<20)},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var err error
			n := allocatedBytes(func() { _, err = tt.checker.Check(ctx, tt.payload) })
			require.ErrorIs(t, err, face.ErrBadImage)
			t.Logf("%d bytes allocated", n)
			assert.Less(t, n, uint64(256<<10))
		})
	}
}

func TestJPEGScansUpToTheLimitAreDecoded(t *testing.T) {
	payload := base64.StdEncoding.EncodeToString(progressiveJPEG(200, 200, face.MaxJPEGScans))
	_, err := newChecker(t).Check(context.Background(), payload)
	assert.ErrorIs(t, err, face.ErrNoFace, "a blank image, decoded")
}

func TestContextIsHonoured(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newChecker(t).Check(ctx, base64.StdEncoding.EncodeToString(sample(t)))
	require.ErrorIs(t, err, context.Canceled)
}

// TestDetectSizeTradeOff pins what DetectSize costs: shrunk by a whole
// factor k, a photo shows PigoDetector no face under 20 x k pixels.
func TestDetectSizeTradeOff(t *testing.T) {
	// The sample's face, about 64 pixels across at a quarter of its size,
	// in a 2500x1666 photo.
	small := scaledSample(t, 1, 4)
	photo := image.NewRGBA(image.Rect(0, 0, 2500, 1666))
	draw.Draw(photo, photo.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	at := small.Bounds().Add(image.Pt(800, 400))
	draw.Draw(photo, at, small, image.Point{}, draw.Src)

	tests := []struct {
		detectSize int
		found      bool
	}{
		{face.DefaultDetectSize, false}, // k = 6: nothing under 120 pixels
		{834, true},                     // k = 3: down to 60 pixels
	}
	for _, tt := range tests {
		d, err := face.NewPigoDetector(tt.detectSize, 0)
		require.NoError(t, err)
		faces, err := d.Detect(context.Background(), photo)
		require.NoError(t, err)
		if !tt.found {
			assert.Empty(t, faces, "DetectSize %d", tt.detectSize)
			continue
		}
		require.Len(t, faces, 1, "DetectSize %d", tt.detectSize)
		assert.True(t, faces[0].Rect.In(at), "face %v outside the pasted photo %v", faces[0].Rect, at)
		assert.InDelta(t, 64, faces[0].Rect.Dx(), 16)
	}
}

func TestPigoDetectorHonoursTheContext(t *testing.T) {
	d, err := face.NewPigoDetector(0, 0)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = d.Detect(ctx, scaledSample(t, 1, 1))
	require.ErrorIs(t, err, context.Canceled)
}

type fakeDetector struct {
	faces []face.Face
	err   error
}

func (f fakeDetector) Detect(ctx context.Context, img image.Image) ([]face.Face, error) {
	return f.faces, f.err
}

func TestDetectorFailureIsNeitherVerdict(t *testing.T) {
	broken := errors.New("detector out of order")
	c, err := face.NewChecker(face.Config{Detector: fakeDetector{err: broken}})
	require.NoError(t, err)
	_, err = c.Check(context.Background(), base64.StdEncoding.EncodeToString(sample(t)))
	require.ErrorIs(t, err, broken)
	assert.NotErrorIs(t, err, face.ErrBadImage)
	assert.NotErrorIs(t, err, face.ErrNoFace)
}

func TestPolicyWithAPluggedDetector(t *testing.T) {
	photo := base64.StdEncoding.EncodeToString(encodePNG(t, image.NewGray(image.Rect(0, 0, 300, 300))))
	small := face.Face{Rect: image.Rect(0, 0, 50, 50), Score: 30}
	unsure := face.Face{Rect: image.Rect(0, 0, 200, 200), Score: 2}
	good := face.Face{Rect: image.Rect(10, 10, 130, 130), Score: 9}
	larger := face.Face{Rect: image.Rect(100, 100, 260, 260), Score: 6}

	c, err := face.NewChecker(face.Config{Detector: fakeDetector{faces: []face.Face{small, unsure, good, larger}}})
	require.NoError(t, err)
	e, err := c.Check(context.Background(), photo)
	require.NoError(t, err)
	assert.Equal(t, larger, e.Face, "the largest face that passes both thresholds")
	assert.Equal(t, 2, e.Faces)

	c, err = face.NewChecker(face.Config{Detector: fakeDetector{faces: []face.Face{small, unsure}}})
	require.NoError(t, err)
	_, err = c.Check(context.Background(), photo)
	assert.ErrorIs(t, err, face.ErrNoFace)

	c, err = face.NewChecker(face.Config{MinFaceSize: 40, MinScore: 1, Detector: fakeDetector{faces: []face.Face{small}}})
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

// scaledSample returns the sample photo scaled by num/den, nearest
// neighbour.
func scaledSample(t testing.TB, num, den int) *image.RGBA {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(sample(t)))
	require.NoError(t, err)
	src := image.NewRGBA(img.Bounds())
	draw.Draw(src, src.Rect, img, image.Point{}, draw.Src)
	dst := image.NewRGBA(image.Rect(0, 0, src.Rect.Dx()*num/den, src.Rect.Dy()*num/den))
	for y := range dst.Rect.Dy() {
		for x := range dst.Rect.Dx() {
			copy(dst.Pix[dst.PixOffset(x, y):][:4], src.Pix[src.PixOffset(x*den/num, y*den/num):])
		}
	}
	return dst
}

func BenchmarkCheck(b *testing.B) {
	b.Run("Sample320x400", func(b *testing.B) { benchCheck(b, sample(b)) })
	b.Run("Enlarged2560x3200", func(b *testing.B) { benchCheck(b, encodeJPEG(b, scaledSample(b, 8, 1))) })
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
