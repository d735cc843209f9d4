package ingest

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

func startPublisher(t testing.TB, cfg publisher.Config) *publisher.Publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	p, err := publisher.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("publishing: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

// A Go publisher (libx264 constrained baseline or libvpx, plus an Opus
// tone) publishes over loopback: pictures decode at the sent size and
// rate, audio arrives as a 48 kHz stereo tone, timestamps advance
// steadily, audio and video line up, and the roster and events follow the
// session from join to leave.
func TestPublish(t *testing.T) {
	for _, codec := range []string{"h264", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			ts := startServer(t, nil)
			id := "pub-" + codec
			pub := startPublisher(t, publisher.Config{
				WHIP: ts.url + "/whip", Token: ts.token(t, id, nil), Name: id, Codec: codec,
				Width: 320, Height: 180, FPS: 30, ToneHz: 1000,
			})
			var p *Participant
			testsrv.WaitFor(t, 10*time.Second, "the participant", func() bool { p = ts.stage.Participant(id); return p != nil })
			audio := p.SubscribeAudio()
			defer audio.Close()
			testsrv.WaitFor(t, 10*time.Second, "the first picture", func() bool { return p.Video().Frames() > 0 })

			// Watch two seconds of pictures.
			var pts []time.Duration
			var delays []time.Duration
			var lastFrame *Frame
			start := time.Now()
			startFrames := p.Video().Frames()
			for time.Since(start) < 2*time.Second {
				f := p.Video().Latest()
				if f != lastFrame && f != nil {
					seen := time.Now()
					if f.Width != 320 || f.Height != 180 {
						t.Fatalf("picture %dx%d, want 320x180", f.Width, f.Height)
					}
					if len(pts) == 0 || f.PTS != pts[len(pts)-1] {
						pts = append(pts, f.PTS)
						if n, ok := publisher.ReadStamp(f.VideoFrame, 0, 0, 1); ok {
							if sent, ok := pub.SentAt(n); ok {
								delays = append(delays, seen.Sub(sent))
							}
						}
					}
				}
				lastFrame.Release()
				lastFrame = f
				time.Sleep(2 * time.Millisecond)
			}
			lastFrame.Release()
			elapsed := time.Since(start)
			fps := float64(p.Video().Frames()-startFrames) / elapsed.Seconds()
			if fps < 24 || fps > 36 {
				t.Errorf("%.1f pictures/s decoded, want ≈30", fps)
			}
			// Capture times step by one frame interval (±15 ms of jitter).
			var steps []time.Duration
			for i := 1; i < len(pts); i++ {
				steps = append(steps, pts[i]-pts[i-1])
			}
			slices.Sort(steps)
			if med := steps[len(steps)/2]; med < 30*time.Millisecond || med > 37*time.Millisecond {
				t.Errorf("median PTS step %v, want 33 ms", med)
			}
			if steps[0] <= 0 {
				t.Errorf("PTS not increasing: smallest step %v", steps[0])
			}
			if len(delays) < 20 {
				t.Fatalf("read only %d stamps from %d pictures", len(delays), len(pts))
			}
			slices.Sort(delays)
			t.Logf("%s: %.1f fps; publisher capture → decoded picture: p50 %v, p95 %v (n=%d)", codec, fps,
				delays[len(delays)/2].Round(100*time.Microsecond), delays[len(delays)*95/100].Round(100*time.Microsecond), len(delays))

			// Audio: 48 kHz stereo, ~one second per second, contiguous
			// timestamps, and the tone's frequency.
			var samples []*media.AudioFrame
			var apts []time.Duration
			var total time.Duration
			audio.Drain(func(a *media.AudioFrame) {
				if a.Channels != 2 {
					t.Fatalf("%d channels, want 2", a.Channels)
				}
				samples = append(samples, a)
				apts = append(apts, a.PTS)
				total += a.Duration()
			})
			if d := total.Seconds() / elapsed.Seconds(); d < 0.8 || d > 1.2 {
				t.Errorf("%v of audio in %v", total, elapsed)
			}
			if hz := toneFrequency(samples, 48000); math.Abs(hz-1000) > 20 {
				t.Errorf("tone at %.0f Hz, want 1000", hz)
			}
			// Audio and video capture times cover the same span.
			if d := (apts[len(apts)-1] - pts[len(pts)-1]).Abs(); d > 150*time.Millisecond {
				t.Errorf("newest audio at %v, newest video at %v: %v apart", apts[len(apts)-1], pts[len(pts)-1], d)
			}

			info := p.Info()
			if !info.Video || !info.Audio || info.VideoCodec != codec || info.AudioCodec != "opus" ||
				info.Width != 320 || info.Height != 180 || info.VideoStopped || info.AudioOnly || info.UserID != "user-"+id {
				t.Errorf("roster entry %+v", info)
			}
			if st := p.Stats(); st.DecodeErrors != 0 || st.PacketsLost != 0 {
				t.Errorf("clean loopback run with losses or decode errors: %+v", st)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := pub.Close(ctx); err != nil {
				t.Fatal(err)
			}
			testsrv.WaitFor(t, 5*time.Second, "the participant to leave", func() bool { return len(ts.stage.Roster()) == 0 })
			var names []string
			for _, e := range ts.stage.Events() {
				names = append(names, e.Name)
			}
			if want := []string{EventJoined, EventPublishStarted, EventPublishStopped, EventLeft}; !slices.Equal(names, want) {
				t.Errorf("events %v, want %v", names, want)
			}
		})
	}
}

// toneFrequency estimates the frequency of a stereo sine by counting
// zero crossings of the left channel, across frames only where one follows
// on from the other (a frame dropped on the way adds no crossing).
func toneFrequency(frames []*media.AudioFrame, rate float64) float64 {
	crossings, n := 0, 0
	var prev *media.AudioFrame
	for _, f := range frames {
		s := f.Samples
		if prev != nil && (f.PTS-(prev.PTS+prev.Duration())).Abs() < time.Millisecond && len(prev.Samples) >= 2 && len(s) >= 2 {
			if (prev.Samples[len(prev.Samples)-2] < 0) != (s[0] < 0) {
				crossings++
			}
			n++
		}
		for i := 1; i < len(s)/2; i++ {
			if (s[2*(i-1)] < 0) != (s[2*i] < 0) {
				crossings++
			}
		}
		n += max(len(s)/2-1, 0)
		prev = f
	}
	return float64(crossings) / 2 / (float64(n) / rate)
}

// With 5 % of the publisher's packets lost (retransmissions included),
// pictures keep arriving: NACKs bring most packets back and PLIs restart
// the rest, and the decoder never sees a broken reference.
func TestPublishWithLoss(t *testing.T) {
	ts := startServer(t, nil)
	pub := startPublisher(t, publisher.Config{
		WHIP: ts.url + "/whip", Token: ts.token(t, "lossy", nil), Name: "lossy", Codec: "h264",
		Width: 320, Height: 180, FPS: 30, Loss: 0.05, LossSeed: 7,
	})
	var p *Participant
	testsrv.WaitFor(t, 10*time.Second, "the participant", func() bool { p = ts.stage.Participant("lossy"); return p != nil })
	testsrv.WaitFor(t, 10*time.Second, "the first picture", func() bool { return p.Video().Frames() > 0 })
	// Five one-second windows, each with pictures.
	var perSecond []uint64
	for range 5 {
		before := p.Video().Frames()
		time.Sleep(time.Second)
		perSecond = append(perSecond, p.Video().Frames()-before)
	}
	st, ps := p.Stats(), pub.Stats()
	t.Logf("pictures per second %v; publisher dropped %d of %d packets (%.1f%%), PLIs %d; ingest %+v",
		perSecond, ps.RTPDropped, ps.RTPSent+ps.RTPDropped, 100*ps.LossRate(), ps.PLIs, st)
	for i, n := range perSecond {
		if n < 10 {
			t.Errorf("second %d: only %d pictures", i, n)
		}
	}
	if ps.RTPDropped == 0 {
		t.Fatal("the loss injector dropped nothing")
	}
	if st.DecodeErrors != 0 {
		t.Errorf("%d decode errors: a broken frame reached the decoder", st.DecodeErrors)
	}
}

// Tokens that must not publish are refused with 401/403 and a reason.
func TestPublishTokenRefusals(t *testing.T) {
	ts := startServer(t, nil)
	other := mustKey(t)
	forged, _ := other.Sign(testClaims(time.Now()))
	for _, tc := range []struct {
		name   string
		token  string
		path   string
		status int
		reason string
	}{
		{"missing", "", "/whip", http.StatusUnauthorized, "missing bearer token"},
		{"expired", ts.token(t, "a", func(c *Claims) { c.ExpiresAt = time.Now().Add(-time.Minute).Unix() }), "/whip", http.StatusUnauthorized, "expired"},
		{"wrong signature", forged, "/whip", http.StatusUnauthorized, "unknown key"},
		{"subscribe only", ts.token(t, "b", func(c *Claims) { c.Capabilities.AllowPublish = false }), "/whip", http.StatusForbidden, "PUBLISH"},
		{"other stage in the path", ts.token(t, "c", nil), "/whip/OtherStage0001", http.StatusForbidden, "another stage"},
		{"stage that does not exist", ts.token(t, "d", func(c *Claims) { c.StageARN += "x" }), "/whip", http.StatusForbidden, "stage does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := publisher.Start(ctx, publisher.Config{WHIP: ts.url + tc.path, Token: tc.token, NoAudio: true, Logger: testLogger(t)})
			var we *publisher.WHIPError
			if !errors.As(err, &we) || we.Status != tc.status || !containsFold(we.Reason, tc.reason) {
				t.Fatalf("err %v, want %d %q", err, tc.status, tc.reason)
			}
		})
	}
	if !hasEvent(ts.stage, "b", EventPublishError, ErrorInsufficientCapabilties) {
		t.Error("no PUBLISH_ERROR INSUFFICIENT_CAPABILITIES event")
	}
	// The right stage in the path is accepted.
	pub := startPublisher(t, publisher.Config{WHIP: ts.url + "/whip/AbCdEf012345", Token: ts.token(t, "e", nil), NoAudio: true})
	_ = pub
	testsrv.WaitFor(t, 5*time.Second, "the participant", func() bool { return ts.stage.Participant("e") != nil })
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
