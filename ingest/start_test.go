package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// cleanStart checks a publisher's start on a loss-free network: every
// frame that arrived was decoded (but the one being decoded), none was
// skipped for want of a keyframe, and no keyframe was asked for.
func cleanStart(t *testing.T, name string, p *Participant) ParticipantStats {
	t.Helper()
	st := p.Stats()
	t.Logf("%s: %d frames arrived, %d decoded, %d skipped, %d PLIs, %d malformed", name, st.FramesReceived,
		st.FramesDecoded, st.FramesSkipped, st.PLIsSent, st.PacketsMalformed)
	if st.FramesDecoded+1 < st.FramesReceived || st.FramesSkipped != 0 || st.PLIsSent != 0 || st.PacketsMalformed != 0 {
		t.Errorf("%s: %d of %d frames decoded, %d skipped, %d PLIs, %d malformed; want all decoded, nothing skipped, no PLI",
			name, st.FramesDecoded, st.FramesReceived, st.FramesSkipped, st.PLIsSent, st.PacketsMalformed)
	}
	return st
}

// A Go publisher (H.264 and VP8, 30 fps) decodes at its full rate from its
// first frame: in the first second after the connection is up, ≥ 25 of
// its 30 frames are decoded, with no PLI. (Under the race detector pion
// on both sides is several times slower and the count is not asserted;
// that every frame that arrived was decoded, without a PLI, still is.)
func TestCleanStart(t *testing.T) {
	for _, codec := range []string{"h264", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			ts := startServer(t, nil)
			id := "start-" + codec
			pub := startPublisher(t, publisher.Config{
				WHIP: ts.url + "/whip", Token: ts.token(t, id, nil), Name: id, Codec: codec,
				Width: 320, Height: 180, FPS: 30, ToneHz: 1000,
			})
			p := ts.stage.Participant(id)
			time.Sleep(time.Second)
			st := cleanStart(t, id, p)
			if sent := pub.Stats().Frames; !raceDetector && st.FramesDecoded < 25 {
				t.Errorf("%s: %d frames decoded in the first second (%d sent), want ≥ 25 of 30", id, st.FramesDecoded, sent)
			}
			// Its lag (capture → decoded, on loopback) is measured: above
			// 0 and under 500 ms.
			if lag, ok := p.Lag(); !ok || lag <= 0 || lag > 500*time.Millisecond {
				t.Errorf("%s: lag %v %v, want measured, 0–500 ms", id, lag, ok)
			} else {
				t.Logf("%s: lag %v", id, lag)
			}
		})
	}
}

// Headless Chromium (VP8 and H.264, a canvas at 30 fps, with audio)
// starts as cleanly, although it sends padding packets (bandwidth probes)
// between its first frames: when it reports its first statistics, about a
// second after the connection is up, every frame its video source handed
// to its encoder by then is decoded (but the two that may still be on
// their way), with no PLI. Chromium's own source ramps up over its first
// second (18–25 frames in it, 30 from the second on, with the canvas and
// with the fake camera alike), so that is the count to meet.
func TestChromiumCleanStart(t *testing.T) {
	ts := startServer(t, nil)
	page := testsrv.StartWHIPPage(t)
	for _, codec := range []string{"vp8", "h264"} {
		id := "chromium-start-" + codec
		page.Publish(t, testsrv.PublishParams{WHIP: ts.url + "/whip", Token: ts.token(t, id, nil), Codec: codec,
			Color: "#2080f0", Width: 320, Height: 180, FPS: 30, Audio: true, ID: id})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		connected, err := page.WaitStatus(ctx, id, "connected")
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		rep, err := page.WaitReport(ctx, id, func(r testsrv.Report) bool {
			return r.Status == "stats" && r.Received.After(connected.Received) && len(r.Stats.Video()) == 1
		})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		st := cleanStart(t, id, ts.stage.Participant(id))
		encoded, source := rep.Stats.Video()[0].FramesEncoded, rep.Stats.SourceFrames
		t.Logf("%s: %d frames from the source, %d encoded %v after the connection was up", id, source, encoded,
			rep.Received.Sub(connected.Received).Round(time.Millisecond))
		if source == 0 || encoded < source-2 {
			t.Errorf("%s: %d frames from the source, %d encoded; want the source's frames reported and encoded", id, source, encoded)
		}
		if int(st.FramesDecoded) < source-2 {
			t.Errorf("%s: %d frames decoded, %d from the source, %d encoded", id, st.FramesDecoded, source, encoded)
		}
	}
}
