package ingest

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/tessera-media/tessera/internal/h264"
)

// packetize turns frames into RTP packets (small MTU, so frames span
// several packets), sequence numbers from seq0, 3000 ticks per frame.
func packetize(frames [][]byte, p rtp.Payloader, seq0 uint16, mtu uint16) []*rtp.Packet {
	var out []*rtp.Packet
	seq := seq0
	for i, f := range frames {
		payloads := p.Payload(mtu, f)
		for j, pl := range payloads {
			out = append(out, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq,
				Timestamp: uint32(1000 + 3000*i), Marker: j == len(payloads)-1}, Payload: pl})
			seq++
		}
	}
	return out
}

type collected struct {
	frames [][]byte
	ts     []uint32
	gaps   []bool
}

func (c *collected) emit(f assembledFrame) {
	c.frames = append(c.frames, bytes.Clone(f.data))
	c.ts = append(c.ts, f.ts)
	c.gaps = append(c.gaps, f.gap)
}

// h264Frames returns the access units of the Annex-B file at path without
// their delimiters, every NAL unit behind a four-byte start code: what
// pion's depacketizer gives back.
func h264Frames(t testing.TB, path string) [][]byte {
	aus := accessUnits(t, path)
	out := make([][]byte, len(aus))
	for i, au := range aus {
		var b []byte
		for n := range h264.NALs(au) {
			if h264.TypeOf(n) != h264.AUD {
				b = append(append(b, 0, 0, 0, 1), n...)
			}
		}
		out[i] = b
	}
	return out
}

func TestAssemblerInOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames [][]byte
		pay    rtp.Payloader
		dep    func() depacketizer
	}{
		{"h264", h264Frames(t, "testdata/base180.h264"), &codecs.H264Payloader{}, func() depacketizer { return &h264Depacketizer{} }},
		{"vp8", ivfFrames(t, "testdata/vp8_360.ivf"), &codecs.VP8Payloader{}, func() depacketizer { return pionDepacketizer{&codecs.VP8Packet{}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkts := packetize(tc.frames, tc.pay, 65530, 300) // wraps around
			if len(pkts) < 2*len(tc.frames) {
				t.Fatalf("only %d packets for %d frames", len(pkts), len(tc.frames))
			}
			a := newAssembler(tc.dep(), false, 100*time.Millisecond)
			var c collected
			for _, p := range pkts {
				a.push(p, 0, c.emit)
			}
			if len(c.frames) != len(tc.frames) {
				t.Fatalf("%d frames out, want %d (stats %+v)", len(c.frames), len(tc.frames), a.stats)
			}
			for i := range tc.frames {
				if !bytes.Equal(c.frames[i], tc.frames[i]) {
					t.Fatalf("frame %d differs: %d bytes, want %d", i, len(c.frames[i]), len(tc.frames[i]))
				}
				if c.gaps[i] {
					t.Errorf("frame %d has gap", i)
				}
			}
		})
	}
}

// Reordered, duplicated packets give the same frames, each as soon as it
// is complete; nothing counts as lost.
func TestAssemblerReorder(t *testing.T) {
	frames := h264Frames(t, "testdata/base180.h264")
	pkts := packetize(frames, &codecs.H264Payloader{}, 100, 200)
	r := rand.New(rand.NewPCG(1, 2))
	// Swap neighbours within windows of 4, duplicate every 7th.
	var order []*rtp.Packet
	for i := 0; i < len(pkts); i += 4 {
		w := append([]*rtp.Packet(nil), pkts[i:min(i+4, len(pkts))]...)
		r.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
		order = append(order, w...)
	}
	for i := 6; i < len(order); i += 7 {
		order = append(order[:i+1], order[i:]...)
	}
	a := newAssembler(&h264Depacketizer{}, false, 100*time.Millisecond)
	var c collected
	for _, p := range order {
		a.push(p, 0, c.emit)
	}
	if len(c.frames) != len(frames) {
		t.Fatalf("%d frames, want %d; stats %+v", len(c.frames), len(frames), a.stats)
	}
	for i := range frames {
		if !bytes.Equal(c.frames[i], frames[i]) {
			t.Fatalf("frame %d differs", i)
		}
	}
	if a.stats.Lost != 0 || a.stats.Duplicates+a.stats.Late == 0 {
		t.Errorf("stats %+v: want no loss, some duplicates", a.stats)
	}
}

// A lost packet holds the frames behind it for the jitter wait, then its
// frame is dropped and the next frame reports the gap.
func TestAssemblerLoss(t *testing.T) {
	frames := h264Frames(t, "testdata/base180.h264")
	pkts := packetize(frames, &codecs.H264Payloader{}, 0, 60)
	// Drop a middle packet of frame 2.
	var drop int
	for i, p := range pkts {
		if p.Timestamp == 1000+3000*2 && !p.Marker {
			drop = i + 1
			break
		}
	}
	if pkts[drop].Timestamp != 1000+3000*2 || pkts[drop].Marker {
		t.Fatal("frame 2 has too few packets for the test")
	}
	a := newAssembler(&h264Depacketizer{}, false, 100*time.Millisecond)
	var c collected
	now := time.Duration(0)
	for i, p := range pkts {
		if i == drop {
			continue
		}
		a.push(p, now, c.emit)
		now += 5 * time.Millisecond
		if len(c.frames) > 2 && now < 100*time.Millisecond {
			t.Fatalf("frame after the hole emitted before the wait")
		}
	}
	// Still waiting? Push a late copy of nothing: a further packet after the wait.
	if len(c.frames) == 2 {
		extra := packetize([][]byte{frames[0]}, &codecs.H264Payloader{}, pkts[len(pkts)-1].SequenceNumber+1, 200)
		for _, p := range extra {
			p.Timestamp = 999999
			a.push(p, now+time.Second, c.emit)
		}
	}
	if len(c.frames) < len(frames)-1 {
		t.Fatalf("%d frames out, want %d after the hole", len(c.frames), len(frames)-1)
	}
	if !c.gaps[2] || c.ts[2] != 1000+3000*3 {
		t.Errorf("frame after the hole: ts %d gap %v, want ts %d with gap", c.ts[2], c.gaps[2], 1000+3000*3)
	}
	if a.stats.Lost != 1 {
		t.Errorf("lost %d, want 1 (stats %+v)", a.stats.Lost, a.stats)
	}
	if !bytes.Equal(c.frames[2], frames[3]) {
		t.Error("frame after the hole is not frame 3")
	}
}

// A late retransmission within the wait fills the hole: nothing is lost.
func TestAssemblerRetransmission(t *testing.T) {
	frames := h264Frames(t, "testdata/base180.h264")
	pkts := packetize(frames, &codecs.H264Payloader{}, 10, 200)
	a := newAssembler(&h264Depacketizer{}, false, 100*time.Millisecond)
	var c collected
	held := pkts[3]
	for i, p := range pkts {
		if i == 3 {
			continue
		}
		a.push(p, time.Duration(i)*time.Millisecond, c.emit)
		if i == 8 {
			a.push(held, 9*time.Millisecond, c.emit)
		}
	}
	if len(c.frames) != len(frames) || a.stats.Lost != 0 {
		t.Fatalf("%d frames (want %d), stats %+v", len(c.frames), len(frames), a.stats)
	}
}

// Padding packets (no payload), as a browser sends them to probe
// bandwidth right after a frame and with its timestamp, are part of no
// frame: every frame comes out whole, with no gap and nothing counted as
// lost or malformed — also when the padding overtakes a frame's last
// packet, and when it comes between two packets of one frame.
func TestAssemblerPadding(t *testing.T) {
	frames := h264Frames(t, "testdata/base180.h264")
	media := packetize(frames, &codecs.H264Payloader{}, 0, 200)
	var pkts []*rtp.Packet
	seq := uint16(65500) // across the wrap
	pad := func(ts uint32, n int) {
		for range n {
			pkts = append(pkts, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Padding: true}})
			seq++
		}
	}
	pad(500, 3) // before the first frame
	for _, p := range media {
		q := *p
		q.SequenceNumber = seq
		seq++
		pkts = append(pkts, &q)
		switch {
		case q.Marker && (q.Timestamp/3000)%2 == 0:
			pad(q.Timestamp, 14)
		case !q.Marker && (q.Timestamp/3000)%3 == 0:
			pad(q.Timestamp, 2) // inside a frame
		}
	}
	// The last packet of the frame before a padding burst arrives after
	// the burst's first packet.
	for i := 1; i < len(pkts); i++ {
		if len(pkts[i].Payload) == 0 && len(pkts[i-1].Payload) > 0 && i > 10 {
			pkts[i-1], pkts[i] = pkts[i], pkts[i-1]
			break
		}
	}
	a := newAssembler(&h264Depacketizer{}, false, 100*time.Millisecond)
	var c collected
	for i, p := range pkts {
		a.push(p, time.Duration(i)*time.Millisecond, c.emit)
	}
	if len(c.frames) != len(frames) {
		t.Fatalf("%d frames out, want %d (stats %+v)", len(c.frames), len(frames), a.stats)
	}
	for i := range frames {
		if !bytes.Equal(c.frames[i], frames[i]) || c.gaps[i] {
			t.Fatalf("frame %d: equal %v, gap %v", i, bytes.Equal(c.frames[i], frames[i]), c.gaps[i])
		}
	}
	if a.stats.Lost != 0 || a.stats.Malformed != 0 {
		t.Errorf("stats %+v: want nothing lost or malformed", a.stats)
	}
}

func TestAssemblerSingleAndReset(t *testing.T) {
	a := newAssembler(pionDepacketizer{&codecs.OpusPacket{}}, true, 40*time.Millisecond)
	var c collected
	push := func(seq uint16, now time.Duration) {
		a.push(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: []byte{byte(seq), 1}}, now, c.emit)
	}
	push(1, 0)
	push(2, 0)
	if len(c.frames) != 2 {
		t.Fatalf("single-packet frames not emitted at once: %d", len(c.frames))
	}
	push(4, 0) // 3 missing
	if len(c.frames) != 2 {
		t.Fatal("emitted across a hole before the wait")
	}
	push(5, 50*time.Millisecond)
	if len(c.frames) != 4 || !c.gaps[2] {
		t.Fatalf("after the wait: %d frames, gaps %v", len(c.frames), c.gaps)
	}
	push(3, 60*time.Millisecond) // too late
	if a.stats.Late != 1 {
		t.Errorf("late %d, want 1", a.stats.Late)
	}
	push(5+ringSize+10, 70*time.Millisecond) // a jump: reset
	if a.stats.Resets != 1 || len(c.frames) != 5 || !c.gaps[4] {
		t.Errorf("after a jump: resets %d, frames %d, gaps %v", a.stats.Resets, len(c.frames), c.gaps)
	}
}

// FuzzAssembler feeds arbitrary packet sequences (as publishers can send)
// through the assembler and the H.264 depacketizer: never a panic, and
// never more frames than packets.
func FuzzAssembler(f *testing.F) {
	var seed []byte
	for _, p := range packetize(h264Frames(f, "testdata/base180.h264")[:3], &codecs.H264Payloader{}, 0, 200) {
		seed = append(seed, byte(p.SequenceNumber), byte(p.Timestamp>>8), byte(len(p.Payload)))
		if p.Marker {
			seed[len(seed)-1] |= 0x80
		}
		seed = append(seed, p.Payload[:min(len(p.Payload), 0x7f)]...)
	}
	f.Add(seed)
	f.Add([]byte{0, 0, 3, 0x7c, 0x85, 1, 1, 0, 0x82, 0x7c, 0x45, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, single := range []bool{false, true} {
			a := newAssembler(&h264Depacketizer{}, single, 30*time.Millisecond)
			n, frames := 0, 0
			now := time.Duration(0)
			for i := 0; i+3 <= len(b); {
				seq, ts, l := uint16(b[i]), uint32(b[i+1]), int(b[i+2]&0x7f)
				p := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq * 7, Timestamp: ts, Marker: b[i+2]&0x80 != 0}}
				i += 3
				p.Payload = b[i:min(i+l, len(b))]
				i += l
				n++
				now += 10 * time.Millisecond
				a.push(p, now, func(f assembledFrame) {
					frames++
					if len(f.data) == 0 {
						t.Fatal("empty frame emitted")
					}
				})
				// skipGap looks no further than the newest packet: none
				// held may be newer.
				for i := range a.slots {
					if s := &a.slots[i]; s.used && int16(a.newest-s.seq) < 0 {
						t.Fatalf("packet %d held, newer than the newest %d", s.seq, a.newest)
					}
				}
			}
			if frames > n {
				t.Fatalf("%d frames from %d packets", frames, n)
			}
		}
	})
}
