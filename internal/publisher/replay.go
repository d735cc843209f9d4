package publisher

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
)

// Clip is a few seconds of the publisher's pictures and sound, encoded
// once, for publishers that replay it in a loop instead of drawing and
// encoding live (Config.Clip). Live encoding costs a core's worth of
// x264 for a dozen 720p publishers; a benchmark that runs them beside the
// server it measures would take that CPU from the server. Replaying
// costs only the sending (RTP, SRTP), while the receiver decodes exactly
// what a live publisher would make it decode.
//
// The video is one GOP: frame 0 is the only keyframe, so every loop
// starts on one and a receiver can join at any loop; the pictures carry
// their clip frame number (0 … Frames()-1) in the stamp. The audio is the
// tone in 20 ms Opus packets over the same length. A Clip is read-only
// once made and safe to share among any number of publishers.
type Clip struct {
	codec         string
	width, height int
	fps           float64
	bitrate       int
	toneHz        float64
	video         []clipFrame
	audio         [][]byte // 20 ms Opus packets
}

// clipFrame is one coded picture of a Clip.
type clipFrame struct {
	data []byte
	key  bool
}

// Clip length limits: at least a second, at most a minute.
const (
	minClip = time.Second
	maxClip = time.Minute
)

// NewClip encodes length (1 s – 1 min, rounded to whole frames) of the
// pictures and sound that a live publisher with cfg would send: cfg's
// Codec, Width, Height, FPS, Bitrate, Name (drawn on the pictures), Color
// and ToneHz, with the defaults of Config. The other fields are ignored.
// The video encoder runs with as many threads as it likes, once.
func NewClip(cfg Config, length time.Duration) (*Clip, error) {
	cfg.Clip = nil
	cfg, err := cfg.withMediaDefaults()
	if err != nil {
		return nil, fmt.Errorf("publisher: clip: %w", err)
	}
	if length < minClip || length > maxClip {
		return nil, fmt.Errorf("publisher: clip length %v: want %v–%v", length, minClip, maxClip)
	}
	frames := max(1, int(math.Round(length.Seconds()*cfg.FPS)))
	c := &Clip{codec: cfg.Codec, width: cfg.Width, height: cfg.Height, fps: cfg.FPS, bitrate: cfg.Bitrate, toneHz: cfg.ToneHz}
	// One GOP for the whole clip: the keyframe interval is its length.
	interval := time.Duration(float64(time.Second) / cfg.FPS)
	enc, err := av.NewVideoEncoder(av.VideoConfig{Codec: cfg.avCodec(), Width: cfg.Width, Height: cfg.Height,
		FrameRate: cfg.FPS, Bitrate: cfg.Bitrate, KeyframeInterval: time.Duration(frames) * interval})
	if err != nil {
		return nil, fmt.Errorf("publisher: clip: %w", err)
	}
	defer enc.Close()
	if enc.GOP() < frames {
		return nil, fmt.Errorf("publisher: clip: GOP %d shorter than the clip's %d frames", enc.GOP(), frames)
	}
	emit := func(p av.Packet) { c.video = append(c.video, clipFrame{data: p.Data, key: p.Keyframe}) }
	gen := NewGenerator(cfg.Width, cfg.Height, cfg.Name, cfg.Color)
	f := media.NewVideoFrame(cfg.Width, cfg.Height)
	for n := range frames {
		gen.Draw(f, uint32(n))
		f.PTS = time.Duration(n) * interval
		if err := enc.Encode(f, emit); err != nil {
			return nil, fmt.Errorf("publisher: clip: encoding frame %d: %w", n, err)
		}
	}
	if err := enc.Flush(emit); err != nil {
		return nil, fmt.Errorf("publisher: clip: %w", err)
	}
	if len(c.video) != frames {
		return nil, fmt.Errorf("publisher: clip: %d frames in, %d packets out", frames, len(c.video))
	}
	for i, v := range c.video {
		if v.key != (i == 0) {
			return nil, fmt.Errorf("publisher: clip: frame %d keyframe %v", i, v.key)
		}
	}

	// The sound: as many 20 ms packets as fit in the clip's length.
	aenc, err := newAudioEncoder()
	if err != nil {
		return nil, fmt.Errorf("publisher: clip: %w", err)
	}
	defer aenc.Close()
	want := max(1, int(math.Round(float64(frames)/cfg.FPS*50)))
	gen2 := tone{hz: cfg.ToneHz}
	a := media.NewAudioFrame(2, audioChunk)
	for i := 0; len(c.audio) < want; i++ {
		if i > 2*want {
			return nil, errors.New("publisher: clip: the audio encoder gives no packets")
		}
		gen2.fill(a)
		if err := aenc.Encode(a, func(p av.Packet) { c.audio = append(c.audio, p.Data) }); err != nil {
			return nil, fmt.Errorf("publisher: clip: encoding audio: %w", err)
		}
	}
	c.audio = c.audio[:want]
	return c, nil
}

// Codec is the clip's video codec, "h264" or "vp8".
func (c *Clip) Codec() string { return c.codec }

// Size is the clip's picture size.
func (c *Clip) Size() (width, height int) { return c.width, c.height }

// FPS is the clip's frame rate.
func (c *Clip) FPS() float64 { return c.fps }

// Frames is the number of pictures in one loop; their stamps count 0 to
// Frames()-1.
func (c *Clip) Frames() int { return len(c.video) }

// Length is the duration of one loop.
func (c *Clip) Length() time.Duration { return time.Duration(len(c.video)) * c.interval() }

func (c *Clip) interval() time.Duration { return time.Duration(float64(time.Second) / c.fps) }

// Bytes is the size of the coded video of one loop.
func (c *Clip) Bytes() int {
	n := 0
	for _, v := range c.video {
		n += len(v.data)
	}
	return n
}

// replayVideo sends the clip's frames, one every 1/FPS on a ticker, looping,
// until Done. The stamp of a replayed picture is its clip frame number:
// SentAt(k) tells when clip frame k was last sent. A PLI or FIR restarts
// the loop at frame 0, the keyframe.
func (p *Publisher) replayVideo(start time.Time) {
	c := p.cfg.Clip
	interval := c.interval()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	k := 0
	for {
		select {
		case <-p.pli:
			if k != 0 {
				k = 0
				p.forced.Add(1)
			}
		default:
		}
		fr := c.video[k]
		now := time.Now()
		p.markSent(uint32(k), now)
		if fr.key {
			p.keyframes.Add(1)
		}
		if !p.writeSample(p.vtrack, fr.data, now.Sub(start)) {
			return
		}
		p.frames.Add(1)
		k = (k + 1) % len(c.video)
		select {
		case <-p.done:
			return
		case <-ticker.C:
		}
	}
}

// replayAudio sends the clip's 20 ms audio packets on the clock, each
// once its 20 ms have passed (as audioLoop), looping, catching up after a
// late tick, until Done.
func (p *Publisher) replayAudio(start time.Time) {
	c := p.cfg.Clip
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	const chunk = 20 * time.Millisecond
	var sent time.Duration // audio sent so far
	j := 0
	for {
		for due := time.Since(start); sent+chunk <= due; sent += chunk {
			if !p.writeSample(p.atrack, c.audio[j], sent) {
				return
			}
			p.audioPackets.Add(1)
			j = (j + 1) % len(c.audio)
		}
		select {
		case <-p.done:
			return
		case <-ticker.C:
		}
	}
}
