package ingest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp/codecs"
)

// depackBoth depacketizes one frame's payloads with ours and with pion's
// codecs.H264Packet.
func depackBoth(payloads [][]byte) (ours []byte, oursErr error, pion []byte, pionErr error) {
	var d h264Depacketizer
	for _, p := range payloads {
		if ours, oursErr = d.appendPayload(ours, p); oursErr != nil {
			break
		}
	}
	if oursErr == nil {
		oursErr = d.finish()
	}
	var ref codecs.H264Packet
	for _, p := range payloads {
		b, err := ref.Unmarshal(p)
		if err != nil {
			pionErr = err
			break
		}
		pion = append(pion, b...)
	}
	return ours, oursErr, pion, pionErr
}

// Real streams, packetized by pion's payloader at MTUs that make single
// NAL unit packets, STAP-A aggregates (SPS and PPS) and FU-A fragments,
// depacketize to exactly what pion's depacketizer gives and to the
// access units themselves.
func TestH264DepacketizerMatchesPion(t *testing.T) {
	for _, file := range []string{"testdata/base180.h264", "testdata/high1080b.h264"} {
		frames := h264Frames(t, file)
		for _, mtu := range []uint16{100, 300, 1200} {
			var kinds [32]int
			for i, f := range frames {
				payloads := (&codecs.H264Payloader{}).Payload(mtu, f)
				for _, p := range payloads {
					kinds[p[0]&0x1f]++
				}
				ours, oursErr, pion, pionErr := depackBoth(payloads)
				if oursErr != nil || pionErr != nil {
					t.Fatalf("%s MTU %d frame %d: ours %v, pion's %v", file, mtu, i, oursErr, pionErr)
				}
				if !bytes.Equal(ours, pion) || !bytes.Equal(ours, f) {
					t.Fatalf("%s MTU %d frame %d: ours %d bytes, pion's %d, the frame %d", file, mtu, i, len(ours), len(pion), len(f))
				}
			}
			if kinds[nalFUA] == 0 || kinds[nalSTAPA] == 0 {
				t.Errorf("%s MTU %d: %d FU-A and %d STAP-A packets: the test does not cover both", file, mtu, kinds[nalFUA], kinds[nalSTAPA])
			}
		}
	}
}

// Malformed payloads are errors, and the next frame starts clean.
func TestH264DepacketizerRefuses(t *testing.T) {
	idr := []byte{0x65, 1, 2, 3}
	fuStart, fuMid, fuEnd := []byte{0x7c, 0x85, 1, 2}, []byte{0x7c, 0x05, 3}, []byte{0x7c, 0x45, 4}
	for _, tc := range []struct {
		name     string
		payloads [][]byte
		want     error
	}{
		{"empty", [][]byte{{}}, errShortH264},
		{"FU-A middle without a start", [][]byte{fuMid, fuEnd}, errFUAOrphan},
		{"FU-A without an end", [][]byte{fuStart, fuMid}, errFUAOpen},
		{"a NAL unit inside a FU-A", [][]byte{fuStart, idr, fuEnd}, errFUAOpen},
		{"two FU-A starts", [][]byte{fuStart, fuStart, fuEnd}, errFUAOpen},
		{"FU-A of two NAL types", [][]byte{fuStart, {0x7c, 0x41, 4}}, errFUAMixed},
		{"FU-A header cut", [][]byte{{0x7c}}, errShortH264},
		{"STAP-A unit cut", [][]byte{{0x78, 0, 5, 0x67, 1}}, errShortH264},
		{"STAP-A size cut", [][]byte{{0x78, 0, 1, 0x67, 0}}, errShortH264},
		{"STAP-A empty unit", [][]byte{{0x78, 0, 0}}, errShortH264},
		{"NAL type 0", [][]byte{{0x00, 1}}, nil},
		{"STAP-B", [][]byte{{0x19, 0, 0, 0, 1, 0x65}}, nil},
		{"FU-B", [][]byte{{0x1d, 0x85, 0, 0, 1}}, nil},
		{"NAL type 31", [][]byte{{0x1f, 1}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err, _, _ := depackBoth(tc.payloads)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			// The next frame starts clean.
			var d h264Depacketizer
			for _, p := range tc.payloads {
				if _, err := d.appendPayload(nil, p); err != nil {
					break
				}
			}
			_ = d.finish()
			got, err := d.appendPayload(nil, idr)
			if err != nil || d.finish() != nil || !bytes.Equal(got, append([]byte{0, 0, 0, 1}, idr...)) {
				t.Errorf("after a reset: %x %v", got, err)
			}
		})
	}
}

// A frame of FU-A fragments is depacketized without allocating once the
// frame's buffer has grown.
func TestH264DepacketizerAllocations(t *testing.T) {
	frame := h264Frames(t, "testdata/high1080b.h264")[0]
	payloads := (&codecs.H264Payloader{}).Payload(1200, frame)
	var d h264Depacketizer
	var buf []byte
	allocs := testing.AllocsPerRun(20, func() {
		buf = buf[:0]
		for _, p := range payloads {
			buf, _ = d.appendPayload(buf, p)
		}
		_ = d.finish()
	})
	if allocs != 0 || !bytes.Equal(buf, frame) {
		t.Errorf("%.1f allocations per frame of %d packets (output equal: %v)", allocs, len(payloads), bytes.Equal(buf, frame))
	}
}

// FuzzH264Depacketizer feeds a frame's payloads (the input cut at lengths
// its first bytes give): whatever ours accepts, pion's accepts and gives
// back the same bytes; nothing panics.
func FuzzH264Depacketizer(f *testing.F) {
	for _, frame := range h264Frames(f, "testdata/base180.h264")[:3] {
		var in []byte
		for _, p := range (&codecs.H264Payloader{}).Payload(300, frame) {
			in = append(in, byte(len(p)>>8), byte(len(p)))
			in = append(in, p...)
		}
		f.Add(in)
	}
	f.Add([]byte{0, 4, 0x7c, 0x85, 1, 2, 0, 3, 0x7c, 0x45, 3})
	f.Add([]byte{0, 7, 0x78, 0, 1, 0x67, 0, 1, 0x68})
	f.Fuzz(func(t *testing.T, in []byte) {
		var payloads [][]byte
		for len(in) >= 2 {
			n := min(int(in[0])<<8|int(in[1]), len(in)-2)
			payloads = append(payloads, in[2:2+n])
			in = in[2+n:]
		}
		ours, oursErr, pion, pionErr := depackBoth(payloads)
		if oursErr != nil {
			return
		}
		if pionErr != nil || !bytes.Equal(ours, pion) {
			t.Fatalf("ours accepted %d payloads as %x; pion's: %x, %v", len(payloads), ours, pion, pionErr)
		}
	})
}
