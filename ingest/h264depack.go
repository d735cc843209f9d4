package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// h264Depacketizer turns the RTP payloads of one H.264 frame (RFC 6184:
// single NAL unit packets, STAP-A aggregates and FU-A fragments) into
// Annex B, every NAL unit behind a four-byte start code, appended to the
// frame being assembled: no buffer of its own, nothing allocated once the
// frame's buffer has grown, each byte copied once. It writes what pion's
// codecs.H264Packet gives back for the same payloads (the differential
// fuzz test holds it to that), which copies a fragmented NAL unit three
// times through fresh buffers.
//
// Stricter than pion where the payloads are malformed: a fragment that
// does not continue a started FU-A or names another NAL unit type or
// importance than its start, another NAL unit inside one, a FU-A
// still open at the end of the frame (finish), an empty or cut STAP-A
// unit, STAP-B, MTAP, FU-B and NAL type 0, 30 or 31 are errors, and the
// assembler drops the frame.
type h264Depacketizer struct {
	inFU     bool // a FU-A started and has not ended
	fuHeader byte // its NAL unit header, as every fragment must state it
}

// NAL unit types of RFC 6184's payload structures.
const (
	nalSTAPA = 24
	nalFUA   = 28
)

var (
	errShortH264 = errors.New("H.264 RTP payload too short")
	errFUAOrphan = errors.New("H.264 FU-A fragment without its start")
	errFUAOpen   = errors.New("H.264 FU-A without its end")
	errFUAMixed  = errors.New("H.264 FU-A fragments of different NAL units")
	annexBStart  = []byte{0, 0, 0, 1}
)

// finish ends the frame, forgetting an unfinished FU-A so that the next
// frame starts clean, and reports an error if the frame ended inside one.
func (d *h264Depacketizer) finish() error {
	if d.inFU {
		d.inFU = false
		return errFUAOpen
	}
	return nil
}

// appendPayload appends the NAL units (or the part of one) that payload
// carries to frame.
func (d *h264Depacketizer) appendPayload(frame, payload []byte) ([]byte, error) {
	if len(payload) == 0 {
		return frame, errShortH264
	}
	switch typ := payload[0] & 0x1f; {
	case typ >= 1 && typ <= 23:
		if d.inFU {
			return frame, errFUAOpen
		}
		return append(append(frame, annexBStart...), payload...), nil
	case typ == nalSTAPA:
		if d.inFU {
			return frame, errFUAOpen
		}
		rest := payload[1:]
		for len(rest) > 0 {
			if len(rest) < 2 {
				return frame, fmt.Errorf("%w: STAP-A size field cut", errShortH264)
			}
			n := int(binary.BigEndian.Uint16(rest))
			if n == 0 || 2+n > len(rest) {
				return frame, fmt.Errorf("%w: STAP-A unit of %d bytes in %d", errShortH264, n, len(rest)-2)
			}
			frame = append(append(frame, annexBStart...), rest[2:2+n]...)
			rest = rest[2+n:]
		}
		return frame, nil
	case typ == nalFUA:
		if len(payload) < 2 {
			return frame, errShortH264
		}
		start, end := payload[1]&0x80 != 0, payload[1]&0x40 != 0
		header := payload[0]&0x60 | payload[1]&0x1f // F bit dropped, as pion does
		switch {
		case start:
			if d.inFU {
				return frame, errFUAOpen
			}
			d.fuHeader = header
			frame = append(append(frame, annexBStart...), header)
		case !d.inFU:
			return frame, errFUAOrphan
		case header != d.fuHeader:
			return frame, errFUAMixed
		}
		d.inFU = !end
		return append(frame, payload[2:]...), nil
	default:
		return frame, fmt.Errorf("H.264 RTP payload of NAL type %d is not supported", typ)
	}
}

// IsPartitionHead reports whether payload can start a frame: anything but
// a FU-A fragment other than the first.
func (d *h264Depacketizer) IsPartitionHead(payload []byte) bool {
	if len(payload) >= 2 && payload[0]&0x1f == nalFUA {
		return payload[1]&0x80 != 0
	}
	return len(payload) > 0
}
