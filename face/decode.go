package face

import (
	"bytes"
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
// file, too many bytes or pixels. The access layer answers it with
// bad_base_64_image_file. The cause is wrapped.
var ErrBadImage = errors.New("face: bad image")

// Default limits of Decode.
const (
	// DefaultMaxPayloadBytes admits a 12 MiB image in base64 (panels take
	// photos of 100 KB to 10 MB).
	DefaultMaxPayloadBytes = 16 << 20
	// DefaultMaxPixels is 16 megapixels (a 4928x3264 camera photo).
	DefaultMaxPixels = 16_000_000
)

// Decode decodes a base64 face photo: plain base64 in the standard or URL
// alphabet, padded or not, with any white space, or a data URI
// (data:image/jpeg;base64,...). Only JPEG and PNG are accepted. The work is
// bounded before it is done: a payload over maxBytes is refused without
// decoding it, and an image whose header declares more than maxPixels is
// refused before its pixels are decoded, so a small file claiming
// 50000x50000 pixels costs next to nothing. It returns the image and its
// format ("jpeg" or "png"); every failure wraps ErrBadImage.
func Decode(payload string, maxBytes, maxPixels int) (image.Image, string, error) {
	if len(payload) > maxBytes {
		return nil, "", fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrBadImage, len(payload), maxBytes)
	}
	data, err := decodeBase64(payload)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrBadImage, err)
	}
	var decodeConfig func([]byte) (image.Config, error)
	var decode func([]byte) (image.Image, error)
	var format string
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		format = "jpeg"
		decodeConfig = func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		format = "png"
		decodeConfig = func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	default:
		return nil, "", fmt.Errorf("%w: neither JPEG nor PNG", ErrBadImage)
	}
	cfg, err := decodeConfig(data)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s header: %w", ErrBadImage, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, "", fmt.Errorf("%w: %dx%d pixels, more than %d", ErrBadImage, cfg.Width, cfg.Height, maxPixels)
	}
	img, err := decode(data)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", ErrBadImage, format, err)
	}
	return img, format, nil
}

// decodeBase64 strips a data URI prefix and white space, then decodes in
// the alphabet the text uses, with or without padding.
func decodeBase64(s string) ([]byte, error) {
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
		case '=':
			// Padding may only end the text; what follows is checked below.
			clean = append(clean, c)
		case '-', '_':
			url = true
			clean = append(clean, c)
		default:
			clean = append(clean, c)
		}
	}
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
