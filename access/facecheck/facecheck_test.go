package facecheck_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/png"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/access/facecheck"
	"github.com/lintelhq/lintel/face"
	"github.com/lintelhq/lintel/store/memory"
)

func samplePhoto(t testing.TB) string {
	b, err := os.ReadFile("../../face/testdata/sample.jpg")
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

func blankPNG(t testing.TB) string {
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 64))))
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestCheckFace(t *testing.T) {
	c, err := facecheck.New(face.Config{})
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, c.CheckFace(ctx, samplePhoto(t)))

	err = c.CheckFace(ctx, "not base64 at all!")
	assert.ErrorIs(t, err, access.ErrFaceUnreadable)
	assert.ErrorIs(t, err, face.ErrBadImage)

	err = c.CheckFace(ctx, blankPNG(t))
	assert.ErrorIs(t, err, access.ErrNoFace)
	assert.ErrorIs(t, err, face.ErrNoFace)

	done, cancel := context.WithCancel(ctx)
	cancel()
	err = c.CheckFace(done, samplePhoto(t))
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, access.ErrFaceUnreadable)
}

// The codes a panel answers for face photos, end to end through access.
func TestEnrolment(t *testing.T) {
	ctx := context.Background()
	c, err := facecheck.New(face.Config{})
	require.NoError(t, err)
	photo := samplePhoto(t)
	for _, tc := range []struct {
		name  string
		opts  []access.Option
		photo string
		want  access.ExtendedInfo
	}{
		{"a face", []access.Option{access.WithFaceChecker(c)}, photo, access.Created},
		{"no face", []access.Option{access.WithFaceChecker(c)}, blankPNG(t), access.FaceHasNotRecognized},
		{"not an image", []access.Option{access.WithFaceChecker(c)}, "bm90IGFuIGltYWdl", access.BadBase64ImageFile},
		{"no checker", nil, photo, access.FaceIDNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, err := access.New(ctx, memory.New(), tc.opts...)
			require.NoError(t, err)
			res, err := svc.UpsertIdentifiers(ctx, []access.Identifier{{
				LinkID: "3f0e3f57-59a0-4c1b-8a4e-7d3c2f8b9a10", Type: access.FaceID, Number: tc.photo,
				Valid: access.Validity{Time: access.ValidTime{IsPermanent: true}, Passes: access.ValidPasses{IsPermanent: true}},
			}})
			require.NoError(t, err)
			require.Len(t, res, 1)
			assert.Equal(t, tc.want, res[0].ExtendedInfo)
		})
	}
}

func Example() {
	checker, err := facecheck.New(face.Config{})
	if err != nil {
		panic(err)
	}
	svc, err := access.New(context.Background(), memory.New(), access.WithFaceChecker(checker))
	if err != nil {
		panic(err)
	}
	_ = svc // face_id identifiers are now checked for a face before they are stored
	// Output:
}
