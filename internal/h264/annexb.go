// Package h264 finds the NAL units of an H.264 byte stream in Annex B form
// (ITU-T H.264 Annex B: every NAL unit preceded by a start code, 00 00 01
// or 00 00 00 01) and names their types (Table 7-1).
//
// The contract:
//
//   - Any bytes are accepted (publishers' bitstreams are untrusted); nothing
//     panics.
//   - A NAL unit is what follows a start code up to the next start code or
//     the end of the input, without its trailing zero bytes (the first byte
//     of a four-byte start code, trailing_zero_8bits). Bytes before the
//     first start code belong to no NAL unit, and units that are empty once
//     trimmed are skipped: every unit returned has its header byte.
//   - Units are returned as they are: subslices of the input (capacity cut
//     at their end, so appending to one never overwrites what follows),
//     emulation prevention bytes (00 00 03) left in place. Whoever parses
//     the RBSP removes them.
//   - Nothing allocates, ranging over NALs included.
//
// The package imports nothing of Tessera's, so every package may use it.
package h264

import (
	"bytes"
	"iter"
)

// startCode is the three-byte start code; a four-byte one is a zero byte
// followed by it.
var startCode = []byte{0, 0, 1}

// IsAnnexB reports whether b begins with a start code, 00 00 01 or
// 00 00 00 01.
func IsAnnexB(b []byte) bool {
	return bytes.HasPrefix(b, startCode) || len(b) > 3 && b[0] == 0 && bytes.HasPrefix(b[1:], startCode)
}

// NALs returns an iterator over the NAL units of the Annex B data b, in
// order.
func NALs(b []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for nal, rest := next(b); nal != nil; nal, rest = next(rest) {
			if !yield(nal) {
				return
			}
		}
	}
}

// next returns the first non-empty NAL unit of b and what follows it (from
// the next start code on), or nil when b holds none.
func next(b []byte) (nal, rest []byte) {
	for {
		i := bytes.Index(b, startCode)
		if i < 0 {
			return nil, nil
		}
		b = b[i+len(startCode):]
		end := bytes.Index(b, startCode)
		if end < 0 {
			end = len(b)
		}
		n := end
		for n > 0 && b[n-1] == 0 {
			n--
		}
		if n > 0 {
			return b[:n:n], b[end:]
		}
		b = b[end:]
	}
}
