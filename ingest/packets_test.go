package ingest

import (
	"bytes"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

// A queue starts at a keyframe; overflow and losses make it wait for the
// next keyframe, which then says Discontinuity; a reader's packets are
// its own copies.
func TestVideoPacketsQueue(t *testing.T) {
	s := &VideoPackets{p: &Participant{}, waiting: true}
	data := []byte{0, 0, 0, 1, 0x65}
	pk := func(key bool) VideoPacket { return VideoPacket{Codec: "h264", Data: data, Keyframe: key} }
	s.push(pk(false))
	s.push(pk(true))
	s.push(pk(false))
	data[4] = 0x41 // the caller reuses its buffer
	var got []VideoPacket
	s.Drain(func(p VideoPacket) { got = append(got, p) })
	if len(got) != 2 || !got[0].Keyframe || got[0].Discontinuity || got[0].Data[4] != 0x65 {
		t.Fatalf("start: %+v", got)
	}
	for range videoPacketQueue {
		s.push(pk(false))
	}
	if want := s.push(pk(false)); !want || s.Dropped() != videoPacketQueue {
		t.Fatalf("overflow: wants a keyframe %v, dropped %d", want, s.Dropped())
	}
	s.push(pk(false))
	s.push(pk(true))
	got = got[:0]
	s.Drain(func(p VideoPacket) { got = append(got, p) })
	if len(got) != 1 || !got[0].Keyframe || !got[0].Discontinuity {
		t.Fatalf("after overflow: %+v", got)
	}
	s.lost()
	s.push(pk(false))
	s.push(pk(true))
	s.push(pk(false))
	got = got[:0]
	s.Drain(func(p VideoPacket) { got = append(got, p) })
	if len(got) != 2 || !got[0].Discontinuity || got[1].Discontinuity {
		t.Fatalf("after a loss: %+v", got)
	}
}

// A WHIP (H.264) and an RTMP publisher's access units reach a packet
// reader as sent: from a keyframe, at the publishing rate, with rising
// capture times on the server clock, decodable on their own into pictures
// of the publisher's size.
func TestVideoPackets(t *testing.T) {
	rt := startRTMP(t, nil)
	startPublisher(t, publisher.Config{WHIP: rt.testServer.url + "/whip", Token: rt.token(t, "whip-1", nil), Codec: "h264",
		Width: 320, Height: 180, FPS: 30, ToneHz: 1000})
	k := rt.config("rtmp-1", true)
	for _, c := range []struct {
		id    string
		w, h  int
		fps   float64
		codec string
	}{{"whip-1", 320, 180, 30, "h264"}, {"rtmp-1", testsrv.PatternWidth, testsrv.PatternHeight, testsrv.PatternFPS, "h264"}} {
		if c.id == "rtmp-1" {
			// Started only now (not while the WHIP publisher is checked),
			// long enough to outlast the wait and the window on a loaded
			// machine; the test's end kills it.
			testsrv.StartPush(t, rt.url(k, false), time.Minute, testsrv.PushOptions{})
		}
		var p *Participant
		testsrv.WaitFor(t, 15*time.Second, c.id, func() bool { p = rt.stage.Participant(c.id); return p != nil && p.Video().Frames() > 0 })
		sub := p.SubscribeVideoPackets()
		time.Sleep(2 * time.Second)
		var pks []VideoPacket
		sub.Drain(func(pk VideoPacket) { pks = append(pks, pk) })
		sub.Close()
		if len(pks) == 0 || !pks[0].Keyframe || pks[0].Codec != c.codec || pks[0].Width != c.w || pks[0].Height != c.h {
			t.Fatalf("%s: first packet %+v", c.id, pks[0])
		}
		// A reader starts at a keyframe, up to a GOP (1 s for RTMP's
		// pattern) into the window, so the rate is read from the capture
		// times of what arrived.
		span := pks[len(pks)-1].PTS - pks[0].PTS
		if rate := float64(len(pks)-1) / span.Seconds(); span < 500*time.Millisecond || rate < c.fps*0.8 || rate > c.fps*1.2 {
			t.Errorf("%s: %d packets over %v of capture time, want about %.0f/s over at least 0.5 s", c.id, len(pks), span, c.fps)
		}
		dec, err := av.NewVideoDecoder("h264", 1)
		if err != nil {
			t.Fatal(err)
		}
		pictures := 0
		for i, pk := range pks {
			if i > 0 && pk.PTS <= pks[i-1].PTS {
				t.Errorf("%s: packet %d captured at %v, after %v", c.id, i, pk.PTS, pks[i-1].PTS)
			}
			if !bytes.HasPrefix(pk.Data, []byte{0, 0, 0, 1}) && !bytes.HasPrefix(pk.Data, []byte{0, 0, 1}) {
				t.Fatalf("%s: packet %d is not Annex B: % x", c.id, i, pk.Data[:4])
			}
			out, err := dec.Decode(pk.Data, pk.PTS, func(w, h int) *media.VideoFrame { return media.NewVideoFrame(w, h) })
			if err != nil {
				t.Fatalf("%s: packet %d: %v", c.id, i, err)
			}
			if out != nil {
				if out.Width != c.w || out.Height != c.h {
					t.Fatalf("%s: picture %dx%d", c.id, out.Width, out.Height)
				}
				pictures++
			}
		}
		dec.Close()
		if pictures < len(pks)-1 {
			t.Errorf("%s: %d pictures from %d packets", c.id, pictures, len(pks))
		}
		if lag := rt.Now() - pks[len(pks)-1].PTS; lag < 0 || lag > time.Second {
			t.Errorf("%s: newest packet captured %v ago", c.id, lag)
		}
	}
}
