// Package face decides whether a face photo may be enrolled as a face_id
// identifier: it decodes the base64 payload safely and checks it for a face.
//
// Decode accepts plain base64 (standard or URL alphabet, padded or not,
// white space anywhere) and data URIs, and only JPEG and PNG. Its work is
// bounded before it is done: the payload's size first, then the pixel
// count the image header declares, so neither a huge upload nor a small
// decompression bomb costs memory. Every decoding failure is ErrBadImage,
// which the panel API reports as bad_base_64_image_file.
//
// A Checker applies the enrolment policy: the photo must hold a face whose
// detector score is at least Config.MinScore (default 5, pigo's customary
// threshold) and whose square is at least Config.MinFaceSize pixels across
// (default 100, what panels need to recognise a face). Check returns the
// largest such face, or ErrNoFace (face_has_not_recognized).
//
// Detection is pluggable through the Detector interface. The default,
// PigoDetector, runs github.com/esimov/pigo's cascade, embedded in the
// package and unpacked once per detector; photos are shrunk to at most
// DefaultDetectSize pixels on their longest side first, so detection time
// does not depend on the camera's resolution. See cascade/NOTICE for the
// cascade's licences: pico's own conditions may matter to a commercial
// product, which can plug another Detector.
package face
