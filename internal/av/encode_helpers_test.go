package av

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// panner makes moving pictures: a window of the frame's size that slides
// back and forth across a natural picture twice as wide, a few pixels per
// frame, the way a camera pans.
type panner struct {
	base *media.VideoFrame
	w, h int
}

func newPanner(w, h int, seed uint64) *panner {
	return &panner{base: mediatest.Natural(2*w, h, seed), w: w, h: h}
}

// frame fills dst (w×h) with picture i.
func (p *panner) frame(dst *media.VideoFrame, i int) {
	const step = 6 // pixels per frame, even so chroma stays aligned
	period := 2 * (p.w / step)
	k := i % period
	if k > period/2 {
		k = period - k
	}
	x0 := k * step
	for pl := range 3 {
		xo := x0
		if pl > 0 {
			xo /= 2
		}
		for y := range dst.PlaneHeight(pl) {
			copy(dst.Row(pl, y), p.base.Row(pl, y)[xo:])
		}
	}
}

// tone writes a 440 Hz sine at half scale into a (stereo), starting at
// sample n of the tone.
func tone(a *media.AudioFrame, n int) {
	for i := range a.Len() {
		v := float32(0.5 * math.Sin(2*math.Pi*440*float64(n+i)/media.SampleRate))
		for c := range a.Channels {
			a.Samples[i*a.Channels+c] = v
		}
	}
}

// avSource feeds encoders the way a composition does: video frames on a
// fixed tick, 10 ms audio chunks in time order between them.
type avSource struct {
	t      *testing.T
	fps    int
	pan    *panner
	frame  *media.VideoFrame
	chunk  *media.AudioFrame
	frames int // video frames so far
	audio  int // audio samples so far
}

func newAVSource(t *testing.T, w, h, fps int) *avSource {
	return &avSource{t: t, fps: fps, pan: newPanner(w, h, 7), frame: media.NewVideoFrame(w, h), chunk: media.NewAudioFrame(2, media.SampleRate/100)}
}

// run encodes d of media through ve and ae (either may be nil), flushes
// them and passes every packet to out.
func (s *avSource) run(d time.Duration, ve *VideoEncoder, ae *AudioEncoder, out func(Packet)) {
	s.t.Helper()
	n := int(d.Seconds()*float64(s.fps) + 0.5)
	for range n {
		pts := time.Duration(s.frames) * time.Second / time.Duration(s.fps)
		for ae != nil && time.Duration(s.audio)*time.Second/media.SampleRate <= pts {
			tone(s.chunk, s.audio)
			s.chunk.PTS = time.Duration(s.audio) * time.Second / media.SampleRate
			if err := ae.Encode(s.chunk, out); err != nil {
				s.t.Fatal(err)
			}
			s.audio += s.chunk.Len()
		}
		if ve != nil {
			s.pan.frame(s.frame, s.frames)
			s.frame.PTS = pts
			if err := ve.Encode(s.frame, out); err != nil {
				s.t.Fatal(err)
			}
		}
		s.frames++
	}
	for ae != nil && time.Duration(s.audio)*time.Second/media.SampleRate < d {
		tone(s.chunk, s.audio)
		s.chunk.PTS = time.Duration(s.audio) * time.Second / media.SampleRate
		if err := ae.Encode(s.chunk, out); err != nil {
			s.t.Fatal(err)
		}
		s.audio += s.chunk.Len()
	}
	if ve != nil {
		if err := ve.Flush(out); err != nil {
			s.t.Fatal(err)
		}
	}
	if ae != nil {
		if err := ae.Flush(out); err != nil {
			s.t.Fatal(err)
		}
	}
}

func newVideoEncoder(t testing.TB, cfg VideoConfig) *VideoEncoder {
	t.Helper()
	e, err := NewVideoEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func newAudioEncoder(t testing.TB) *AudioEncoder {
	t.Helper()
	e, err := NewAudioEncoder(AudioConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// probe is the part of ffprobe's JSON the tests look at.
type probe struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Profile      string `json:"profile"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		AvgFrameRate string `json:"avg_frame_rate"`
		HasBFrames   int    `json:"has_b_frames"`
		PixFmt       string `json:"pix_fmt"`
		SampleRate   string `json:"sample_rate"`
		Channels     int    `json:"channels"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t *testing.T, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Fatal("ffprobe not found: install Debian's ffmpeg package (make deps)")
	}
	cmd := exec.Command("ffprobe", append([]string{"-v", "error"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("ffprobe %s reported:\n%s", strings.Join(args, " "), stderr.String())
	}
	return out
}

func probeFile(t *testing.T, path string) probe {
	t.Helper()
	var p probe
	if err := json.Unmarshal(ffprobe(t, "-show_streams", "-show_format", "-of", "json", path), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// probePacket is one video packet as ffprobe sees it.
type probePacket struct {
	PTS float64
	Key bool
}

func probeVideoPackets(t *testing.T, path string) []probePacket {
	t.Helper()
	out := ffprobe(t, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", path)
	var pkts []probePacket
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) < 2 {
			continue
		}
		pts, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("ffprobe packet line %q: %v", line, err)
		}
		pkts = append(pkts, probePacket{pts, strings.HasPrefix(f[1], "K")})
	}
	return pkts
}
