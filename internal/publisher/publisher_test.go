package publisher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/h264"
	"github.com/tessera-media/tessera/media"
)

// h264Key reports what an H.264 RTP payload (single NAL, STAP-A or FU-A)
// carries: an SPS, an IDR slice (the start of one, for FU-A).
func h264Key(payload []byte) (sps, idr bool) {
	if len(payload) < 2 {
		return false, false
	}
	switch h264.TypeOf(payload) {
	case h264.SPS:
		return true, false
	case h264.IDR:
		return false, true
	case 24: // STAP-A: 16-bit size, NAL, …
		for b := payload[1:]; len(b) > 2; {
			n := int(b[0])<<8 | int(b[1])
			if n == 0 || len(b) < 2+n {
				break
			}
			switch h264.TypeOf(b[2:]) {
			case h264.SPS:
				sps = true
			case h264.IDR:
				idr = true
			}
			b = b[2+n:]
		}
		return sps, idr
	case 28: // FU-A: FU header's start bit and type
		return false, payload[1]&0x80 != 0 && h264.TypeOf(payload[1:]) == h264.IDR
	}
	return false, false
}

// vp8Key reports whether a VP8 RTP payload starts a keyframe: the first
// packet of a frame (S=1, partition 0) whose frame tag's P bit is 0.
func vp8Key(payload []byte) bool {
	var p codecs.VP8Packet
	b, err := p.Unmarshal(payload)
	return err == nil && p.S == 1 && p.PID == 0 && len(b) > 0 && b[0]&1 == 0
}

// keyframeState scans packets for keyframe markers: for H.264 an SPS and
// an IDR slice, for VP8 the keyframe bit.
type keyframeState struct{ sps, idr, vp8 bool }

func (k *keyframeState) add(mime string, payload []byte) {
	if strings.EqualFold(mime, webrtc.MimeTypeVP8) {
		k.vp8 = k.vp8 || vp8Key(payload)
		return
	}
	s, i := h264Key(payload)
	k.sps, k.idr = k.sps || s, k.idr || i
}

func (k *keyframeState) complete(mime string) bool {
	if strings.EqualFold(mime, webrtc.MimeTypeVP8) {
		return k.vp8
	}
	return k.sps && k.idr
}

// TestPublish publishes with each codec and checks what arrives: the
// negotiated codecs, a keyframe first, RTP timestamps that follow the
// clock, a keyframe in answer to a PLI, and the DELETE on Close.
func TestPublish(t *testing.T) {
	for _, tc := range []struct{ codec, mime string }{
		{"h264", webrtc.MimeTypeH264},
		{"vp8", webrtc.MimeTypeVP8},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			a := newAnswerer(t)
			p := startTest(t, a, Config{Name: "Alice " + tc.codec, Codec: tc.codec, Width: 320, Height: 180, FPS: 30,
				ToneHz: DefaultToneHz, KeyframeInterval: time.Minute})
			s := a.session("")
			video, audio := s.track(t, "video"), s.track(t, "audio")
			if !strings.EqualFold(video.mime, tc.mime) || !strings.EqualFold(audio.mime, webrtc.MimeTypeOpus) {
				t.Fatalf("tracks are %s and %s, want %s and %s", video.mime, audio.mime, tc.mime, webrtc.MimeTypeOpus)
			}
			// The offer: the codec as specified, candidates on 127.0.0.1 only.
			offer := s.pc.RemoteDescription().SDP
			want := []string{"a=rtpmap:111 opus/48000/2", "a=sendonly"}
			if tc.codec == "h264" {
				want = append(want, "a=rtpmap:102 H264/90000", "profile-level-id=42e01f", "packetization-mode=1")
			} else {
				want = append(want, "a=rtpmap:96 VP8/90000")
			}
			for _, w := range want {
				if !strings.Contains(offer, w) {
					t.Errorf("offer lacks %q:\n%s", w, offer)
				}
			}
			cands := 0
			for line := range strings.Lines(offer) {
				if strings.HasPrefix(line, "a=candidate:") {
					cands++
					if f := strings.Fields(line); len(f) < 6 || f[2] != "udp" || f[4] != "127.0.0.1" {
						t.Errorf("candidate not UDP on 127.0.0.1: %s", line)
					}
				}
			}
			if cands == 0 {
				t.Error("offer without candidates")
			}
			if !waitFor(5*time.Second, func() bool { return p.Stats().Frames >= 30 && video.count() >= 30 && audio.count() >= 40 }) {
				t.Fatalf("after 5 s: %+v; received %d video and %d audio packets", p.Stats(), video.count(), audio.count())
			}

			// The stream starts with a keyframe, and the next comes only on
			// request (KeyframeInterval is a minute).
			pkts := video.snapshot()
			var first keyframeState
			for _, pk := range pkts {
				if pk.hdr.Timestamp != pkts[0].hdr.Timestamp {
					break
				}
				first.add(video.mime, pk.payload)
			}
			if !first.complete(video.mime) {
				t.Errorf("the first frame is not a keyframe: %+v", first)
			}
			// 90 kHz RTP clock against the arrival clock, over the packets so far.
			last := pkts[len(pkts)-1]
			rtpSpan := time.Duration(last.hdr.Timestamp-pkts[0].hdr.Timestamp) * time.Second / 90000
			if wall := last.at.Sub(pkts[0].at); rtpSpan < wall*7/10 || rtpSpan > wall*13/10+100*time.Millisecond {
				t.Errorf("video RTP timestamps span %v over %v of arrivals", rtpSpan, wall)
			}
			ap := audio.snapshot()
			if hz := decodeTone(t, ap); hz < 0.97*DefaultToneHz || hz > 1.03*DefaultToneHz {
				t.Errorf("the audio decodes to a %.1f Hz tone, want %d Hz", hz, DefaultToneHz)
			} else {
				t.Logf("audio: %d Opus packets decode to a %.1f Hz tone", len(ap), hz)
			}
			for i := 1; i < len(ap); i++ {
				if d := ap[i].hdr.Timestamp - ap[i-1].hdr.Timestamp; ap[i].hdr.SequenceNumber == ap[i-1].hdr.SequenceNumber+1 && d != 960 {
					t.Fatalf("audio packet %d: timestamp step %d, want 960 (20 ms)", i, d)
				}
			}

			// PLI → keyframe.
			before := p.Stats()
			sent := time.Now()
			s.pli(t, video)
			var after keyframeState
			seen := len(pkts)
			ok := waitFor(3*time.Second, func() bool {
				for _, pk := range video.snapshot()[seen:] {
					seen++
					if pk.at.After(sent) {
						after.add(video.mime, pk.payload)
					}
				}
				return after.complete(video.mime)
			})
			st := p.Stats()
			if !ok {
				t.Errorf("no keyframe within 3 s of the PLI: %+v", after)
			}
			if st.PLIs <= before.PLIs || st.KeyframesForced <= before.KeyframesForced {
				t.Errorf("PLI not counted: before %+v, after %+v", before, st)
			}
			if st.Keyframes < 2 {
				t.Errorf("%d keyframes sent, want the first and the forced one", st.Keyframes)
			}
			t.Logf("%s: %+v", tc.codec, st)

			// Every frame that arrived decodes and carries the next frame
			// number, which SentAt knows.
			frames, lat := decodeReceived(t, tc.codec, video.snapshot(), p)
			slices.Sort(lat)
			if frames < 30 {
				t.Errorf("%d frames decoded", frames)
			} else {
				t.Logf("%s: %d frames decoded, capture-to-arrival latency median %v, max %v", tc.codec, frames, lat[len(lat)/2], lat[len(lat)-1])
			}

			// Close: DELETE, Done, ErrClosed, idempotent.
			if err := p.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := a.deletes.Load(); n != 1 {
				t.Errorf("%d DELETEs, want 1", n)
			}
			if st := s.pc.ConnectionState(); st != webrtc.PeerConnectionStateClosed {
				t.Errorf("server side still %v after Close", st)
			}
			select {
			case <-p.Done():
			default:
				t.Error("Done still open after Close")
			}
			if !errors.Is(p.Err(), ErrClosed) {
				t.Errorf("Err() = %v, want ErrClosed", p.Err())
			}
			if err := p.Close(context.Background()); err != nil || a.deletes.Load() != 1 {
				t.Errorf("second Close: %v, %d DELETEs", err, a.deletes.Load())
			}
		})
	}
}

// eachFrame reassembles the frames of a video track's packets, in order,
// decodes them and calls fn with each picture (or the depacketizing or
// decoding error) and the packet that ended the frame.
func eachFrame(t *testing.T, codec string, pkts []recvPacket, fn func(f *media.VideoFrame, err error, end recvPacket)) {
	t.Helper()
	dec, err := av.NewVideoDecoder(codec, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var (
		h264 codecs.H264Packet
		vp8  codecs.VP8Packet
		au   []byte
	)
	for _, pk := range pkts {
		var b []byte
		if codec == "vp8" {
			b, err = vp8.Unmarshal(pk.payload)
		} else {
			b, err = h264.Unmarshal(pk.payload)
		}
		if err != nil {
			au = au[:0]
			fn(nil, fmt.Errorf("depacketizing: %w", err), pk)
			continue
		}
		au = append(au, b...)
		if !pk.hdr.Marker {
			continue
		}
		f, err := dec.Decode(au, 0, func(w, h int) *media.VideoFrame { return media.NewVideoFrame(w, h) })
		au = au[:0]
		if err == nil && f == nil {
			err = errors.New("no picture")
		}
		fn(f, err, pk)
	}
}

// contiguous fails the test when the packets' sequence numbers have a gap.
func contiguous(t *testing.T, pkts []recvPacket) {
	t.Helper()
	for i := 1; i < len(pkts); i++ {
		if pkts[i].hdr.SequenceNumber != pkts[i-1].hdr.SequenceNumber+1 {
			t.Fatalf("packet %d: sequence number %d after %d", i, pkts[i].hdr.SequenceNumber, pkts[i-1].hdr.SequenceNumber)
		}
	}
}

// decodeReceived decodes the frames of a loss-free video track and reads
// their stamps: they must count up by one. It returns the number of frames
// and, for each, the time from capture (SentAt) to the arrival of its last
// packet.
func decodeReceived(t *testing.T, codec string, pkts []recvPacket, p *Publisher) (int, []time.Duration) {
	t.Helper()
	contiguous(t, pkts)
	var (
		next  uint32
		count int
		lat   []time.Duration
	)
	eachFrame(t, codec, pkts, func(f *media.VideoFrame, err error, end recvPacket) {
		if err != nil {
			t.Fatalf("frame %d: %v", count, err)
		}
		n, ok := ReadStamp(f, 0, 0, 1)
		if !ok || n != next {
			t.Fatalf("frame %d: stamp %d, %v; want %d", count, n, ok, next)
		}
		at, ok := p.SentAt(n)
		if !ok {
			t.Fatalf("frame %d: SentAt does not know it", n)
		}
		lat = append(lat, end.at.Sub(at))
		next++
		count++
	})
	return count, lat
}

// decodeTone decodes the Opus packets (stereo) and returns the frequency
// of the left channel from its upward zero crossings, after the first
// 100 ms.
func decodeTone(t *testing.T, pkts []recvPacket) float64 {
	t.Helper()
	dec, err := av.NewAudioDecoder("opus", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var left []float32
	for i, pk := range pkts {
		a, err := dec.Decode(pk.payload, 0, func(ch, n int) *media.AudioFrame { return media.NewAudioFrame(ch, n) })
		if err != nil {
			t.Fatalf("audio packet %d: %v", i, err)
		}
		if a == nil {
			continue
		}
		for j := 0; j < len(a.Samples); j += a.Channels {
			left = append(left, a.Samples[j])
		}
	}
	skip := media.SampleRate / 10
	if len(left) < skip+media.SampleRate/5 {
		t.Fatalf("only %d samples of audio decoded", len(left))
	}
	left = left[skip:]
	crossings, first, last := 0, -1, 0
	for i := 1; i < len(left); i++ {
		if left[i-1] < 0 && left[i] >= 0 {
			crossings++
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if crossings < 2 {
		return 0
	}
	return float64(crossings-1) * media.SampleRate / float64(last-first)
}

// TestLoss publishes with 5 % injected loss and measures it on both
// sides: the injector's count and the gaps in the sequence numbers that
// reach the answerer (which sends no NACKs, so nothing is repaired).
func TestLoss(t *testing.T) {
	a := newAnswerer(t)
	p := startTest(t, a, Config{Name: "Lossy", Width: 320, Height: 180, FPS: 30, Bitrate: 1_500_000, ToneHz: DefaultToneHz, Loss: 0.05})
	s := a.session("")
	video, audio := s.track(t, "video"), s.track(t, "audio")
	if !waitFor(15*time.Second, func() bool { st := p.Stats(); return st.RTPSent+st.RTPDropped >= 800 }) {
		t.Fatalf("fewer than 800 RTP packets in 15 s: %+v", p.Stats())
	}
	st := p.Stats()
	time.Sleep(100 * time.Millisecond) // let the last ones arrive
	expected, received := 0, 0
	for _, tr := range []*recvTrack{video, audio} {
		seqs := map[uint64]bool{}
		var ext, lo, hi uint64
		var prev uint16
		for i, pk := range tr.snapshot() {
			sn := pk.hdr.SequenceNumber
			if i == 0 {
				ext = 1 << 20
			} else {
				ext += uint64(int16(sn - prev))
			}
			prev = sn
			if i == 0 || ext < lo {
				lo = ext
			}
			hi = max(hi, ext)
			seqs[ext] = true
		}
		expected += int(hi - lo + 1)
		received += len(seqs)
	}
	seen := 1 - float64(received)/float64(expected)
	t.Logf("injector: %d sent, %d dropped (%.2f %%); answerer: %d of %d received (%.2f %% lost)",
		st.RTPSent, st.RTPDropped, 100*st.LossRate(), received, expected, 100*seen)
	if r := st.LossRate(); r < 0.02 || r > 0.10 {
		t.Errorf("injector dropped %.2f %%, want 2–10 %%", 100*r)
	}
	if seen < 0.02 || seen > 0.10 {
		t.Errorf("answerer saw %.2f %% loss, want 2–10 %%", 100*seen)
	}
}

// TestWHIPErrors checks that a refused POST is a *WHIPError with the
// server's status and reason, and that nothing is left running.
func TestWHIPErrors(t *testing.T) {
	a := newAnswerer(t, "VP8")
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("\n  malformed offer: no ice-ufrag  \nsecond line\n"))
	}))
	defer raw.Close()
	for _, tc := range []struct {
		name, url, token, codec string
		status                  int
		reason                  string
	}{
		{"no token", a.URL(), "", "vp8", 401, "invalid or missing bearer token"},
		{"bad token", a.URL(), "wrong", "vp8", 401, "invalid or missing bearer token"},
		{"forbidden", a.URL(), "forbidden", "vp8", 403, "publishing to this room is forbidden"},
		{"codec", a.URL(), "good", "h264", 406, "no acceptable video codec offered (want VP8)"},
		{"bad offer", raw.URL, "good", "vp8", 400, "malformed offer: no ice-ufrag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{WHIP: tc.url, Token: tc.token, Codec: tc.codec, Logger: testLogger(t)}
			if tc.token == "" {
				cfg.Token = ""
			}
			p, err := Start(context.Background(), cfg)
			if p != nil {
				_ = p.Close(context.Background())
				t.Fatal("Start succeeded")
			}
			var we *WHIPError
			if !errors.As(err, &we) {
				t.Fatalf("error %v (%T) is not a *WHIPError", err, err)
			}
			if we.Status != tc.status || we.Reason != tc.reason {
				t.Errorf("got %d %q, want %d %q", we.Status, we.Reason, tc.status, tc.reason)
			}
		})
	}
	if n := a.deletes.Load(); n != 0 {
		t.Errorf("%d DELETEs for sessions never created", n)
	}
}

// TestNoConnection checks that Start gives up, bounded by Timeout, when
// the answer was fine but no connection comes up, and that it DELETEs the
// session it created.
func TestNoConnection(t *testing.T) {
	a := newAnswerer(t)
	a.hangUp.Store(true)
	began := time.Now()
	p, err := Start(context.Background(), Config{WHIP: a.URL(), Token: "good", Timeout: 2 * time.Second, Logger: testLogger(t)})
	if err == nil {
		_ = p.Close(context.Background())
		t.Fatal("Start succeeded without a peer")
	}
	if d := time.Since(began); d > 4*time.Second {
		t.Errorf("Start took %v with a 2 s timeout", d)
	}
	if n := a.deletes.Load(); n != 1 {
		t.Errorf("%d DELETEs, want 1", n)
	}
	t.Logf("after %v: %v", time.Since(began).Round(time.Millisecond), err)
}

// TestConfigErrors checks that Start refuses bad configurations before
// touching the network.
func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{WHIP: "ftp://127.0.0.1/whip"},
		{WHIP: "http://127.0.0.1/whip", Codec: "av1"},
		{WHIP: "http://127.0.0.1/whip", NoAudio: true, NoVideo: true},
		{WHIP: "http://127.0.0.1/whip", Width: 321, Height: 180},
		{WHIP: "http://127.0.0.1/whip", FPS: 120},
		{WHIP: "http://127.0.0.1/whip", Loss: 1.5},
		{WHIP: "http://127.0.0.1/whip", ToneHz: -1},
	} {
		if p, err := Start(context.Background(), cfg); err == nil {
			_ = p.Close(context.Background())
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
}

// TestServerDisconnect checks that Done closes when the server ends the
// connection, and that Close still works after it.
func TestServerDisconnect(t *testing.T) {
	a := newAnswerer(t)
	p := startTest(t, a, Config{Name: "Bob", Codec: "vp8", NoAudio: true, FPS: 15})
	s := a.session("")
	video := s.track(t, "video")
	if !waitFor(3*time.Second, func() bool { return video.count() > 5 }) {
		t.Fatal("no video")
	}
	_ = s.pc.Close()
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done still open 10 s after the server closed the connection")
	}
	if !errors.Is(p.Err(), ErrDisconnected) {
		t.Errorf("Err() = %v, want ErrDisconnected", p.Err())
	}
	time.Sleep(100 * time.Millisecond) // a frame in progress may finish
	frames := p.Stats().Frames
	time.Sleep(300 * time.Millisecond)
	if p.Stats().Frames != frames {
		t.Error("still encoding after the connection ended")
	}
	if err := p.Close(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestNoGoroutinesLeft publishes and closes, and checks that the number of
// goroutines comes back to where it was. A first run warms up whatever
// pion or net/http start once per process.
func TestNoGoroutinesLeft(t *testing.T) {
	a := newAnswerer(t)
	run := func(cfg Config, d time.Duration) {
		cfg.WHIP, cfg.Token, cfg.Logger = a.URL(), "good", testLogger(t)
		p, err := Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(d)
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	run(Config{Name: "warm-up", FPS: 15}, 200*time.Millisecond)
	// The base is the count once it holds still for 200 ms.
	base := runtime.NumGoroutine()
	for range 25 {
		time.Sleep(200 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == base {
			break
		}
		base = n
	}
	before := a.deletes.Load()
	run(Config{Name: "Carol", Codec: "h264", FPS: 30, Loss: 0.02}, time.Second)
	run(Config{Name: "Dave", Codec: "vp8", FPS: 30}, 500*time.Millisecond)
	// A refused POST leaves nothing behind either.
	if _, err := Start(context.Background(), Config{WHIP: a.URL(), Token: "wrong", Logger: testLogger(t)}); err == nil {
		t.Fatal("Start with a wrong token succeeded")
	}
	if n := a.deletes.Load() - before; n != 2 {
		t.Errorf("%d DELETEs, want 2", n)
	}
	n := runtime.NumGoroutine()
	waitFor(5*time.Second, func() bool { n = runtime.NumGoroutine(); return n <= base })
	if n > base {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines after close, %d before:\n%s", n, base, bytes.TrimSpace(buf))
	}
}

// TestSenderReports checks the clock a receiver synchronizes audio and
// video with: through the tracks' RTCP sender reports, every video frame's
// RTP timestamp maps to the instant it was captured (SentAt), and the
// audio's to the publishing's timeline (StartedAt), as a browser's do —
// not to when the packets happened to be sent.
func TestSenderReports(t *testing.T) {
	a := newAnswerer(t)
	p := startTest(t, a, Config{Name: "Alice", Codec: "h264", Width: 640, Height: 360, FPS: 30,
		ToneHz: DefaultToneHz, KeyframeInterval: time.Second})
	s := a.session("")
	video, audio := s.track(t, "video"), s.track(t, "audio")
	if !waitFor(10*time.Second, func() bool { return len(video.senderReports()) >= 3 && len(audio.senderReports()) >= 3 }) {
		t.Fatalf("after 10 s, %d video and %d audio sender reports", len(video.senderReports()), len(audio.senderReports()))
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// captured maps an RTP timestamp to wall time through report sr.
	captured := func(sr rtcp.SenderReport, ts uint32, rate int64) time.Time {
		sec, frac := int64(sr.NTPTime>>32)-2208988800, int64(sr.NTPTime&0xffffffff)
		at := time.Unix(sec, frac*int64(time.Second)>>32)
		return at.Add(time.Duration(int64(int32(ts-sr.RTPTime)) * int64(time.Second) / rate))
	}
	const tolerance = 500 * time.Microsecond // 90 kHz and NTP rounding are far below

	vr := video.senderReports()
	frames, worst := 0, time.Duration(0)
	var next uint32
	eachFrame(t, "h264", video.snapshot(), func(f *media.VideoFrame, err error, end recvPacket) {
		if err != nil {
			t.Fatalf("frame %d: %v", frames, err)
		}
		n, ok := ReadStamp(f, 0, 0, 1)
		if !ok || n != next {
			t.Fatalf("frame %d: stamp %d, %v; want %d", frames, n, ok, next)
		}
		next++
		at, ok := p.SentAt(n)
		if !ok {
			return // overwritten in the ring
		}
		for _, sr := range vr {
			d := captured(sr, end.hdr.Timestamp, 90000).Sub(at)
			worst = max(worst, d.Abs())
			if d.Abs() > tolerance {
				t.Fatalf("frame %d, captured at %v, maps to %v off through the report at RTP %d", n, at.Format("15:04:05.000000"), d, sr.RTPTime)
			}
		}
		frames++
	})
	if frames < 30 {
		t.Fatalf("%d frames checked", frames)
	}

	// Audio: 20 ms per packet from the timeline's start; an Opus encoder's
	// first packet starts its look-ahead (at most 10 ms) before it.
	ar, ap := audio.senderReports(), audio.snapshot()
	start := p.StartedAt()
	for _, sr := range ar {
		d := captured(sr, ap[0].hdr.Timestamp, 48000).Sub(start)
		if d < -10*time.Millisecond-tolerance || d > tolerance {
			t.Fatalf("the first audio packet maps to %v from the timeline's start through the report at RTP %d", d, sr.RTPTime)
		}
		worst = max(worst, (d - (captured(ar[0], ap[0].hdr.Timestamp, 48000).Sub(start))).Abs())
	}
	t.Logf("%d frames and %d audio packets through %d and %d sender reports: at most %v from their capture", frames, len(ap), len(vr), len(ar), worst)
}
