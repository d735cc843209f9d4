package publisher

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/media"
)

// TestReplay publishes one clip from two publishers at once, for more
// than two loops, and decodes what arrives as the server does (FFmpeg's
// decoder, one access unit per frame): every frame decodes, across the
// loop boundaries too, the stamps count through the clip and start over,
// frames arrive at the clip's rate with RTP timestamps that follow the
// clock, the audio is the tone, and a PLI restarts the loop on its
// keyframe.
func TestReplay(t *testing.T) {
	for _, tc := range []struct{ codec, mime string }{
		{"h264", webrtc.MimeTypeH264},
		{"vp8", webrtc.MimeTypeVP8},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			clip, err := NewClip(Config{Name: "Replay", Codec: tc.codec, Width: 320, Height: 180, FPS: 30, ToneHz: DefaultToneHz}, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if clip.Frames() != 30 || clip.Length() < 999*time.Millisecond || clip.Length() > time.Second {
				t.Fatalf("clip of %d frames, %v", clip.Frames(), clip.Length())
			}
			for i, v := range clip.video {
				if v.key != (i == 0) {
					t.Fatalf("clip frame %d: keyframe %v", i, v.key)
				}
			}
			if len(clip.audio) != 50 {
				t.Errorf("%d audio packets in a 1 s clip, want 50", len(clip.audio))
			}
			a := newAnswerer(t)
			pubs := []*Publisher{startTest(t, a, Config{Name: "one", Clip: clip}), startTest(t, a, Config{Name: "two", Clip: clip})}
			began := time.Now()
			for i, p := range pubs {
				s := a.session([]string{"1", "2"}[i])
				video, audio := s.track(t, "video"), s.track(t, "audio")
				if !strings.EqualFold(video.mime, tc.mime) {
					t.Fatalf("video track is %s, want %s", video.mime, tc.mime)
				}
				if !waitFor(6*time.Second, func() bool { return video.count() > 0 && frameCount(video) >= 75 }) {
					t.Fatalf("publisher %d: %d frames after %v", i, frameCount(video), time.Since(began))
				}
				pkts := video.snapshot()
				frames, loops := decodeLoop(t, tc.codec, pkts, p, clip.Frames())
				if loops < 2 {
					t.Errorf("publisher %d: %d loop boundaries crossed, want ≥ 2", i, loops)
				}
				// The rate: frames over the time between the first and the
				// last frame's arrival, and the RTP clock over the same.
				first, last := pkts[0], pkts[len(pkts)-1]
				wall := last.at.Sub(first.at)
				if fps := float64(frames-1) / wall.Seconds(); fps < 27 || fps > 33 {
					t.Errorf("publisher %d: %d frames in %v: %.1f fps, want 30", i, frames, wall, fps)
				}
				rtpSpan := time.Duration(last.hdr.Timestamp-first.hdr.Timestamp) * time.Second / 90000
				if rtpSpan < wall*9/10 || rtpSpan > wall*11/10+50*time.Millisecond {
					t.Errorf("publisher %d: RTP timestamps span %v over %v of arrivals", i, rtpSpan, wall)
				}
				if hz := decodeTone(t, audio.snapshot()); hz < 0.97*DefaultToneHz || hz > 1.03*DefaultToneHz {
					t.Errorf("publisher %d: the audio decodes to a %.1f Hz tone, want %d Hz", i, hz, DefaultToneHz)
				}
				st := p.Stats()
				if st.Keyframes < 2 || st.Frames < 75 || st.AudioPackets < 100 {
					t.Errorf("publisher %d: %+v", i, st)
				}
				t.Logf("publisher %d: %d frames decoded over %d loop boundaries at %.1f fps; %+v", i, frames, loops, float64(frames-1)/wall.Seconds(), st)
			}

			// PLI: the loop restarts at its keyframe within a frame or two,
			// not at the next loop.
			s := a.session("1")
			video := s.track(t, "video")
			// Wait until the loop is well away from its start.
			waitFor(2*time.Second, func() bool {
				pk := video.snapshot()
				n, ok := stampOf(t, tc.codec, pk)
				return ok && n >= 5 && n <= 15
			})
			seen := video.count()
			sent := time.Now()
			s.pli(t, video)
			var key keyframeState
			if !waitFor(time.Second, func() bool {
				for _, pk := range video.snapshot()[seen:] {
					seen++
					key.add(video.mime, pk.payload)
				}
				return key.complete(video.mime)
			}) {
				t.Fatal("no keyframe within 1 s of the PLI")
			}
			if d := time.Since(sent); d > 300*time.Millisecond {
				t.Errorf("keyframe %v after the PLI", d)
			}
			if st := pubs[0].Stats(); st.PLIs == 0 || st.KeyframesForced == 0 {
				t.Errorf("PLI not counted: %+v", st)
			}
		})
	}
}

// frameCount counts the frames (marker bits) of a track so far.
func frameCount(tr *recvTrack) int {
	n := 0
	for _, pk := range tr.snapshot() {
		if pk.hdr.Marker {
			n++
		}
	}
	return n
}

// decodeLoop decodes the frames of a replayed video track from its first
// packet (the clip's keyframe) and checks their stamps: 0, 1, …, n-1, 0, …
// Every frame must decode. It returns the number of frames and of loop
// boundaries crossed.
func decodeLoop(t *testing.T, codec string, pkts []recvPacket, p *Publisher, n int) (frames, loops int) {
	t.Helper()
	contiguous(t, pkts)
	var next uint32
	eachFrame(t, codec, pkts, func(f *media.VideoFrame, err error, _ recvPacket) {
		if err != nil {
			t.Fatalf("frame %d (clip frame %d): %v", frames, next, err)
		}
		got, ok := ReadStamp(f, 0, 0, 1)
		if !ok || got != next {
			t.Fatalf("frame %d: stamp %d, %v; want %d", frames, got, ok, next)
		}
		if _, ok := p.SentAt(got); !ok {
			t.Fatalf("frame %d: SentAt does not know clip frame %d", frames, got)
		}
		frames++
		if next = (next + 1) % uint32(n); next == 0 {
			loops++
		}
	})
	return frames, loops
}

// stampOf decodes a track's packets from the start and returns the stamp
// of the last frame that decoded.
func stampOf(t *testing.T, codec string, pkts []recvPacket) (uint32, bool) {
	t.Helper()
	var last *media.VideoFrame
	eachFrame(t, codec, pkts, func(f *media.VideoFrame, err error, _ recvPacket) {
		if err == nil {
			last = f
		}
	})
	if last == nil {
		return 0, false
	}
	return ReadStamp(last, 0, 0, 1)
}

// TestClipConfig checks that a publisher refuses settings that contradict
// its clip, and NewClip lengths out of range.
func TestClipConfig(t *testing.T) {
	clip, err := NewClip(Config{Width: 160, Height: 96, FPS: 15}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if w, h := clip.Size(); w != 160 || h != 96 || clip.Codec() != "h264" || clip.FPS() != 15 || clip.Frames() != 15 {
		t.Fatalf("clip %dx%d %s %v fps %d frames", w, h, clip.Codec(), clip.FPS(), clip.Frames())
	}
	for _, cfg := range []Config{
		{Codec: "vp8"},
		{Width: 320, Height: 180},
		{FPS: 30},
		{Bitrate: 1_000_000},
		{ToneHz: 220},
		{Color: &media.YUV{Y: 16, U: 128, V: 128}},
	} {
		cfg.WHIP, cfg.Clip = "http://127.0.0.1/whip", clip
		if p, err := Start(context.Background(), cfg); err == nil {
			_ = p.Close(context.Background())
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
	ok := Config{WHIP: "http://127.0.0.1/whip", Clip: clip, Width: 160, Height: 96, FPS: 15, Codec: "h264"}
	if _, err := ok.withDefaults(); err != nil {
		t.Errorf("matching settings refused: %v", err)
	}
	for _, d := range []time.Duration{0, 500 * time.Millisecond, 2 * time.Minute} {
		if _, err := NewClip(Config{}, d); err == nil {
			t.Errorf("NewClip of %v succeeded", d)
		}
	}
}
