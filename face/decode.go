package face

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
)

// ErrBadImage is returned for a payload that is not a decodable JPEG or PNG
// within the limits: bad base64, another format, a truncated or corrupt
// file, too many bytes, pixels or JPEG scans. The access layer answers it
// with bad_base_64_image_file. The cause is wrapped.
var ErrBadImage = errors.New("face: bad image")

// Default limits of Decode.
const (
	// DefaultMaxPayloadBytes admits a 12 MiB image in base64 (panels take
	// photos of 100 KB to 10 MB, 13.4 MB in base64).
	DefaultMaxPayloadBytes = 16 << 20
	// DefaultMaxPixels is 16 megapixels (a 4928x3264 camera photo).
	DefaultMaxPixels = 16_000_000
)

// MaxJPEGScans is the most scans a JPEG may have. Each scan of a
// progressive JPEG walks every block of the image, and a scan that only
// says "the rest of the blocks are empty" takes some 40 bytes, so without a
// limit a small file costs minutes of CPU (about 5 ms a scan at 16
// megapixels here). Encoders write 10 to 20 scans; the pigo sample has 15.
const MaxJPEGScans = 64

// sos starts a JPEG scan. Entropy-coded data stuffs every 0xFF byte with
// 0x00 and the decoder reads markers as 0xFF then the code, so counting
// this pair never misses a scan; it can only overcount when metadata
// happens to hold it.
var sos = []byte{0xff, 0xda}

// Decode decodes a base64 face photo: plain base64 in the standard or URL
// alphabet, padded or not, with any white space, or a data URI
// (data:image/jpeg;base64,...). Only JPEG and PNG are accepted, told apart
// by their signature whatever a data URI says. The work is bounded before
// it is done: a payload over maxBytes is refused without decoding it, a
// JPEG with more than MaxJPEGScans scans is refused, and an image whose
// header declares more than maxPixels is refused before its pixels are
// decoded, so a small file claiming 50000x50000 pixels costs next to
// nothing. Decoding an image within the limits allocates up to 24 bytes a
// pixel (a progressive CMYK JPEG; 15 for a progressive colour JPEG, 1.6
// for a baseline one, 4 to 8 for PNG), 384 MB at DefaultMaxPixels.
//
// It returns the image and its format ("jpeg" or "png"). Every failure
// wraps ErrBadImage, except a done context, checked between the stages,
// which is returned as ctx.Err().
func Decode(ctx context.Context, payload string, maxBytes, maxPixels int) (image.Image, string, error) {
	if len(payload) > maxBytes {
		return nil, "", fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrBadImage, len(payload), maxBytes)
	}
	data, err := decodeBase64(payload)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	var decodeConfig func(*bytes.Reader) (image.Config, error)
	var decode func(*bytes.Reader) (image.Image, error)
	var format string
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		if n := bytes.Count(data, sos); n > MaxJPEGScans {
			return nil, "", fmt.Errorf("%w: jpeg of %d scans, more than %d", ErrBadImage, n, MaxJPEGScans)
		}
		format, decodeConfig, decode = "jpeg", jpegConfig, jpegDecode
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		format, decodeConfig, decode = "png", pngConfig, pngDecode
	default:
		return nil, "", fmt.Errorf("%w: neither JPEG nor PNG", ErrBadImage)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s header: %w", ErrBadImage, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, "", fmt.Errorf("%w: %dx%d pixels, more than %d", ErrBadImage, cfg.Width, cfg.Height, maxPixels)
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", ErrBadImage, format, err)
	}
	return img, format, nil
}

// The decoders of the two formats, typed for Decode's switch.
func jpegConfig(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) }
func jpegDecode(r *bytes.Reader) (image.Image, error)  { return jpeg.Decode(r) }
func pngConfig(r *bytes.Reader) (image.Config, error)  { return png.DecodeConfig(r) }
func pngDecode(r *bytes.Reader) (image.Image, error)   { return png.Decode(r) }

// decodeBase64 strips surrounding white space and a data URI prefix, drops
// white space inside and the trailing padding, then decodes in the
// alphabet the text uses.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "data:"); ok {
		meta, body, ok := strings.Cut(rest, ",")
		if !ok {
			return nil, errors.New("data URI without a comma")
		}
		if !strings.HasPrefix(meta, "image/") || !strings.HasSuffix(meta, ";base64") {
			return nil, fmt.Errorf("data URI %q is not a base64 image", meta)
		}
		s = body
	}
	clean := make([]byte, 0, len(s))
	url := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\n':
		case '-', '_':
			url = true
			clean = append(clean, c)
		default:
			clean = append(clean, c)
		}
	}
	// Padding may only end the text: one left inside fails the decoding.
	clean = bytes.TrimRight(clean, "=")
	if len(clean) == 0 {
		return nil, errors.New("empty payload")
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	return out[:n], nil
}
