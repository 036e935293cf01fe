package face

import (
	"context"
	_ "embed" // the cascade
	"fmt"
	"image"
	"math"

	pigo "github.com/esimov/pigo/core"
)

// facefinder is pigo's face cascade (see cascade/NOTICE for its licences).
// It is the only data ever given to pigo's Unpack, which does no bounds
// checking.
//
//go:embed cascade/facefinder
var facefinder []byte

// Face is one detected face: its square in the image's coordinates and the
// detector's confidence (for pigo, the cascade's score; higher is surer).
type Face struct {
	Rect  image.Rectangle
	Score float32
}

// Detector finds faces in an image. Implementations must be safe for
// concurrent use. PigoDetector is the default; callers may plug another.
type Detector interface {
	Detect(ctx context.Context, img image.Image) ([]Face, error)
}

// DefaultDetectSize is the longest side, in pixels, to which PigoDetector
// shrinks a photo before detection.
const DefaultDetectSize = 480

// PigoDetector detects faces with pigo's cascade. Photos larger than
// DetectSize on their longest side are shrunk first (by box averaging
// of whole pixel blocks), so detection time does not grow with camera
// resolution; faces are reported in the original image's coordinates.
type PigoDetector struct {
	classifier *pigo.Pigo
	detectSize int
	minFace    int
}

// NewPigoDetector unpacks the embedded cascade once; the detector is then
// safe for concurrent use. detectSize <= 0 means DefaultDetectSize.
// minFace is the smallest face, in the photo's pixels, worth looking for;
// the detector skips smaller windows (at most a fifth smaller, to allow for
// the cascade's imprecise sizes), which is most of the work. minFace <= 0
// looks for every face pigo can find (20 pixels after shrinking).
func NewPigoDetector(detectSize, minFace int) (*PigoDetector, error) {
	if detectSize <= 0 {
		detectSize = DefaultDetectSize
	}
	c, err := pigo.NewPigo().Unpack(facefinder)
	if err != nil {
		return nil, fmt.Errorf("face: unpacking the cascade: %w", err)
	}
	return &PigoDetector{classifier: c, detectSize: detectSize, minFace: minFace}, nil
}

// Detect returns the faces pigo finds, clustered, in no particular order.
func (d *PigoDetector) Detect(ctx context.Context, img image.Image) ([]Face, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := img.Bounds()
	factor := max(1, int(math.Ceil(float64(max(b.Dx(), b.Dy()))/float64(d.detectSize))))
	gray, cols, rows := grayscale(img, factor)
	if cols < 20 || rows < 20 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	minSize := max(20, d.minFace*4/5/factor)
	if minSize > min(cols, rows) {
		return nil, nil // no face that large fits
	}
	dets := d.classifier.RunCascade(pigo.CascadeParams{
		MinSize:     minSize,
		MaxSize:     min(cols, rows),
		ShiftFactor: 0.1,
		ScaleFactor: 1.1,
		ImageParams: pigo.ImageParams{Pixels: gray, Rows: rows, Cols: cols, Dim: cols},
	}, 0)
	dets = d.classifier.ClusterDetections(dets, 0.2)
	faces := make([]Face, 0, len(dets))
	for _, det := range dets {
		half := det.Scale / 2
		r := image.Rect(det.Col-half, det.Row-half, det.Col+half, det.Row+half)
		faces = append(faces, Face{
			Rect:  image.Rect(r.Min.X*factor, r.Min.Y*factor, r.Max.X*factor, r.Max.Y*factor).Add(b.Min),
			Score: det.Q,
		})
	}
	return faces, nil
}

// grayscale converts img to 8-bit luma, averaging factor x factor blocks.
// JPEG photos (YCbCr) and grey images are read directly from their luma
// plane; other images go through their colour model.
func grayscale(img image.Image, factor int) (pix []uint8, cols, rows int) {
	b := img.Bounds()
	cols, rows = b.Dx()/factor, b.Dy()/factor
	pix = make([]uint8, cols*rows)
	var luma func(x, y int) uint32
	switch m := img.(type) {
	case *image.YCbCr:
		luma = func(x, y int) uint32 { return uint32(m.Y[m.YOffset(x, y)]) }
	case *image.Gray:
		luma = func(x, y int) uint32 { return uint32(m.Pix[m.PixOffset(x, y)]) }
	default:
		luma = func(x, y int) uint32 {
			r, g, bl, _ := m.At(x, y).RGBA()
			// ITU-R BT.601, as image/color's Gray model, on 16-bit channels.
			return (19595*r + 38470*g + 7471*bl + 1<<15) >> 24
		}
	}
	area := uint32(factor * factor)
	for y := range rows {
		for x := range cols {
			var sum uint32
			x0, y0 := b.Min.X+x*factor, b.Min.Y+y*factor
			for dy := range factor {
				for dx := range factor {
					sum += luma(x0+dx, y0+dy)
				}
			}
			pix[y*cols+x] = uint8(sum / area)
		}
	}
	return pix, cols, rows
}
