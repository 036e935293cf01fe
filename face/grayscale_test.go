package face

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLumaRowMatchesTheGrayModel: every fast path gives image/color's Gray
// model of the pixel, the YCbCr one (for colours within the RGB gamut)
// within rounding of it.
func TestLumaRowMatchesTheGrayModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r := image.Rect(-3, 2, 37, 21) // not at the origin, odd sizes
	// Colours a JPEG encoder writes: converted from RGB, so in its gamut.
	ycbcr := image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
	for i := range ycbcr.Y {
		ycbcr.Y[i], ycbcr.Cb[i], ycbcr.Cr[i] = color.RGBToYCbCr(uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)))
	}
	gray, rgba, nrgba := image.NewGray(r), image.NewRGBA(r), image.NewNRGBA(r)
	gray16, cmyk := image.NewGray16(r), image.NewCMYK(r)
	for _, pix := range [][]uint8{gray.Pix, nrgba.Pix, gray16.Pix, cmyk.Pix} {
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
		}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			a := uint8(rng.IntN(256))
			rgba.SetRGBA(x, y, color.RGBA{uint8(rng.IntN(int(a) + 1)), uint8(rng.IntN(int(a) + 1)), uint8(rng.IntN(int(a) + 1)), a})
		}
	}
	tests := []struct {
		img       image.Image
		tolerance float64
	}{
		{ycbcr, 1}, {gray, 0}, {rgba, 0}, {nrgba, 0}, {gray16, 0}, {cmyk, 0},
	}
	for _, tt := range tests {
		t.Run(typeName(tt.img), func(t *testing.T) {
			x0 := r.Min.X + 2
			row := make([]uint8, r.Dx()-2)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				lumaRow(tt.img, x0, y, row)
				for i, got := range row {
					want := color.GrayModel.Convert(tt.img.At(x0+i, y)).(color.Gray).Y
					require.InDelta(t, want, got, tt.tolerance, "pixel (%d,%d)", x0+i, y)
				}
			}
		})
	}
}

func typeName(img image.Image) string {
	switch img.(type) {
	case *image.YCbCr:
		return "YCbCr"
	case *image.Gray:
		return "Gray"
	case *image.RGBA:
		return "RGBA"
	case *image.NRGBA:
		return "NRGBA"
	case *image.Gray16:
		return "Gray16"
	default:
		return "CMYK"
	}
}

func TestGrayscaleAveragesBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	img := image.NewGray(image.Rect(10, 20, 17, 28)) // 7x8
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	for _, factor := range []int{1, 2, 3} {
		pix, cols, rows := grayscale(img, factor)
		require.Equal(t, 7/factor, cols)
		require.Equal(t, 8/factor, rows)
		for y := range rows {
			for x := range cols {
				sum := 0
				for dy := range factor {
					for dx := range factor {
						sum += int(img.GrayAt(10+x*factor+dx, 20+y*factor+dy).Y)
					}
				}
				assert.Equal(t, uint8(sum/(factor*factor)), pix[y*cols+x], "factor %d, pixel (%d,%d)", factor, x, y)
			}
		}
	}
}
