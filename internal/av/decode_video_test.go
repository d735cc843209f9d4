package av

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/h264"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// decoderCodec names the decoder for an encoder's VideoConfig.Codec.
func decoderCodec(codec string) string {
	if codec == "vp8" {
		return "vp8"
	}
	return "h264"
}

func newVideoDecoder(t testing.TB, codec string, threads int) *VideoDecoder {
	t.Helper()
	d, err := NewVideoDecoder(codec, threads)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// newFrame is a get for Decode that allocates.
func newFrame(w, h int) *media.VideoFrame { return media.NewVideoFrame(w, h) }

// quietFFmpeg silences FFmpeg's log for the rest of the test: corrupt input
// makes the decoders log errors.
func quietFFmpeg(t testing.TB) {
	SetLogger(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { SetLogger(nil) })
}

// psnr returns the PSNR of each plane of got against want (same size).
func psnr(got, want *media.VideoFrame) (db [3]float64) {
	for p := range 3 {
		db[p], _ = mediatest.PlanePSNR(got, 0, 0, want, p)
	}
	return db
}

// Encoder to decoder: every access unit gives its picture at once, of the
// right size, with its PTS, close to the source; get is called once per
// picture with its size.
func TestVideoDecodeRoundTrip(t *testing.T) {
	for _, codec := range []string{"h264-baseline", "vp8"} {
		for _, sz := range []struct{ w, h, rate int }{{320, 180, 400_000}, {640, 360, 1_000_000}} {
			t.Run(fmt.Sprintf("%s/%dx%d", codec, sz.w, sz.h), func(t *testing.T) {
				cfg := VideoConfig{Codec: codec, Width: sz.w, Height: sz.h, FrameRate: 30, Bitrate: sz.rate, KeyframeInterval: time.Second}
				pkts, srcs := encodeVideo(t, cfg, 30, 21, nil)
				d := newVideoDecoder(t, decoderCodec(codec), 0)
				pool := media.NewVideoPool(sz.w, sz.h)
				calls := 0
				get := func(w, h int) *media.VideoFrame {
					calls++
					if w != sz.w || h != sz.h {
						t.Errorf("get(%d, %d), want %dx%d", w, h, sz.w, sz.h)
					}
					return pool.Get()
				}
				var worst [3]float64
				for p := range worst {
					worst[p] = 100
				}
				for i, k := range pkts {
					pts := k.PTS + 5*time.Second // any clock will do
					out, err := d.Decode(k.Data, pts, get)
					if err != nil || out == nil {
						t.Fatalf("frame %d (keyframe %v): %v, %v", i, k.Keyframe, out, err)
					}
					if calls != i+1 {
						t.Fatalf("frame %d: get called %d times", i, calls)
					}
					if out.Width != sz.w || out.Height != sz.h || out.PTS != pts {
						t.Fatalf("frame %d: %dx%d at %v, want %dx%d at %v", i, out.Width, out.Height, out.PTS, sz.w, sz.h, pts)
					}
					for p, db := range psnr(out, srcs[i]) {
						worst[p] = min(worst[p], db)
					}
					pool.Put(out)
				}
				t.Logf("worst PSNR Y %.1f U %.1f V %.1f dB", worst[0], worst[1], worst[2])
				if worst[0] < 35 || worst[1] < 35 || worst[2] < 35 {
					t.Errorf("worst PSNR Y %.1f U %.1f V %.1f dB, want ≥ 35", worst[0], worst[1], worst[2])
				}
			})
		}
	}
}

// One decoder follows a stream whose size changes at keyframes (a new SPS,
// a VP8 keyframe of another size), up and down.
func TestVideoDecodeSizeChange(t *testing.T) {
	for _, codec := range []string{"h264-baseline", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			d := newVideoDecoder(t, decoderCodec(codec), 0)
			n := 0
			for s, sz := range [][2]int{{320, 180}, {640, 360}, {160, 90}, {320, 180}} {
				cfg := VideoConfig{Codec: codec, Width: sz[0], Height: sz[1], FrameRate: 30, Bitrate: 500_000}
				pkts, srcs := encodeVideo(t, cfg, 6, uint64(s), nil)
				for i, k := range pkts {
					pts := time.Duration(n) * time.Second / 30
					n++
					out, err := d.Decode(k.Data, pts, func(w, h int) *media.VideoFrame {
						if w != sz[0] || h != sz[1] {
							t.Fatalf("segment %d frame %d: get(%d, %d), want %dx%d", s, i, w, h, sz[0], sz[1])
						}
						return newFrame(w, h)
					})
					if err != nil || out == nil {
						t.Fatalf("segment %d frame %d: %v, %v", s, i, out, err)
					}
					if out.PTS != pts {
						t.Errorf("segment %d frame %d: pts %v, want %v", s, i, out.PTS, pts)
					}
					if db := psnr(out, srcs[i]); db[0] < 35 {
						t.Errorf("segment %d (%dx%d) frame %d: Y PSNR %.1f dB", s, sz[0], sz[1], i, db[0])
					}
				}
			}
		})
	}
}

// ffmpegCLI runs the ffmpeg command-line tool (quiet) and returns its
// standard output.
func ffmpegCLI(t *testing.T, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg not found: install Debian's ffmpeg package (make deps)")
	}
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// rawFrames cuts yuv420p rawvideo into w×h frames.
func rawFrames(t *testing.T, raw []byte, w, h int) []*media.VideoFrame {
	t.Helper()
	cw, ch := (w+1)/2, (h+1)/2
	size := w*h + 2*cw*ch
	if len(raw)%size != 0 {
		t.Fatalf("%d bytes of raw video is not a whole number of %dx%d frames", len(raw), w, h)
	}
	var frames []*media.VideoFrame
	for ; len(raw) > 0; raw = raw[size:] {
		f := media.NewVideoFrame(w, h)
		off := 0
		for p := range 3 {
			for y := range f.PlaneHeight(p) {
				off += copy(f.Row(p, y), raw[off:off+f.PlaneWidth(p)])
			}
		}
		frames = append(frames, f)
	}
	return frames
}

// splitAUD cuts an H.264 Annex B stream written with access unit
// delimiters into access units, every NAL unit behind a four-byte start
// code.
func splitAUD(es []byte) [][]byte {
	var aus [][]byte
	for nal := range h264.NALs(es) {
		if h264.TypeOf(nal) == h264.AUD {
			aus = append(aus, nil)
		}
		if len(aus) > 0 {
			aus[len(aus)-1] = append(append(aus[len(aus)-1], 0, 0, 0, 1), nal...)
		}
	}
	return aus
}

// splitIVF returns the frames of an IVF file.
func splitIVF(t *testing.T, b []byte) [][]byte {
	t.Helper()
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		t.Fatal("not an IVF file")
	}
	var frames [][]byte
	for b = b[binary.LittleEndian.Uint16(b[6:8]):]; len(b) >= 12; {
		n := int(binary.LittleEndian.Uint32(b))
		if len(b) < 12+n {
			t.Fatal("truncated IVF frame")
		}
		frames = append(frames, b[12:12+n])
		b = b[12+n:]
	}
	return frames
}

// Streams from other encoders in formats other than limited-range 4:2:0:
// full-range yuvj420p (mapped to limited range), 4:4:4 and 10-bit
// (converted by swscale), and VP8 at an odd size (kept). The pictures match
// what the ffmpeg tool makes of the same stream.
func TestVideoDecodeFormats(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, codec string
		w, h        int
		encode      []string
		minDB       [3]float64 // against ffmpeg's decoding to yuv420p
	}{
		// ffmpeg converts the range with swscale, the decoder with a table:
		// they round differently.
		{"yuvj420p", "h264", 320, 180, []string{"-c:v", "libx264", "-pix_fmt", "yuvj420p"}, [3]float64{45, 45, 45}},
		{"yuv444p", "h264", 320, 180, []string{"-c:v", "libx264", "-pix_fmt", "yuv444p"}, [3]float64{100, 38, 38}},
		{"yuv420p10le", "h264", 320, 180, []string{"-c:v", "libx264", "-pix_fmt", "yuv420p10le"}, [3]float64{40, 40, 40}},
		{"gray", "h264", 320, 180, []string{"-c:v", "libx264", "-pix_fmt", "gray"}, [3]float64{100, 100, 100}},
		{"odd size", "vp8", 321, 181, []string{"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "600k"}, [3]float64{100, 100, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			// testsrc2 makes even sizes only: scale to the size wanted.
			src := fmt.Sprintf("testsrc2=size=%dx%d:rate=30,scale=%d:%d", tc.w&^1, tc.h&^1, tc.w, tc.h)
			args := []string{"-f", "lavfi", "-i", src, "-frames:v", "8"}
			args = append(args, tc.encode...)
			if tc.codec == "h264" {
				args = append(args, "-preset", "ultrafast", "-tune", "zerolatency", "-x264-params", "aud=1", "-f", "h264", file)
			} else {
				args = append(args, "-f", "ivf", file)
			}
			ffmpegCLI(t, args...)
			ref := rawFrames(t, ffmpegCLI(t, "-i", file, "-pix_fmt", "yuv420p", "-f", "rawvideo", "-"), tc.w, tc.h)
			es, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var aus [][]byte
			if tc.codec == "h264" {
				aus = splitAUD(es)
			} else {
				aus = splitIVF(t, es)
			}
			if len(aus) != len(ref) || len(aus) != 8 {
				t.Fatalf("%d access units, ffmpeg decoded %d frames, want 8", len(aus), len(ref))
			}
			d := newVideoDecoder(t, tc.codec, 0)
			for i, au := range aus {
				out, err := d.Decode(au, time.Duration(i), newFrame)
				if err != nil || out == nil {
					t.Fatalf("frame %d: %v, %v", i, out, err)
				}
				if out.Width != tc.w || out.Height != tc.h {
					t.Fatalf("frame %d is %dx%d, want %dx%d", i, out.Width, out.Height, tc.w, tc.h)
				}
				for p, db := range psnr(out, ref[i]) {
					if db < tc.minDB[p] {
						t.Errorf("frame %d plane %d: %.1f dB from ffmpeg's picture, want ≥ %.0f", i, p, db, tc.minDB[p])
					}
				}
			}
		})
	}
}

// The full-range table maps the ends of the ranges to the ends of the
// limited ones and is monotonic.
func TestFullToLimited(t *testing.T) {
	l, c := fullToLimited[0], fullToLimited[1]
	if l[0] != 16 || l[255] != 235 || c[0] != 16 || c[128] != 128 || c[255] != 240 {
		t.Errorf("luma 0→%d 255→%d, chroma 0→%d 128→%d 255→%d", l[0], l[255], c[0], c[128], c[255])
	}
	for v := 1; v < 256; v++ {
		if l[v] < l[v-1] || c[v] < c[v-1] {
			t.Fatalf("not monotonic at %d", v)
		}
		if back := media.FullRange(l[v], false); int(back)-v > 1 || v-int(back) > 1 {
			t.Errorf("luma %d → %d → %d", v, l[v], back)
		}
	}
}

// decodeResult classifies what Decode gave for corrupt input, failing the
// test for anything but a picture of a sane size, nothing, or ErrCorrupt.
func decodeResult(t *testing.T, what string, out *media.VideoFrame, err error) string {
	t.Helper()
	switch {
	case err != nil && !errors.Is(err, ErrCorrupt):
		t.Fatalf("%s: error %v does not wrap ErrCorrupt", what, err)
	case err != nil:
		return "corrupt"
	case out == nil:
		return "nothing"
	case out.Width < 1 || out.Height < 1 || out.Width*out.Height > maxDecodePixels:
		t.Fatalf("%s: a %dx%d picture", what, out.Width, out.Height)
	}
	return "picture"
}

// Corrupt input — garbage, truncated and bit-flipped access units, empty
// input — gives ErrCorrupt or nothing (or, where the bitstream cannot
// tell, a damaged picture), never another error or a crash; from the next
// keyframe on the pictures are right again.
func TestVideoDecodeCorrupt(t *testing.T) {
	quietFFmpeg(t)
	for _, codec := range []string{"h264-baseline", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			cfg := VideoConfig{Codec: codec, Width: 320, Height: 180, FrameRate: 30, Bitrate: 400_000, KeyframeInterval: 500 * time.Millisecond}
			pkts, srcs := encodeVideo(t, cfg, 31, 17, nil) // keyframes at 0, 15, 30
			r := rand.New(rand.NewPCG(5, 6))
			random := func(n int) []byte {
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(r.IntN(256))
				}
				return b
			}
			type corruption struct {
				name string
				at   int // the packet replaced
				data []byte
			}
			var cases []corruption
			for _, n := range []int{1, 3, 16, 700, 20000} {
				cases = append(cases, corruption{fmt.Sprintf("%d random bytes", n), 4, random(n)})
			}
			cases = append(cases, corruption{"random bytes first", 0, random(500)})
			// Random bytes behind a start code and a slice header byte.
			cases = append(cases, corruption{"random slice", 4, append([]byte{0, 0, 0, 1, 0x41}, random(300)...)})
			cases = append(cases, corruption{"random IDR", 4, append([]byte{0, 0, 0, 1, 0x65}, random(300)...)})
			cases = append(cases, corruption{"empty", 4, nil})
			for _, at := range []int{0, 4} {
				for _, frac := range []int{10, 50, 90} {
					d := pkts[at].Data
					cases = append(cases, corruption{fmt.Sprintf("packet %d cut at %d %%", at, frac), at, d[:len(d)*frac/100]})
				}
				for seed := range 4 {
					d := bytes.Clone(pkts[at].Data)
					for range 1 + seed*3 {
						d[r.IntN(len(d))] ^= 1 << r.IntN(8)
					}
					cases = append(cases, corruption{fmt.Sprintf("packet %d with flipped bits (%d)", at, seed), at, d})
				}
			}
			for _, c := range cases {
				d := newVideoDecoder(t, decoderCodec(codec), 0)
				var seen []string
				for i, k := range pkts {
					data := k.Data
					if i == c.at {
						data = c.data
					}
					out, err := d.Decode(data, k.PTS, newFrame)
					res := decodeResult(t, fmt.Sprintf("%s: packet %d", c.name, i), out, err)
					if i < 15 {
						seen = append(seen, res)
						continue
					}
					// From the keyframe at 15 on, all is well again.
					if res != "picture" {
						t.Fatalf("%s: packet %d after the keyframe: %v, %v", c.name, i, out, err)
					}
					if i == 15 || i == 22 || i == 30 {
						if db := psnr(out, srcs[i]); db[0] < 35 {
							t.Errorf("%s: packet %d after the keyframe: Y PSNR %.1f dB", c.name, i, db[0])
						}
					}
				}
				t.Logf("%s: %s", c.name, strings.Join(seen, " "))
			}
		})
	}
}

// After Reset the decoder waits for a keyframe: access units with pictures
// give ErrCorrupt until one comes.
func TestVideoDecoderReset(t *testing.T) {
	for _, codec := range []string{"h264-baseline", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			quietFFmpeg(t)
			cfg := VideoConfig{Codec: codec, Width: 160, Height: 90, FrameRate: 30, Bitrate: 200_000, KeyframeInterval: 300 * time.Millisecond}
			pkts, srcs := encodeVideo(t, cfg, 12, 2, nil) // keyframes at 0, 9
			d := newVideoDecoder(t, decoderCodec(codec), 0)
			// Joining mid-GOP is the same as a Reset.
			for i, k := range pkts {
				if i == 5 {
					d.Reset()
				}
				out, err := d.Decode(k.Data, k.PTS, newFrame)
				switch {
				case i < 5 || i >= 9:
					if err != nil || out == nil {
						t.Fatalf("packet %d: %v, %v", i, out, err)
					}
					if db := psnr(out, srcs[i]); db[0] < 35 {
						t.Errorf("packet %d: Y PSNR %.1f dB", i, db[0])
					}
				case out != nil || !errors.Is(err, ErrCorrupt):
					t.Errorf("packet %d after Reset: %v, %v; want ErrCorrupt until the keyframe", i, out, err)
				}
			}
			// Parameter sets alone are no picture: nothing, no error.
			if codec == "h264-baseline" {
				key := pkts[9].Data
				types, _ := nalTypes(key)
				idr := bytes.Index(key, []byte{0, 0, 1, 0x65})
				if idr < 0 {
					t.Fatalf("no IDR start in %v", types)
				}
				d.Reset()
				if out, err := d.Decode(key[:idr], 0, newFrame); out != nil || err != nil {
					t.Errorf("SPS and PPS alone: %v, %v", out, err)
				}
			}
		})
	}
}

func TestH264NoPicture(t *testing.T) {
	sps, pps := []byte{0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e}, []byte{0, 0, 1, 0x68, 0xcb, 0x83}
	cat := func(b ...[]byte) []byte { return bytes.Join(b, nil) }
	for _, tc := range []struct {
		name string
		au   []byte
		want bool
	}{
		{"SPS and PPS", cat(sps, pps), true},
		{"delimiter, SEI", []byte{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x06, 0x05, 0x01}, true},
		{"with an IDR", cat(sps, pps, []byte{0, 0, 1, 0x65, 0x88}), false},
		{"a slice", []byte{0, 0, 1, 0x41, 0x9a}, false},
		{"forbidden bit", cat(sps, []byte{0, 0, 1, 0xe7, 0x42}), false},
		{"type 0 then a slice", []byte{0, 0, 1, 0, 0, 0, 1, 0x01, 0x26}, false},
		{"bytes before", cat([]byte{7}, sps), false},
		{"no start code", []byte{0x67, 0x42}, false},
		{"empty", nil, false},
	} {
		if got := h264NoPicture(tc.au); got != tc.want {
			t.Errorf("%s (% x): %v, want %v", tc.name, tc.au, got, tc.want)
		}
	}
}

// withoutParams returns the H.264 access unit au without its SPS and PPS.
func withoutParams(au []byte) []byte {
	var out []byte
	for nal := range h264.NALs(au) {
		if t := h264.TypeOf(nal); t != h264.SPS && t != h264.PPS {
			out = append(append(out, 0, 0, 0, 1), nal...)
		}
	}
	return out
}

// A sender may send SPS and PPS once, not with every IDR: the decoder
// keeps the last ones across Reset and errors.
func TestVideoDecoderKeepsParameterSets(t *testing.T) {
	quietFFmpeg(t)
	cfg := VideoConfig{Codec: "h264-baseline", Width: 160, Height: 90, FrameRate: 30, Bitrate: 200_000, KeyframeInterval: 200 * time.Millisecond}
	pkts, srcs := encodeVideo(t, cfg, 13, 6, nil) // keyframes at 0, 6, 12
	for i := 1; i < len(pkts); i++ {
		pkts[i].Data = withoutParams(pkts[i].Data)
		if types, _ := nalTypes(pkts[i].Data); slices.Contains(types, h264.SPS) || slices.Contains(types, h264.PPS) {
			t.Fatalf("packet %d still has parameter sets: %v", i, types)
		}
	}
	d := newVideoDecoder(t, "h264", 0)
	for i, k := range pkts {
		data := k.Data
		switch i {
		case 3:
			d.Reset()
		case 8:
			data = []byte{0, 0, 0, 1, 0x41, 0x9a, 0x00, 0xff, 0x13} // a damaged slice
		}
		out, err := d.Decode(data, k.PTS, newFrame)
		if i < 3 || i == 6 || i == 7 || i == 12 {
			if err != nil || out == nil {
				t.Fatalf("packet %d: %v, %v", i, out, err)
			}
			if db := psnr(out, srcs[i]); db[0] < 35 {
				t.Errorf("packet %d: Y PSNR %.1f dB", i, db[0])
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Errorf("packet %d: %v, %v; want ErrCorrupt", i, out, err)
		}
	}
}

func TestVideoDecoderErrors(t *testing.T) {
	for _, tc := range []struct {
		codec   string
		threads int
		want    string
	}{
		{"h265", 0, `codec "h265": must be one of h264, vp8`},
		{"h264-baseline", 0, `codec "h264-baseline"`},
		{"h264", -1, "threads -1"},
	} {
		d, err := NewVideoDecoder(tc.codec, tc.threads)
		if err == nil {
			d.Close()
			t.Errorf("NewVideoDecoder(%q, %d) succeeded", tc.codec, tc.threads)
			continue
		}
		if d != nil || !strings.Contains(err.Error(), "av: new video decoder: "+tc.want) {
			t.Errorf("NewVideoDecoder(%q, %d): %v, %q", tc.codec, tc.threads, d, err)
		}
	}

	pkts, _ := encodeVideo(t, VideoConfig{Codec: "vp8", Width: 64, Height: 48, FrameRate: 30, Bitrate: 100_000}, 4, 1, nil)
	d := newVideoDecoder(t, "vp8", 0)
	if _, err := d.Decode(pkts[0].Data, 0, nil); err == nil {
		t.Error("nil get accepted")
	}
	// A get that fails is the caller's error, not corrupt input; the
	// decoder carries on.
	for name, get := range map[string]func(w, h int) *media.VideoFrame{
		"nil frame":  func(w, h int) *media.VideoFrame { return nil },
		"wrong size": func(w, h int) *media.VideoFrame { return newFrame(w+2, h) },
		"short plane": func(w, h int) *media.VideoFrame {
			f := newFrame(w, h)
			f.Planes[2] = f.Planes[2][:10]
			return f
		},
	} {
		d := newVideoDecoder(t, "vp8", 0)
		if out, err := d.Decode(pkts[0].Data, 0, get); out != nil || err == nil || errors.Is(err, ErrCorrupt) {
			t.Errorf("get giving a %s: %v, %v", name, out, err)
		}
		if out, err := d.Decode(pkts[1].Data, 0, newFrame); out == nil || err != nil {
			t.Errorf("after get gave a %s: %v, %v", name, out, err)
		}
	}
	d.Close()
	d.Close()
	d.Reset()
	if _, err := d.Decode(pkts[0].Data, 0, newFrame); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v", err)
	}
	var nilDec *VideoDecoder
	nilDec.Close()
	nilDec.Reset()
	if _, err := nilDec.Decode(pkts[0].Data, 0, newFrame); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode on nil: %v", err)
	}
}

// Slice threads decode the slices x264's threads make, with the same
// pictures as one thread.
func TestVideoDecoderThreads(t *testing.T) {
	cfg := VideoConfig{Codec: "h264-baseline", Width: 640, Height: 360, FrameRate: 30, Bitrate: 1_000_000, Threads: 2}
	pkts, _ := encodeVideo(t, cfg, 10, 4, nil)
	one, two := newVideoDecoder(t, "h264", 1), newVideoDecoder(t, "h264", 2)
	for i, k := range pkts {
		a, err := one.Decode(k.Data, k.PTS, newFrame)
		if err != nil || a == nil {
			t.Fatalf("frame %d, 1 thread: %v, %v", i, a, err)
		}
		b, err := two.Decode(k.Data, k.PTS, newFrame)
		if err != nil || b == nil {
			t.Fatalf("frame %d, 2 threads: %v, %v", i, b, err)
		}
		if p, x, y, ok := equalFrames(a, b); !ok {
			t.Fatalf("frame %d: plane %d (%d,%d) differs between 1 and 2 threads", i, p, x, y)
		}
	}
}

// In the steady state Decode allocates nothing when get reuses frames,
// also when the picture needs converting.
func TestVideoDecoderAllocs(t *testing.T) {
	for _, codec := range []string{"h264-baseline", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			pkts, _ := encodeVideo(t, VideoConfig{Codec: codec, Width: 320, Height: 180, FrameRate: 30, Bitrate: 400_000}, 20, 8, nil)
			d := newVideoDecoder(t, decoderCodec(codec), 0)
			out := media.NewVideoFrame(320, 180)
			get := func(int, int) *media.VideoFrame { return out }
			i := 0
			decode := func() {
				k := pkts[i%len(pkts)] // wraps to the keyframe at 0
				i++
				if f, err := d.Decode(k.Data, k.PTS, get); err != nil || f != out {
					t.Fatalf("packet %d: %v, %v", i-1, f, err)
				}
			}
			for range 3 {
				decode()
			}
			if n := testing.AllocsPerRun(40, decode); n != 0 {
				t.Errorf("%v allocations per frame, want 0", n)
			}
		})
	}
	// The full-range and swscale paths.
	d := newVideoDecoder(t, "h264", 0)
	for _, pixFmt := range []string{"yuvj420p", "yuv444p"} {
		file := filepath.Join(t.TempDir(), pixFmt+".h264")
		ffmpegCLI(t, "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30", "-frames:v", "10", "-c:v", "libx264", "-pix_fmt", pixFmt,
			"-preset", "ultrafast", "-x264-params", "aud=1:keyint=10", "-f", "h264", file)
		es, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		aus := splitAUD(es)
		out := media.NewVideoFrame(160, 90)
		i := 0
		decode := func() {
			f, err := d.Decode(aus[i%len(aus)], 0, func(int, int) *media.VideoFrame { return out })
			i++
			if err != nil || f != out {
				t.Fatalf("%s: access unit %d: %v, %v", pixFmt, i-1, f, err)
			}
		}
		for range 3 {
			decode()
		}
		if n := testing.AllocsPerRun(20, decode); n != 0 {
			t.Errorf("%s: %v allocations per frame, want 0", pixFmt, n)
		}
	}
}

// FuzzVideoDecode feeds a decoder that has just decoded a keyframe any
// access unit: the result is a picture, nothing or ErrCorrupt — no other
// error, no crash — and the keyframe that follows decodes to the very
// same picture as it did the first time.
func FuzzVideoDecode(f *testing.F) {
	quietFFmpeg(f)
	type seed struct {
		pkts []Packet
		ref  *media.VideoFrame // pkts[0] decoded by a fresh decoder
	}
	seeds := map[bool]*seed{}
	for _, vp8 := range []bool{false, true} {
		codec := "h264-baseline"
		if vp8 {
			codec = "vp8"
		}
		pkts, _ := encodeVideo(f, VideoConfig{Codec: codec, Width: 96, Height: 64, FrameRate: 30, Bitrate: 150_000}, 4, 3, nil)
		d := newVideoDecoder(f, decoderCodec(codec), 0)
		ref, err := d.Decode(pkts[0].Data, 0, newFrame)
		if err != nil || ref == nil {
			f.Fatalf("%s keyframe: %v, %v", codec, ref, err)
		}
		seeds[vp8] = &seed{pkts, ref}
		for _, k := range pkts {
			f.Add(vp8, k.Data)
		}
	}
	// Found by the fuzzer: a damaged P slice after which a flushed (not
	// reopened) H.264 decoder decoded the next IDR differently; a damaged
	// slice the decoder held back (as a first field), spoiling the next.
	f.Add(false, []byte("\x00\x00\x01A7 \xff0A\x850c"))
	f.Add(false, []byte("\x00\x00\x01\x01&\x00A0\xaf0000"))
	f.Add(false, []byte("\x00\x00\x01\x00\x00\x01\x01&\x00A0\xaf00"))
	f.Fuzz(func(t *testing.T, vp8 bool, au []byte) {
		s := seeds[vp8]
		codec := "h264"
		if vp8 {
			codec = "vp8"
		}
		d, err := NewVideoDecoder(codec, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		key := s.pkts[0]
		if out, err := d.Decode(key.Data, 0, newFrame); err != nil || out == nil {
			t.Fatalf("keyframe: %v, %v", out, err)
		}
		out, err := d.Decode(au, time.Second, newFrame)
		decodeResult(t, "input", out, err)
		if out != nil && out.PTS != time.Second {
			t.Errorf("picture at %v, want 1s", out.PTS)
		}
		again, err := d.Decode(key.Data, 0, newFrame)
		if err != nil || again == nil {
			t.Fatalf("keyframe after the input: %v, %v", again, err)
		}
		if p, x, y, ok := equalFrames(again, s.ref); again.Width != s.ref.Width || again.Height != s.ref.Height || !ok {
			t.Fatalf("keyframe after the input decodes differently (%dx%d; plane %d (%d,%d))", again.Width, again.Height, p, x, y)
		}
	})
}

// BenchmarkDecode measures the native decoders on one thread: 3 s of
// panning natural pictures, encoded as a WebRTC sender would (H.264
// Constrained Baseline or VP8, 30 fps, a keyframe every 2 s) at 0.8 Mbps
// for 360p and 2.5 Mbps for 720p, decoded over and over; it reports the
// time per frame (the copy into the caller's frame included) and the
// stream's actual bitrate.
func BenchmarkDecode(b *testing.B) {
	for _, codec := range []string{"h264", "vp8"} {
		b.Run(codec, func(b *testing.B) {
			for _, sz := range []struct {
				name       string
				w, h, rate int
			}{{"360p", 640, 360, 800_000}, {"720p", 1280, 720, 2_500_000}} {
				b.Run(sz.name, func(b *testing.B) {
					enc := "h264-baseline"
					if codec == "vp8" {
						enc = "vp8"
					}
					e := newVideoEncoder(b, VideoConfig{Codec: enc, Width: sz.w, Height: sz.h, FrameRate: 30, Bitrate: sz.rate})
					p := newPanner(sz.w, sz.h, 13)
					f := media.NewVideoFrame(sz.w, sz.h)
					var pkts []Packet
					size := 0
					for i := range 90 {
						p.frame(f, i)
						f.PTS = time.Duration(i) * time.Second / 30
						if err := e.Encode(f, func(k Packet) { pkts, size = append(pkts, k), size+len(k.Data) }); err != nil {
							b.Fatal(err)
						}
					}
					d := newVideoDecoder(b, codec, 1)
					out := media.NewVideoFrame(sz.w, sz.h)
					get := func(int, int) *media.VideoFrame { return out }
					n := 0
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						k := pkts[n%len(pkts)]
						n++
						if _, err := d.Decode(k.Data, k.PTS, get); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(n), "ms/frame")
					b.ReportMetric(float64(size*8)/3, "stream-bps")
				})
			}
		})
	}
}
