package av

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/h264"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// encodeVideo encodes n panning frames (seed picks the picture) with a new
// encoder for cfg, calling before(i) ahead of frame i when it is not nil,
// and returns the packets (one per frame) and copies of the source frames.
func encodeVideo(t testing.TB, cfg VideoConfig, n int, seed uint64, before func(e *VideoEncoder, i int)) ([]Packet, []*media.VideoFrame) {
	t.Helper()
	e := newVideoEncoder(t, cfg)
	p := newPanner(cfg.Width, cfg.Height, seed)
	var pkts []Packet
	srcs := make([]*media.VideoFrame, n)
	emit := func(k Packet) { pkts = append(pkts, k) }
	for i := range n {
		f := media.NewVideoFrame(cfg.Width, cfg.Height)
		p.frame(f, i)
		f.PTS = time.Duration(i) * time.Second / time.Duration(cfg.FrameRate)
		srcs[i] = f
		if before != nil {
			before(e, i)
		}
		if err := e.Encode(f, emit); err != nil {
			t.Fatal(err)
		}
		if len(pkts) != i+1 {
			t.Fatalf("%s: %d packets after %d frames (want one per frame)", cfg.Codec, len(pkts), i+1)
		}
	}
	return pkts, srcs
}

// nalTypes lists the types of the NAL units in Annex B data, and whether
// the data starts with a start code.
func nalTypes(b []byte) (types []h264.NALType, annexB bool) {
	for nal := range h264.NALs(b) {
		types = append(types, h264.TypeOf(nal))
	}
	return types, h264.IsAnnexB(b)
}

func TestVideoCodecConfig(t *testing.T) {
	ok := VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3}
	for _, tc := range []struct {
		name string
		edit func(*VideoConfig)
		want string
	}{
		{"unknown codec", func(c *VideoConfig) { c.Codec = "h265" }, `codec "h265": must be one of h264, h264-baseline, vp8`},
		{"case matters", func(c *VideoConfig) { c.Codec = "VP8" }, `codec "VP8"`},
		{"vp8 preset", func(c *VideoConfig) { c.Codec, c.Preset = "vp8", "fast" }, `preset "fast": VP8 has no presets`},
		{"baseline preset", func(c *VideoConfig) { c.Codec, c.Preset = "h264-baseline", "warp" }, `preset "warp"`},
	} {
		t.Run(tc.name, func(t *testing.T) { checkConfigError(t, ok, tc.edit, tc.want) })
	}
	for codec, want := range map[string]VideoConfig{
		"":              {Codec: "h264", Preset: "veryfast"},
		"h264-baseline": {Codec: "h264-baseline", Preset: "veryfast"},
		"vp8":           {Codec: "vp8"},
	} {
		c := ok
		c.Codec = codec
		e := newVideoEncoder(t, c)
		if got := e.Config(); got.Codec != want.Codec || got.Preset != want.Preset || got.KeyframeInterval != 2*time.Second {
			t.Errorf("codec %q: config %+v", codec, got)
		}
	}
}

// h264-baseline: Constrained Baseline, no global header, Annex B access
// units, SPS and PPS in front of every IDR and nowhere else, keyframes
// every GOP frames, no reordering.
func TestH264BaselineBitstream(t *testing.T) {
	cfg := VideoConfig{Codec: "h264-baseline", Width: 320, Height: 180, FrameRate: 30, Bitrate: 400e3, KeyframeInterval: time.Second}
	pkts, _ := encodeVideo(t, cfg, 45, 3, nil)
	s := newVideoEncoder(t, cfg).Stream()
	if s.Codec != "h264" || s.Kind != Video || s.Width != 320 || s.Height != 180 || len(s.Extradata) != 0 {
		t.Errorf("stream %+v, want codec h264 without extradata", s)
	}
	for i, k := range pkts {
		types, annexB := nalTypes(k.Data)
		if !annexB {
			t.Fatalf("packet %d does not start with a start code: % x", i, k.Data[:min(8, len(k.Data))])
		}
		if k.Keyframe != (i%30 == 0) {
			t.Errorf("packet %d: keyframe %v, want keyframes every 30", i, k.Keyframe)
		}
		if k.PTS != k.DTS || (i > 0 && k.PTS <= pkts[i-1].PTS) {
			t.Errorf("packet %d: pts %v dts %v after %v", i, k.PTS, k.DTS, pkts[i-1].PTS)
		}
		hasParams := slices.Contains(types, h264.SPS) && slices.Contains(types, h264.PPS)
		if k.Keyframe != slices.Contains(types, h264.IDR) || k.Keyframe != hasParams {
			t.Errorf("packet %d (keyframe %v): NAL types %v, want SPS, PPS and IDR exactly in keyframes", i, k.Keyframe, types)
		}
		if !k.Keyframe && !slices.Contains(types, h264.Slice) {
			t.Errorf("packet %d: NAL types %v, no slice", i, types)
		}
		if k.Keyframe {
			sps := findSPS(k.Data)
			// profile_idc 66 (Baseline) with constraint_set1 (Constrained).
			if len(sps) < 4 || sps[1] != 66 || sps[2]&0x40 == 0 {
				t.Errorf("packet %d: SPS % x, want Constrained Baseline (42 4x/cx …)", i, sps[:min(4, len(sps))])
			}
		}
	}
}

// vp8: raw VP8 frames, keyframes every GOP frames and flagged as such,
// the frame size in every keyframe's header, the rate near the target.
func TestVP8Bitstream(t *testing.T) {
	const fps, rate = 30, 600_000
	cfg := VideoConfig{Codec: "vp8", Width: 640, Height: 360, FrameRate: fps, Bitrate: rate, KeyframeInterval: time.Second}
	pkts, _ := encodeVideo(t, cfg, 3*fps, 5, nil)
	s := newVideoEncoder(t, cfg).Stream()
	if s.Codec != "vp8" || s.Kind != Video || s.Width != 640 || s.Height != 360 || s.FrameRateNum != fps || len(s.Extradata) != 0 {
		t.Errorf("stream %+v", s)
	}
	total := 0
	for i, k := range pkts {
		total += len(k.Data)
		if k.Keyframe != (i%fps == 0) {
			t.Errorf("packet %d: keyframe %v, want keyframes every %d", i, k.Keyframe, fps)
		}
		// The frame tag: bit 0 clear for a keyframe, bit 4 show_frame.
		if key := k.Data[0]&1 == 0; key != k.Keyframe || k.Data[0]&0x10 == 0 {
			t.Errorf("packet %d: frame tag %#x, keyframe flag %v", i, k.Data[0], k.Keyframe)
		}
		if k.Keyframe {
			d := k.Data
			if len(d) < 10 || !bytes.Equal(d[3:6], []byte{0x9d, 0x01, 0x2a}) ||
				int(d[6])|int(d[7]&0x3f)<<8 != 640 || int(d[8])|int(d[9]&0x3f)<<8 != 360 {
				t.Errorf("packet %d: keyframe header % x", i, d[:min(10, len(d))])
			}
		}
		if k.PTS != k.DTS || (i > 0 && k.PTS <= pkts[i-1].PTS) {
			t.Errorf("packet %d: pts %v dts %v", i, k.PTS, k.DTS)
		}
	}
	got := float64(total*8) / 3
	t.Logf("vp8 3 s at %d bps: %.0f bps (%+.1f %%)", rate, got, 100*(got/rate-1))
	if got < 0.75*rate || got > 1.25*rate {
		t.Errorf("bitrate %.0f bps, want %d ± 25 %%", got, rate)
	}
}

// ForceKeyframe makes exactly the next frame a keyframe (an IDR for
// H.264), for every codec, the GOP count starting again from it, and a
// receiver joining there decodes.
func TestForceKeyframe(t *testing.T) {
	for _, codec := range []string{"h264", "h264-baseline", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			cfg := VideoConfig{Codec: codec, Width: 320, Height: 180, FrameRate: 30, Bitrate: 400e3, KeyframeInterval: time.Second / 3}
			forced := []int{7, 13, 14}
			// GOP 10: keyframes at 0, the forced ones, and 10 after the last.
			keys := []int{0, 7, 13, 14, 24}
			pkts, srcs := encodeVideo(t, cfg, 26, 9, func(e *VideoEncoder, i int) {
				if slices.Contains(forced, i) {
					e.ForceKeyframe()
					e.ForceKeyframe() // twice is once
				}
			})
			if g := newVideoEncoder(t, cfg).GOP(); g != 10 {
				t.Fatalf("GOP %d, want 10", g)
			}
			for i, k := range pkts {
				want := slices.Contains(keys, i)
				if k.Keyframe != want {
					t.Errorf("packet %d: keyframe %v, want %v", i, k.Keyframe, want)
				}
				if codec != "vp8" {
					if types, _ := nalTypes(k.Data); slices.Contains(types, h264.IDR) != want {
						t.Errorf("packet %d: NAL types %v, IDR wanted: %v", i, types, want)
					}
				}
			}
			if codec == "h264" {
				return // needs its extradata: not a WebRTC stream
			}
			// A decoder joining at the forced keyframe decodes from there.
			d := newVideoDecoder(t, decoderCodec(codec), 0)
			for i := 7; i < len(pkts); i++ {
				out, err := d.Decode(pkts[i].Data, pkts[i].PTS, newFrame)
				if err != nil || out == nil {
					t.Fatalf("joining at 7: frame %d: %v, %v", i, out, err)
				}
				if db, _ := mediatest.PlanePSNR(out, 0, 0, srcs[i], 0); db < 35 {
					t.Errorf("joining at 7: frame %d: Y PSNR %.1f dB", i, db)
				}
			}
		})
	}
	var e *VideoEncoder
	e.ForceKeyframe() // nil: nothing
	e = newVideoEncoder(t, VideoConfig{Codec: "vp8", Width: 64, Height: 64, FrameRate: 30, Bitrate: 100e3})
	e.Close()
	e.ForceKeyframe() // closed: nothing
}

func TestOpusEncoder(t *testing.T) {
	e, err := NewAudioEncoder(AudioConfig{Codec: "opus"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := e.Stream()
	if s.Kind != Audio || s.Codec != "opus" || s.SampleRate != 48000 || s.Channels != 2 || s.FrameSize != 960 || s.Bitrate != 64000 {
		t.Errorf("stream %+v", s)
	}
	if !bytes.HasPrefix(s.Extradata, []byte("OpusHead")) {
		t.Errorf("extradata % x, want an OpusHead", s.Extradata)
	}
	const origin = 2 * time.Second
	var pkts []Packet
	emit := func(p Packet) { pkts = append(pkts, p) }
	a := media.NewAudioFrame(2, 480) // 10 ms chunks: two per Opus frame
	for i := range 100 {
		tone(a, i*480)
		a.PTS = origin + time.Duration(i)*10*time.Millisecond
		if err := e.Encode(a, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(emit); err != nil {
		t.Fatal(err)
	}
	const frame = 20 * time.Millisecond
	// The first packet starts the encoder's lookahead before the origin.
	if p := pkts[0].PTS; p > origin || p < origin-10*time.Millisecond {
		t.Errorf("first packet at %v, want a few ms before %v", p, origin)
	}
	for i, p := range pkts {
		if !p.Keyframe || p.Kind != Audio || p.PTS != p.DTS || len(p.Data) == 0 || len(p.Data) > 1275 {
			t.Fatalf("packet %d: %+v", i, p)
		}
		if p.Duration != frame && i != len(pkts)-1 {
			t.Errorf("packet %d: duration %v, want 20 ms", i, p.Duration)
		}
		if i > 0 && p.PTS != pkts[i-1].PTS+pkts[i-1].Duration {
			t.Errorf("packet %d: pts %v, previous ends at %v", i, p.PTS, pkts[i-1].PTS+pkts[i-1].Duration)
		}
	}
	// 1 s of input and the lookahead: 50 or 51 packets.
	if n := len(pkts); n < 50 || n > 51 {
		t.Errorf("%d packets for 1 s", n)
	}
	// 64 kbps, VBR: the second of packets stays near it.
	size := 0
	for _, p := range pkts {
		size += len(p.Data)
	}
	if bps := size * 8; bps < 40_000 || bps > 90_000 {
		t.Errorf("%d bps for 1 s at 64 kbps", bps)
	}

	for _, tc := range []struct {
		cfg  AudioConfig
		want string
	}{
		{AudioConfig{Codec: "mp3"}, `codec "mp3": must be one of aac, opus`},
		{AudioConfig{Codec: "opus", Bitrate: 5000}, "bitrate 5000: must be 6000–510000 for opus"},
		{AudioConfig{Codec: "aac", Bitrate: 600000}, "bitrate 600000: must be 8000–512000 for aac"},
	} {
		e, err := NewAudioEncoder(tc.cfg)
		if err == nil {
			e.Close()
			t.Errorf("%+v accepted", tc.cfg)
			continue
		}
		if !strings.Contains(err.Error(), "av: new audio encoder: "+tc.want) {
			t.Errorf("%+v: error %q, want %q", tc.cfg, err, tc.want)
		}
	}
	e.Close()
	if err := e.Encode(a, emit); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: %v", err)
	}
}

// Mono input goes to both channels of the interleaved Opus frame, clamped.
func TestOpusEncoderMono(t *testing.T) {
	e, err := NewAudioEncoder(AudioConfig{Codec: "opus", Bitrate: 32000})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a := media.NewAudioFrame(1, 1500)
	for i := range a.Samples {
		a.Samples[i] = float32(i%7) - 3 // out of range, clamped
	}
	var n int
	if err := e.Encode(a, func(Packet) { n++ }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d packets for 1500 samples (960 per frame)", n)
	}
	// Samples 960–1499 are still in the frame, interleaved.
	for i := range 540 {
		l, r := e.planes[0][2*i], e.planes[0][2*i+1]
		if want := max(-1, min(1, a.Samples[960+i])); l != want || r != want {
			t.Fatalf("sample %d: L %v R %v, want %v", 960+i, l, r, want)
		}
	}
}

func TestOpusEncoderAllocs(t *testing.T) {
	e, err := NewAudioEncoder(AudioConfig{Codec: "opus"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a := media.NewAudioFrame(2, 960)
	tone(a, 0)
	i := 0
	encode := func() {
		a.PTS = time.Duration(i) * 20 * time.Millisecond
		i++
		if err := e.Encode(a, func(Packet) {}); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		encode()
	}
	if n := testing.AllocsPerRun(50, encode); n > 1 {
		t.Errorf("%v allocations per 20 ms, want 1 (Packet.Data)", n)
	}
}

// An encoder closed without Flush (a live view's, a publisher's) drops
// its look-ahead without libopus warning of frames left in its queue.
func TestAudioEncoderCloseQuietly(t *testing.T) {
	t.Cleanup(func() { SetLogger(nil) })
	h := &records{level: slog.LevelWarn}
	SetLogger(slog.New(h))
	for _, codec := range []string{"opus", "aac"} {
		e, err := NewAudioEncoder(AudioConfig{Codec: codec})
		if err != nil {
			t.Fatal(err)
		}
		a := media.NewAudioFrame(2, 480)
		for i := range 10 {
			tone(a, i*480)
			a.PTS = time.Duration(i) * 10 * time.Millisecond
			if err := e.Encode(a, nil); err != nil {
				t.Fatal(err)
			}
		}
		e.Close()
		if r := h.take(); len(r) != 0 {
			t.Errorf("%s: closing logged %+v", codec, r)
		}
	}
}
