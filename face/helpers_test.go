package face_test

import (
	"encoding/binary"
	"hash/crc32"
)

func binaryPutUint32(b []byte, v uint32) { binary.BigEndian.PutUint32(b, v) }

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
