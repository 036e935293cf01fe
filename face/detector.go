package face

import (
	"context"
	_ "embed" // the cascade
	"fmt"
	"image"

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

// minWindow is the smallest square, in pixels of the shrunk image, on
// which pigo's cascade is run.
const minWindow = 20

// PigoDetector detects faces with pigo's cascade. A photo longer than
// DetectSize on its longest side is first shrunk by a whole factor k (the
// smallest that fits it within DetectSize), each output pixel averaging a
// k x k block, so detection time does not grow with camera resolution;
// faces are reported in the original image's coordinates. The smallest
// face it can find is therefore 20 x k pixels: 20 up to DetectSize, 180
// for a 4032x3024 photo with the default DetectSize.
//
// The cascade runs with pigo's customary parameters: windows move by a
// tenth of their size and grow by a tenth, and detections overlapping by
// more than 20% (intersection over union) are merged, their scores added.
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
// looks for every face pigo can find.
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
// A done context is returned as ctx.Err().
func (d *PigoDetector) Detect(ctx context.Context, img image.Image) ([]Face, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := img.Bounds()
	longest := max(b.Dx(), b.Dy())
	factor := max(1, (longest+d.detectSize-1)/d.detectSize)
	minSize := max(minWindow, d.minFace*4/5/factor)
	if minSize > min(b.Dx(), b.Dy())/factor {
		return nil, nil // no face that large fits
	}
	gray, cols, rows := grayscale(img, factor)
	if err := ctx.Err(); err != nil {
		return nil, err
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

// grayscale converts img to 8-bit luma, each output pixel averaging a
// factor x factor block; the right and bottom pixels that do not fill a
// block are dropped.
func grayscale(img image.Image, factor int) (pix []uint8, cols, rows int) {
	b := img.Bounds()
	cols, rows = b.Dx()/factor, b.Dy()/factor
	pix = make([]uint8, cols*rows)
	line := make([]uint8, cols*factor)
	sums := make([]uint32, cols)
	area := uint32(factor * factor)
	for y := range rows {
		clear(sums)
		for dy := range factor {
			lumaRow(img, b.Min.X, b.Min.Y+y*factor+dy, line)
			for x := range sums {
				for _, v := range line[x*factor : (x+1)*factor] {
					sums[x] += uint32(v)
				}
			}
		}
		out := pix[y*cols : (y+1)*cols]
		for x, s := range sums {
			out[x] = uint8(s / area)
		}
	}
	return pix, cols, rows
}

// lumaRow fills dst with the luma of the len(dst) pixels of img's row y
// from x0 on. JPEG photos (YCbCr) and grey images are copied from their
// luma plane; 8-bit RGBA and NRGBA images, what PNG photos decode to, are
// read from their pixels; others go through their colour model. All give
// image/color's Gray model of the premultiplied colour; the YCbCr plane,
// the luma the encoder computed, is within rounding of it for colours in
// the RGB gamut.
func lumaRow(img image.Image, x0, y int, dst []uint8) {
	switch m := img.(type) {
	case *image.YCbCr:
		copy(dst, m.Y[m.YOffset(x0, y):])
	case *image.Gray:
		copy(dst, m.Pix[m.PixOffset(x0, y):])
	case *image.RGBA:
		p := m.Pix[m.PixOffset(x0, y):]
		for i := range dst {
			dst[i] = luma(uint32(p[4*i])*0x101, uint32(p[4*i+1])*0x101, uint32(p[4*i+2])*0x101)
		}
	case *image.NRGBA:
		p := m.Pix[m.PixOffset(x0, y):]
		for i := range dst {
			a := uint32(p[4*i+3]) * 0x101
			dst[i] = luma(uint32(p[4*i])*a/0xff, uint32(p[4*i+1])*a/0xff, uint32(p[4*i+2])*a/0xff)
		}
	default:
		for i := range dst {
			r, g, b, _ := img.At(x0+i, y).RGBA()
			dst[i] = luma(r, g, b)
		}
	}
}

// luma is ITU-R BT.601 luma, as image/color's Gray model, of 16-bit
// premultiplied channels.
func luma(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 24)
}
