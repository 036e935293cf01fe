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
	// DefaultMinScore is pigo's customary confidence threshold.
	DefaultMinScore = 5.0
	// DefaultMinFaceSize is the smallest face, in pixels across in the
	// photo, that panels recognise reliably.
	DefaultMinFaceSize = 100
)

// Config sets the enrolment policy. Zero fields take the defaults.
type Config struct {
	MaxPayloadBytes int      // DefaultMaxPayloadBytes
	MaxPixels       int      // DefaultMaxPixels
	MinScore        float32  // DefaultMinScore
	MinFaceSize     int      // DefaultMinFaceSize
	Detector        Detector // a PigoDetector with DefaultDetectSize and MinFaceSize
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
// unpacks pigo's cascade, once, into a PigoDetector that skips faces
// smaller than MinFaceSize.
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
		d, err := NewPigoDetector(0, cfg.MinFaceSize)
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
// without such a face is ErrNoFace; a done context is its error.
func (c *Checker) Check(ctx context.Context, payload string) (Enrollment, error) {
	if err := ctx.Err(); err != nil {
		return Enrollment{}, err
	}
	img, format, err := Decode(payload, c.cfg.MaxPayloadBytes, c.cfg.MaxPixels)
	if err != nil {
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
