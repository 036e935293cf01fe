package face

import (
	"context"
	"errors"
	"fmt"
	"image"
)

// ErrNoFace is returned by Check when the photo decodes but no face in it
// passes the score and size thresholds. The access layer answers it with
// face_has_not_recognized.
var ErrNoFace = errors.New("face: no face recognized")

// Defaults of Config.
const (
	// DefaultMinScore is the threshold pigo's own command and examples
	// apply to clustered detections, whose scores are sums (the sample
	// photo's face scores about 260).
	DefaultMinScore = 5.0
	// DefaultMinFaceSize is the smallest face, in pixels across in the
	// photo, that panels recognise reliably.
	DefaultMinFaceSize = 100
)

// Config sets the enrolment policy. Zero (or negative) fields take the
// defaults named beside them.
type Config struct {
	MaxPayloadBytes int     // DefaultMaxPayloadBytes: longest payload, in bytes of base64
	MaxPixels       int     // DefaultMaxPixels: most pixels the image header may declare
	MinScore        float32 // DefaultMinScore: least detector score of an enrolled face
	MinFaceSize     int     // DefaultMinFaceSize: least width of an enrolled face, in the photo's pixels

	// Detector finds the faces; nil means a PigoDetector built with
	// DetectSize and MinFaceSize.
	Detector Detector
	// DetectSize is the longest side a photo is shrunk to before the
	// default detector runs (DefaultDetectSize); it is unused with another
	// Detector. In a larger photo the smallest face found is
	// 20 x ceil(longest side / DetectSize) pixels: raise it to find smaller
	// faces in large photos, at the cost of time.
	DetectSize int
}

// Enrollment is the result of a successful Check.
type Enrollment struct {
	Face          Face   // the largest face that passed the thresholds
	Faces         int    // how many faces passed them
	Format        string // "jpeg" or "png"
	Width, Height int    // of the photo
}

// Checker decides whether a face photo may be enrolled. It is safe for
// concurrent use; build one and share it.
type Checker struct {
	cfg Config
}

// NewChecker returns a Checker with cfg's policy; with no Detector given it
// unpacks pigo's cascade, once, into a PigoDetector that shrinks photos to
// DetectSize and skips faces smaller than MinFaceSize.
func NewChecker(cfg Config) (*Checker, error) {
	if cfg.MaxPayloadBytes <= 0 {
		cfg.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = DefaultMaxPixels
	}
	if cfg.MinScore <= 0 {
		cfg.MinScore = DefaultMinScore
	}
	if cfg.MinFaceSize <= 0 {
		cfg.MinFaceSize = DefaultMinFaceSize
	}
	if cfg.Detector == nil {
		d, err := NewPigoDetector(cfg.DetectSize, cfg.MinFaceSize)
		if err != nil {
			return nil, err
		}
		cfg.Detector = d
	}
	return &Checker{cfg: cfg}, nil
}

// Check decodes payload (see Decode) and returns the largest face whose
// score is at least MinScore and whose square is at least MinFaceSize
// pixels across. A payload that does not decode is ErrBadImage; a photo
// without such a face is ErrNoFace. The context is checked between the
// stages (base64, header, pixels, detection); a done one is its error.
func (c *Checker) Check(ctx context.Context, payload string) (Enrollment, error) {
	if err := ctx.Err(); err != nil {
		return Enrollment{}, err
	}
	img, format, err := Decode(ctx, payload, c.cfg.MaxPayloadBytes, c.cfg.MaxPixels)
	if err != nil {
		return Enrollment{}, err
	}
	if err := ctx.Err(); err != nil {
		return Enrollment{}, err
	}
	faces, err := c.cfg.Detector.Detect(ctx, img)
	if err != nil {
		return Enrollment{}, fmt.Errorf("face: detection: %w", err)
	}
	b := img.Bounds()
	e := Enrollment{Format: format, Width: b.Dx(), Height: b.Dy()}
	for _, f := range faces {
		if f.Score < c.cfg.MinScore || f.Rect.Dx() < c.cfg.MinFaceSize {
			continue
		}
		e.Faces++
		if area(f.Rect) > area(e.Face.Rect) {
			e.Face = f
		}
	}
	if e.Faces == 0 {
		return Enrollment{}, ErrNoFace
	}
	return e, nil
}

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }
