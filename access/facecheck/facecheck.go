// Package facecheck wires package face's detector into package access:
// a program that enrols face identifiers gives access.WithFaceChecker a
// Checker from New, and only such a program links the detector and its
// cascade, as a database/sql program links only the drivers it imports.
package facecheck

import (
	"context"
	"errors"
	"fmt"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/face"
)

// Checker is an access.FaceChecker over a *face.Checker. It is safe for
// concurrent use.
type Checker struct {
	c *face.Checker
}

// New returns a Checker with cfg's enrolment policy (see face.Config; the
// zero Config is pigo with package face's defaults).
func New(cfg face.Config) (*Checker, error) {
	c, err := face.NewChecker(cfg)
	if err != nil {
		return nil, fmt.Errorf("facecheck: %w", err)
	}
	return &Checker{c: c}, nil
}

// CheckFace checks photo with face.Checker.Check and answers in
// access.FaceChecker's terms: a photo that does not decode
// (face.ErrBadImage) matches access.ErrFaceUnreadable, one without an
// accepted face (face.ErrNoFace) matches access.ErrNoFace, and both keep
// face's error in the chain. Any other error is returned as it is.
func (c *Checker) CheckFace(ctx context.Context, photo string) error {
	_, err := c.c.Check(ctx, photo)
	switch {
	case errors.Is(err, face.ErrBadImage):
		return fmt.Errorf("%w: %w", access.ErrFaceUnreadable, err)
	case errors.Is(err, face.ErrNoFace):
		return fmt.Errorf("%w: %w", access.ErrNoFace, err)
	}
	return err
}

var _ access.FaceChecker = (*Checker)(nil)
