package ingest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

// The synthetic publisher in RTMP mode, over RTMP and over RTMPS with the
// server's certificate as its CA file, becomes its ingest configuration's
// participant: pictures decoded at its size whose stamps increase, each
// readable frame's capture time known to the publisher, and its tone. A
// stream key the server does not know fails StartRTMP.
func TestRTMPSyntheticPublisher(t *testing.T) {
	rt := startRTMP(t, nil)
	unknown := publisher.RTMPConfig{URL: rt.url(IngestKey{StreamKey: "rt_123456789012_us-east-1_nope_nothing"}, false), Logger: testLogger(t)}
	if p, err := publisher.StartRTMP(context.Background(), unknown); err == nil {
		p.Close()
		t.Error("StartRTMP with an unknown stream key succeeded")
	}
	for _, secure := range []bool{false, true} {
		name := map[bool]string{false: "rtmp", true: "rtmps"}[secure]
		t.Run(name, func(t *testing.T) {
			k := rt.config("synthetic-"+name, !secure)
			cfg := publisher.RTMPConfig{URL: rt.url(k, secure), Name: name, Width: 320, Height: 180, FPS: 30,
				ToneHz: publisher.DefaultToneHz, Logger: testLogger(t)}
			if secure {
				cfg.CAFile = rt.certFile
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			pub, err := publisher.StartRTMP(ctx, cfg)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			var p *Participant
			testsrv.WaitFor(t, 15*time.Second, "the participant", func() bool {
				p = rt.stage.Participant(k.ParticipantID)
				return p != nil && p.Video().Frames() > 0
			})
			if got, want := p.Info().Protocol, map[bool]string{false: "RTMP", true: "RTMPS"}[secure]; got != want {
				t.Errorf("protocol %q, want %q", got, want)
			}
			audio := p.SubscribeAudio()
			defer audio.Close()

			// Stamps read off the decoded pictures for 2 s.
			var stamps []uint32
			seen := p.Video().Frames()
			for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
				if p.Video().Frames() == seen {
					continue
				}
				seen = p.Video().Frames()
				f := p.Video().Latest()
				if f == nil {
					continue
				}
				if f.Width != 320 || f.Height != 180 {
					t.Fatalf("picture %dx%d, want 320x180", f.Width, f.Height)
				}
				n, ok := publisher.ReadStamp(f.VideoFrame, 0, 0, 1)
				f.Release()
				if !ok {
					t.Fatal("no stamp on a decoded picture")
				}
				if _, known := pub.SentAt(n); !known {
					t.Errorf("frame %d: no capture time", n)
				}
				stamps = append(stamps, n)
			}
			if len(stamps) < 30 {
				t.Fatalf("%d pictures in 2 s", len(stamps))
			}
			for i := 1; i < len(stamps); i++ {
				if stamps[i] <= stamps[i-1] {
					t.Fatalf("stamp %d after %d", stamps[i], stamps[i-1])
				}
			}

			checkTone(t, audio)
			// The publisher counted at least the pictures seen decoded (a
			// count of its own, not a rate: a loaded machine slows both).
			if s := pub.Stats(); s.Frames < uint64(len(stamps)) || s.Keyframes == 0 || s.AudioPackets == 0 {
				t.Errorf("stats %+v; want at least the %d frames decoded, a keyframe and audio", s, len(stamps))
			}
			select {
			case <-pub.Done():
				t.Fatalf("publishing ended: %v", pub.Err())
			default:
			}

			// The server ending the publish ends the publisher's.
			rt.stage.Disconnect(k.ParticipantID, "test")
			select {
			case <-pub.Done():
				if err := pub.Err(); err == nil || !errors.Is(err, publisher.ErrDisconnected) {
					t.Errorf("Err %v, want ErrDisconnected", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("still publishing 10 s after the disconnect")
			}
		})
	}
}

// checkTone drains the 2 s of audio an RTMP test publisher sent since it
// subscribed: 1.5 s of it at least, the 440 Hz tone.
func checkTone(t *testing.T, audio *AudioSubscription) {
	t.Helper()
	var samples []*media.AudioFrame
	var total time.Duration
	audio.Drain(func(a *media.AudioFrame) {
		samples = append(samples, a)
		total += a.Duration()
	})
	if total < 1500*time.Millisecond {
		t.Fatalf("%v of audio in 2 s", total)
	}
	// When the subscription began with the stream, its first frames are
	// the decoder's transient (the first reads as ~3 kHz), not the tone:
	// the first 4 (about 90 ms) are left out either way.
	samples = samples[min(4, len(samples)):]
	if hz := toneFrequency(samples, media.SampleRate); hz < 430 || hz > 450 {
		t.Errorf("tone %.0f Hz, want 440", hz)
	}
}
