package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// cleanStart checks a publisher's first second on a loss-free network:
// every frame that arrived was decoded (but the one being decoded), none
// was skipped for want of a keyframe, no keyframe was asked for, and at
// least 25 of the 30 frames of that second arrived. Under the race
// detector the publishers themselves (pion, and Chromium on a loaded
// machine) may send fewer in their first second, so there the count of
// frames that arrived is not asserted; that each of them was decoded,
// without a PLI, still is.
func cleanStart(t *testing.T, name string, p *Participant) {
	t.Helper()
	st := p.Stats()
	t.Logf("%s: first second: %d frames arrived, %d decoded, %d skipped, %d PLIs, %d malformed", name, st.FramesReceived,
		st.FramesDecoded, st.FramesSkipped, st.PLIsSent, st.PacketsMalformed)
	if st.FramesDecoded+1 < st.FramesReceived || st.FramesSkipped != 0 || st.PLIsSent != 0 || st.PacketsMalformed != 0 {
		t.Errorf("%s: first second: %d of %d frames decoded, %d skipped, %d PLIs, %d malformed; want all decoded, nothing skipped, no PLI",
			name, st.FramesDecoded, st.FramesReceived, st.FramesSkipped, st.PLIsSent, st.PacketsMalformed)
	}
	if !raceDetector && st.FramesDecoded < 25 {
		t.Errorf("%s: %d frames decoded in the first second, want ≥ 25 of 30", name, st.FramesDecoded)
	}
}

// A Go publisher (H.264 and VP8, 30 fps) decodes at its full rate from its
// first frame: in the first second after the connection is up, ≥ 25 of
// its 30 frames are decoded, with no PLI.
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
			cleanStart(t, id, p)
			if sent := pub.Stats().Frames; sent < 25 {
				t.Logf("%s: the publisher sent only %d frames in its first second", id, sent)
			}
		})
	}
}

// Headless Chromium (VP8 and H.264, a canvas at 30 fps, with audio)
// starts as cleanly, although it sends padding packets (bandwidth probes)
// between its first frames: in the first second after it reports the
// connection up, ≥ 25 of its 30 frames are decoded, with no PLI.
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
		p := ts.stage.Participant(id)
		time.Sleep(time.Until(connected.Received.Add(time.Second)))
		cleanStart(t, id, p)
		cancel()
	}
}
