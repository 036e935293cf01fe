// Package face decides whether a face photo may be enrolled as a face_id
// identifier: it decodes the base64 payload safely and checks it for a face.
//
// Decode accepts plain base64 (standard or URL alphabet, padded or not,
// white space anywhere) and data:image/...;base64, URIs, and only JPEG and
// PNG. Its work is bounded before it is done: the payload's size first
// (Config.MaxPayloadBytes, default 16 MiB, a 12 MiB photo), then the
// number of JPEG scans (MaxJPEGScans), then the pixel count the image
// header declares (Config.MaxPixels, default 16 megapixels), so neither a
// huge upload, nor a small decompression bomb, nor a progressive JPEG of
// endless empty scans costs memory or time. Within the limits, decoding
// allocates up to 24 bytes a pixel (see Decode). Every decoding failure is
// ErrBadImage, which the panel API reports as bad_base_64_image_file.
//
// A Checker applies the enrolment policy: the photo must hold a face whose
// detector score is at least Config.MinScore (default 5, the threshold of
// pigo's own tools) and whose square is at least Config.MinFaceSize pixels
// across (default 100, what panels need to recognise a face). Check returns
// the largest such face, or ErrNoFace (face_has_not_recognized).
//
// Detection is pluggable through the Detector interface. The default,
// PigoDetector, runs github.com/esimov/pigo's cascade, embedded in the
// package and unpacked once per detector. Photos are shrunk by a whole
// factor to at most Config.DetectSize pixels on their longest side
// (default 480) first, so detection time does not depend on the camera's
// resolution; the price is that in a large photo the smallest face found
// grows with the factor (180 pixels in a 4032x3024 photo). The cascade is
// under pigo's and pico's MIT licences (pico's since 2016), which allow
// commercial use; cascade/NOTICE holds both notices, to ship with a
// program built with this package.
package face
