package output

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// flvDialer opens FLV over rtmp:// or rtmps:// as a channel destination does.
func flvDialer(url, caFile string, streams []av.StreamInfo) Dialer {
	return func(ctx context.Context) (PacketWriter, error) {
		return av.NewMuxer("flv", url, av.MuxOptions{DialContext: ctx, CAFile: caFile, Timeout: 3 * time.Second}, streams...)
	}
}

// A few seconds of composed video and a tone, pushed over rtmp and rtmps
// to nginx-rtmp, come back from its recording as H.264 of the right size,
// rate and duration with AAC.
func TestChannelToNginx(t *testing.T) {
	const w, h, fps = 320, 180, 30.0
	e := encode(t, w, h, fps, 3*time.Second)
	srv := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
	for _, tc := range []struct{ name, url string }{
		{"rtmp", srv.URL("live", "plain")},
		{"rtmps", srv.TLSURL("live", "secure")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			states := newStateLog()
			c := NewChannel(ChannelConfig{Name: tc.name, Dial: flvDialer(tc.url, srv.CertFile(), e.streams), OnState: states.on})
			states.await(t, contract.StateActive)
			for _, p := range e.packets {
				c.WritePacket(p)
			}
			stop(t, c)
			if c.Dropped() != 0 {
				t.Errorf("%d packets dropped", c.Dropped())
			}
		})
	}
	recs := srv.Recordings()
	if len(recs) != 2 {
		t.Fatalf("recordings %v", recs)
	}
	for _, path := range recs {
		p := testsrv.FFprobe(t, path)
		v, ok := p.Stream("video")
		// FLV keeps millisecond timestamps (33, 33, 34 ms apart), so
		// ffprobe's frame rate estimate reads 1000/33.
		if !ok || v.CodecName != "h264" || v.Width != w || v.Height != h || math.Abs(v.FrameRate-fps) > 0.5 {
			t.Errorf("%s: video %+v", path, v)
		}
		if a, ok := p.Stream("audio"); !ok || a.CodecName != "aac" || a.SampleRate != 48000 {
			t.Errorf("%s: audio %+v", path, a)
		}
		if math.Abs(p.Format.Duration-3) > 0.2 {
			t.Errorf("%s: duration %.3f s, want 3", path, p.Format.Duration)
		}
	}
}

// The RTMP server dies mid-stream and comes back: the channel goes
// RECONNECTING, then ACTIVE again, and the second half of the stream
// arrives.
func TestChannelReconnectsToNginx(t *testing.T) {
	const w, h, fps = 320, 180, 30.0
	e := encode(t, w, h, fps, 8*time.Second)
	srv := testsrv.StartRTMP(t, testsrv.RTMPOptions{RecordUnique: true})
	states := newStateLog()
	c := NewChannel(ChannelConfig{
		Name: "d", Dial: flvDialer(srv.URL("live", "key"), "", e.streams), OnState: states.on,
		MinBackoff: 200 * time.Millisecond, MaxBackoff: time.Second,
	})
	states.await(t, contract.StateActive)
	half := len(e.packets) / 2
	for half < len(e.packets) && !(e.packets[half].Kind == av.Video && e.packets[half].Keyframe) {
		half++
	}
	for _, p := range e.packets[:half] {
		c.WritePacket(p)
	}
	time.Sleep(500 * time.Millisecond) // delivered
	srv.Stop()
	// The next writes find the connection gone.
	for i := 0; c.State() == contract.StateActive && i < 200; i++ {
		c.WritePacket(e.packets[half-1])
		time.Sleep(20 * time.Millisecond)
	}
	states.await(t, contract.StateReconnecting)
	// record_unique names files by the second: let the second connection's
	// file get a name of its own.
	time.Sleep(1100 * time.Millisecond)
	srv.Restart()
	states.await(t, contract.StateActive)
	for _, p := range e.packets[half:] {
		c.WritePacket(p)
	}
	stop(t, c)

	recs := srv.Recordings()
	if len(recs) != 2 {
		t.Fatalf("recordings %v, want one per connection", recs)
	}
	// Each connection carries its half: the keyframes before the cut, and
	// those from the cut to the end.
	var wantFirst, wantSecond []float64
	for i, p := range e.packets {
		if p.Kind == av.Video && p.Keyframe {
			if i < half {
				wantFirst = append(wantFirst, p.PTS.Seconds())
			} else {
				wantSecond = append(wantSecond, p.PTS.Seconds())
			}
		}
	}
	for k, rec := range recs {
		got, want := testsrv.Keyframes(t, rec), [][]float64{wantFirst, wantSecond}[k]
		if len(got) != len(want) {
			t.Errorf("connection %d: keyframes %v, want %v", k+1, got, want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 0.1 {
				t.Errorf("connection %d: keyframes %v, want %v", k+1, got, want)
				break
			}
		}
	}
	if v, ok := testsrv.FFprobe(t, recs[1]).Stream("video"); !ok || v.CodecName != "h264" {
		t.Errorf("second recording: video %+v", v)
	}
	got := states.all()
	want2 := []contract.State{contract.StateActive, contract.StateReconnecting, contract.StateActive, contract.StateStopping, contract.StateStopped}
	if !equalStates(got, want2) {
		t.Errorf("states %v, want %v", got, want2)
	}
}
