package ingest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// Headless Chromium publishes by WHIP (fake camera and microphone), once
// with VP8 and once with H.264 (OpenH264); the pictures decode on our side
// at the sent size and the audio arrives.
func TestChromiumPublish(t *testing.T) {
	ts := startServer(t, nil)
	page := testsrv.StartWHIPPage(t)
	for _, codec := range []string{"vp8", "h264"} {
		id := "chromium-" + codec
		page.Publish(t, testsrv.PublishParams{WHIP: ts.url + "/whip", Token: ts.token(t, id, nil), Codec: codec,
			Width: 320, Height: 180, FPS: 15, Audio: true, ID: id})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, codec := range []string{"vp8", "h264"} {
		id := "chromium-" + codec
		if _, err := page.WaitStatus(ctx, id, "connected"); err != nil {
			t.Fatal(err)
		}
		var p *Participant
		testsrv.WaitFor(t, 10*time.Second, id+" in the roster", func() bool { p = ts.stage.Participant(id); return p != nil })
		testsrv.WaitFor(t, 15*time.Second, id+": 15 decoded pictures", func() bool { return p.Video().Frames() >= 15 })
		f := p.Video().Latest()
		if f.Width != 320 || f.Height != 180 {
			t.Errorf("%s: picture %dx%d, want 320x180", id, f.Width, f.Height)
		}
		f.Release()
		testsrv.WaitFor(t, 10*time.Second, id+": audio", func() bool { return p.Stats().AudioFrames > 10 })
		info := p.Info()
		if info.VideoCodec != codec || info.AudioCodec != "opus" || info.VideoStopped {
			t.Errorf("%s: roster %+v", id, info)
		}
		if st := p.Stats(); st.DecodeErrors != 0 {
			t.Errorf("%s: %d decode errors", id, st.DecodeErrors)
		}
	}
	for _, codec := range []string{"vp8", "h264"} {
		id := "chromium-" + codec
		if r, err := page.Unpublish(id); err != nil || r.HTTPStatus != 200 {
			t.Errorf("%s: unpublish: %v %+v", id, err, r)
		}
	}
	testsrv.WaitFor(t, 10*time.Second, "both to leave", func() bool { return len(ts.stage.Roster()) == 0 })
}

// Chromium sends three simulcast layers (160×90, 320×180, 640×360); the
// decoded layer follows the wanted tile size, switching on keyframes.
func TestChromiumSimulcast(t *testing.T) {
	ts := startServer(t, nil)
	page := testsrv.StartWHIPPage(t)
	page.Publish(t, testsrv.PublishParams{WHIP: ts.url + "/whip", Token: ts.token(t, "sim", nil), Codec: "vp8",
		Width: 640, Height: 360, FPS: 15, Simulcast: true, ID: "sim"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := page.WaitStatus(ctx, "sim", "connected"); err != nil {
		t.Fatal(err)
	}
	var p *Participant
	testsrv.WaitFor(t, 10*time.Second, "the participant", func() bool { p = ts.stage.Participant("sim"); return p != nil })
	size := func() (int, int) {
		f := p.Video().Latest()
		if f == nil {
			return 0, 0
		}
		defer f.Release()
		return f.Width, f.Height
	}
	// No wanted size: the largest layer.
	testsrv.WaitFor(t, 20*time.Second, "the 640x360 layer", func() bool { w, _ := size(); return w == 640 })
	for _, want := range [][2]int{{100, 60}, {300, 150}, {640, 360}, {1280, 720}} {
		p.SetWantedSize(want[0], want[1])
		expect := 160
		switch {
		case want[0] > 320:
			expect = 640
		case want[0] > 160:
			expect = 320
		}
		testsrv.WaitFor(t, 10*time.Second, "the layer for a tile of "+strconv.Itoa(want[0])+" px", func() bool { w, _ := size(); return w == expect })
		if w, h := size(); h != w*9/16 {
			t.Errorf("layer %dx%d", w, h)
		}
	}
	st := p.Stats()
	if st.LayerSwitches < 3 || st.DecodeErrors != 0 {
		t.Errorf("stats %+v: want ≥ 3 layer switches, no decode errors", st)
	}
}
