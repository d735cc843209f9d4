package av

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/internal/testsrv"
)

func TestMain(m *testing.M) {
	// FFmpeg logs to stderr, outside the tests' output; keep warnings and
	// errors, not x264's statistics.
	astiav.SetLogLevel(astiav.LogLevelWarning)
	os.Exit(m.Run())
}

// 3 s of 640×360 30 fps video and a 440 Hz tone, muxed into FLV and
// MPEG-TS files, read back by ffprobe.
func TestMuxFiles(t *testing.T) {
	for _, format := range []string{"flv", "mpegts"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			ve := newVideoEncoder(t, VideoConfig{Width: 640, Height: 360, FrameRate: 30, Bitrate: 1_000_000})
			ae := newAudioEncoder(t)
			path := filepath.Join(t.TempDir(), "out."+map[string]string{"flv": "flv", "mpegts": "ts"}[format])
			m, err := NewMuxer(format, path, MuxOptions{}, ve.Stream(), ae.Stream())
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			counts := map[Kind]int{}
			newAVSource(t, 640, 360, 30).run(3*time.Second, ve, ae, func(p Packet) {
				counts[p.Kind]++
				if err := m.WritePacket(p); err != nil && werr == nil {
					werr = err
				}
			})
			if werr != nil {
				t.Fatal(werr)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := m.WritePacket(Packet{Kind: Video, Data: []byte{1}}); !errors.Is(err, ErrClosed) {
				t.Errorf("WritePacket after Close: %v", err)
			}
			m.Interrupt() // harmless after Close
			t.Logf("%d video, %d audio packets", counts[Video], counts[Audio])

			p := probeFile(t, path)
			var video, audio int
			for _, s := range p.Streams {
				switch s.CodecType {
				case "video":
					video++
					if s.CodecName != "h264" || s.Profile != "Main" || s.Width != 640 || s.Height != 360 || s.AvgFrameRate != "30/1" || s.HasBFrames != 0 || s.PixFmt != "yuv420p" {
						t.Errorf("video stream: %+v", s)
					}
				case "audio":
					audio++
					if s.CodecName != "aac" || s.Profile != "LC" || s.SampleRate != "48000" || s.Channels != 2 {
						t.Errorf("audio stream: %+v", s)
					}
				}
			}
			if video != 1 || audio != 1 {
				t.Errorf("%d video and %d audio streams", video, audio)
			}
			if d, err := strconv.ParseFloat(p.Format.Duration, 64); err != nil || math.Abs(d-3) > 0.2 {
				t.Errorf("duration %q, want 3 s ± 0.2", p.Format.Duration)
			}

			pkts := probeVideoPackets(t, path)
			if len(pkts) != 90 {
				t.Errorf("%d video packets, want 90", len(pkts))
			}
			var keys []int
			for i, k := range pkts {
				if k.Key {
					keys = append(keys, i)
				}
			}
			if len(keys) != 2 || keys[0] != 0 || keys[1] != 60 {
				t.Fatalf("keyframes at packets %v, want [0 60]", keys)
			}
			if d := pkts[60].PTS - pkts[0].PTS; math.Abs(d-2) > 0.0015 {
				t.Errorf("keyframes %.4f s apart, want 2", d)
			}
		})
	}
}

func TestMuxErrors(t *testing.T) {
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	dir := t.TempDir()
	for _, tc := range []struct {
		name, format, url string
		streams           []StreamInfo
		opts              MuxOptions
		want              string
	}{
		{"no format", "", dir + "/a", []StreamInfo{ve.Stream()}, MuxOptions{}, "required"},
		{"unknown format", "nope", dir + "/a", []StreamInfo{ve.Stream()}, MuxOptions{}, "unknown format"},
		{"no streams", "flv", dir + "/a", nil, MuxOptions{}, "no streams"},
		{"two video streams", "flv", dir + "/a", []StreamInfo{ve.Stream(), ve.Stream()}, MuxOptions{}, "second video"},
		{"unknown codec", "flv", dir + "/a", []StreamInfo{{Kind: Video, Codec: "h265x", Width: 2, Height: 2, FrameRateNum: 1, FrameRateDen: 1}}, MuxOptions{}, "unknown codec"},
		{"bad video", "flv", dir + "/a", []StreamInfo{{Kind: Video, Codec: "h264"}}, MuxOptions{}, "size 0x0"},
		{"audio codec as video", "flv", dir + "/a", []StreamInfo{{Kind: Video, Codec: "aac"}}, MuxOptions{}, "not a video codec"},
		{"unknown option", "flv", dir + "/a", []StreamInfo{ve.Stream()}, MuxOptions{FormatOptions: map[string]string{"warp": "9"}}, "does not know: warp"},
		{"no directory", "flv", dir + "/no/such/dir/a.flv", []StreamInfo{ve.Stream()}, MuxOptions{}, "No such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMuxer(tc.format, tc.url, tc.opts, tc.streams...)
			if err == nil {
				m.Close()
				t.Fatal("NewMuxer succeeded")
			}
			if m != nil {
				t.Error("a Muxer came back with the error")
			}
			if !strings.HasPrefix(err.Error(), "av: mux ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}

	m, err := NewMuxer("flv", filepath.Join(dir, "v.flv"), MuxOptions{}, ve.Stream())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.WritePacket(Packet{Kind: Audio, Data: []byte{1}}); err == nil || !strings.Contains(err.Error(), "no audio stream") {
		t.Errorf("audio packet without an audio stream: %v", err)
	}
	if err := m.WritePacket(Packet{Kind: Video}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty packet: %v", err)
	}
}

// closedPort returns a local TCP port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// silentServer accepts TCP connections and then neither reads nor writes:
// an RTMP server that hangs in the handshake, or a reader that stopped.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

func checkRedacted(t *testing.T, err error, key string) {
	t.Helper()
	if strings.Contains(err.Error(), key) {
		t.Errorf("error shows the stream key: %v", err)
	}
	if !strings.Contains(err.Error(), "/<redacted>") {
		t.Errorf("error does not name the redacted URL: %v", err)
	}
}

// Publishing to a port nobody listens on fails at once, without the key.
func TestMuxRTMPRefused(t *testing.T) {
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	url := "rtmp://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/app/sk_live_SECRET"
	start := time.Now()
	m, err := NewMuxer("flv", url, MuxOptions{Timeout: 3 * time.Second}, ve.Stream())
	if err == nil {
		m.Close()
		t.Fatal("NewMuxer succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	t.Log(err)
	checkRedacted(t, err, "sk_live_SECRET")
}

// A server that accepts and then says nothing: the handshake gives up at
// the timeout.
func TestMuxRTMPTimeout(t *testing.T) {
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	url := "rtmp://" + silentServer(t) + "/app/sk_live_SECRET"
	start := time.Now()
	m, err := NewMuxer("flv", url, MuxOptions{Timeout: 500 * time.Millisecond}, ve.Stream())
	if err == nil {
		m.Close()
		t.Fatal("NewMuxer succeeded")
	}
	d := time.Since(start)
	t.Logf("%v after %v", err, d)
	if d < 400*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %v, want about 500 ms", d)
	}
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error is not ErrTimeout: %v", err)
	}
	checkRedacted(t, err, "sk_live_SECRET")
}

// Ending DialContext (or Context) aborts the opening long before the
// timeout.
func TestMuxRTMPDialContext(t *testing.T) {
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	url := "rtmps://" + silentServer(t) + "/app/sk_live_SECRET" // hangs in the TLS handshake
	for _, field := range []string{"DialContext", "Context"} {
		t.Run(field, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			opts := MuxOptions{Timeout: time.Minute}
			if field == "DialContext" {
				opts.DialContext = ctx
			} else {
				opts.Context = ctx
			}
			start := time.Now()
			m, err := NewMuxer("flv", url, opts, ve.Stream())
			if err == nil {
				m.Close()
				t.Fatal("NewMuxer succeeded")
			}
			d := time.Since(start)
			t.Logf("%v after %v", err, d)
			if d > 1500*time.Millisecond {
				t.Errorf("gave up after %v, want about 200 ms", d)
			}
			if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
				t.Errorf("error is not ErrInterrupted and context.Canceled: %v", err)
			}
			checkRedacted(t, err, "sk_live_SECRET")
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewMuxer("flv", url, MuxOptions{DialContext: ctx}, ve.Stream()); !errors.Is(err, context.Canceled) {
		t.Errorf("with a context already done: %v", err)
	}
}

// A DialContext that ends after NewMuxer returned does not matter.
func TestMuxDialContextAfterOpen(t *testing.T) {
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMuxer("flv", filepath.Join(t.TempDir(), "a.flv"), MuxOptions{DialContext: ctx}, ve.Stream())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	time.Sleep(10 * time.Millisecond)
	var werr error
	newAVSource(t, 320, 180, 30).run(200*time.Millisecond, ve, nil, func(p Packet) {
		if err := m.WritePacket(p); err != nil && werr == nil {
			werr = err
		}
	})
	if werr != nil {
		t.Error(werr)
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
}

// blockedWriter opens an FLV stream to a TCP peer that never reads, and
// writes large packets from a goroutine until a write fails. It returns
// the Muxer, once the writes are stuck, and a channel that gets the error
// of the write that failed and how long that write took.
func blockedWriter(t *testing.T, opts MuxOptions) (*Muxer, chan writeResult) {
	t.Helper()
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	m, err := NewMuxer("flv", "tcp://"+silentServer(t), opts, ve.Stream())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	data := make([]byte, 256<<10)
	copy(data, []byte{0, 0, 0, 1, 0x65})
	var writes atomic.Int64
	done := make(chan writeResult, 1)
	go func() {
		for i := 0; ; i++ {
			start := time.Now()
			err := m.WritePacket(Packet{Kind: Video, Data: data, PTS: time.Duration(i) * 33 * time.Millisecond, DTS: time.Duration(i) * 33 * time.Millisecond, Keyframe: true})
			if err != nil {
				done <- writeResult{err, time.Since(start), i}
				return
			}
			writes.Add(1)
			if i > 4000 { // 1 GB: the peer must be reading after all
				done <- writeResult{nil, 0, i}
				return
			}
		}
	}()
	// Wait until no write has completed for 300 ms.
	last, since := writes.Load(), time.Now()
	for time.Since(since) < 300*time.Millisecond {
		select {
		case r := <-done:
			t.Fatalf("writing stopped before blocking: %+v", r)
		case <-time.After(20 * time.Millisecond):
		}
		if n := writes.Load(); n != last {
			last, since = n, time.Now()
		}
	}
	t.Logf("blocked after %d writes of %d KiB", last, len(data)>>10)
	return m, done
}

type writeResult struct {
	err  error
	took time.Duration
	n    int
}

// Interrupt from another goroutine aborts a write stuck on a full socket.
func TestMuxInterruptBlockedWrite(t *testing.T) {
	m, done := blockedWriter(t, MuxOptions{Timeout: time.Minute})
	start := time.Now()
	m.Interrupt()
	select {
	case r := <-done:
		t.Logf("%v, %v after Interrupt", r.err, time.Since(start))
		if !errors.Is(r.err, ErrInterrupted) {
			t.Errorf("error is not ErrInterrupted: %v", r.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the write is still blocked 2 s after Interrupt")
	}
	if err := m.WritePacket(Packet{Kind: Video, Data: []byte{0, 0, 0, 1, 0x65}, PTS: time.Hour, DTS: time.Hour}); !errors.Is(err, ErrInterrupted) {
		t.Errorf("write after Interrupt: %v", err)
	}
	start = time.Now()
	if err := m.Close(); err != nil {
		t.Logf("Close: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close of an interrupted muxer took %v", d)
	}
}

// The end of Context does the same as Interrupt.
func TestMuxContextBlockedWrite(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, done := blockedWriter(t, MuxOptions{Timeout: time.Minute, Context: ctx})
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.err, ErrInterrupted) || !errors.Is(r.err, context.Canceled) {
			t.Errorf("error is not ErrInterrupted and context.Canceled: %v", r.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the write is still blocked 2 s after the context ended")
	}
}

// A write stuck longer than the timeout fails on its own.
func TestMuxWriteTimeout(t *testing.T) {
	_, done := blockedWriter(t, MuxOptions{Timeout: 700 * time.Millisecond})
	select {
	case r := <-done:
		t.Logf("write %d: %v after %v", r.n, r.err, r.took)
		if !errors.Is(r.err, ErrTimeout) {
			t.Errorf("error is not ErrTimeout: %v", r.err)
		}
		if r.took > 2*time.Second {
			t.Errorf("the failing write took %v", r.took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no timeout 5 s into a blocked write")
	}
}

// The muxer's own packets are what a peer receives: an FLV stream over
// TCP to a reader is a complete FLV file.
func TestMuxTCPStream(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	m, err := NewMuxer("flv", "tcp://"+l.Addr().String(), MuxOptions{}, ve.Stream())
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	newAVSource(t, 320, 180, 30).run(time.Second, ve, nil, func(p Packet) {
		if err := m.WritePacket(p); err != nil && werr == nil {
			werr = err
		}
	})
	if err := m.Close(); err != nil || werr != nil {
		t.Fatal(err, werr)
	}
	b := <-got
	path := filepath.Join(t.TempDir(), "tcp.flv")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if pkts := probeVideoPackets(t, path); len(pkts) != 30 || !pkts[0].Key {
		t.Errorf("%d packets received, first keyframe %v", len(pkts), len(pkts) > 0 && pkts[0].Key)
	}
}

func TestRedactURL(t *testing.T) {
	for _, tc := range [][2]string{
		{"rtmp://live.example.com/app/sk_us-west_abc123", "rtmp://live.example.com/app/<redacted>"},
		{"rtmps://a1b2.global-contribute.live-video.net:443/app/sk_x", "rtmps://a1b2.global-contribute.live-video.net:443/app/<redacted>"},
		{"rtmp://host/app/key/more", "rtmp://host/app/<redacted>"},
		{"rtmp://host/app/key/", "rtmp://host/app/<redacted>"},
		{"rtmp://host/onlykey", "rtmp://host/<redacted>"},
		{"rtmp://host", "rtmp://host"},
		{"rtmp://user:pass@host/app/key?token=abc", "rtmp://user:<redacted>@host/app/<redacted>?<redacted>"},
		{"https://bucket.s3.example.com/a/b.ts?X-Amz-Signature=abc", "https://bucket.s3.example.com/a/b.ts?<redacted>"},
		{"/tmp/out.flv", "/tmp/out.flv"},
		{"rtmp://ho st/%zz/key", "rtmp://<redacted>"},
	} {
		if got := RedactURL(tc[0]); got != tc[1] {
			t.Errorf("RedactURL(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
}

func TestRescale(t *testing.T) {
	for _, tc := range [][4]int64{
		{1, 1e9, 30, 33333333},
		{2, 1e9, 30, 66666667},
		{-1, 1e9, 30, -33333333},
		{-2, 1e9, 30, -66666667},
		{1, 1, 2, 1}, // halves away from zero
		{-1, 1, 2, -1},
		{0, 5, 7, 0},
		{math.MaxInt64, 1e9, 1e9, math.MaxInt64},
		{math.MaxInt64, 2, 1, math.MaxInt64}, // saturates
		{-math.MaxInt64, 2, 1, -math.MaxInt64},
		{86400e9 * 10, 90000, 1e9, 86400 * 10 * 90000}, // 10 days in 1/90000 s
	} {
		if got := rescale(tc[0], tc[1], tc[2]); got != tc[3] {
			t.Errorf("rescale(%d, %d, %d) = %d, want %d", tc[0], tc[1], tc[2], got, tc[3])
		}
	}
}

// WritePacket allocates nothing on the Go heap.
func TestMuxWriteAllocs(t *testing.T) {
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	ae := newAudioEncoder(t)
	m, err := NewMuxer("mpegts", filepath.Join(t.TempDir(), "a.ts"), MuxOptions{}, ve.Stream(), ae.Stream())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var pkts []Packet
	newAVSource(t, 320, 180, 30).run(2*time.Second, ve, ae, func(p Packet) { pkts = append(pkts, p) })
	i := 0
	if a := testing.AllocsPerRun(len(pkts)-1, func() {
		if err := m.WritePacket(pkts[i]); err != nil {
			t.Fatal(err)
		}
		i++
	}); a != 0 {
		t.Errorf("%v allocations per WritePacket", a)
	}
}

// waitRecording waits (bounded) until nginx-rtmp has a recording of at
// least d, and returns its path.
func waitRecording(t *testing.T, srv *testsrv.RTMP, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if recs := srv.Recordings(); len(recs) == 1 {
			if p, err := testsrv.ProbeFile(recs[0]); err == nil && p.Format.Duration >= d.Seconds()-0.2 {
				return recs[0]
			}
		} else if len(recs) > 1 {
			t.Fatalf("recordings %v, want one", recs)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recording of %v after 10 s: %v", d, srv.Recordings())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publish sends d of video and audio to url as FLV, then closes.
func publish(t *testing.T, url string, opts MuxOptions, d time.Duration) error {
	t.Helper()
	ve := newVideoEncoder(t, VideoConfig{Width: 640, Height: 360, FrameRate: 30, Bitrate: 1_000_000})
	ae := newAudioEncoder(t)
	m, err := NewMuxer("flv", url, opts, ve.Stream(), ae.Stream())
	if err != nil {
		return err
	}
	var werr error
	newAVSource(t, 640, 360, 30).run(d, ve, ae, func(p Packet) {
		if err := m.WritePacket(p); err != nil && werr == nil {
			werr = err
		}
	})
	if err := m.Close(); werr == nil {
		werr = err
	}
	return werr
}

// A stream published over RTMP and RTMPS to nginx-rtmp is recorded whole:
// H.264 Main and AAC, keyframes every 2 s.
func TestMuxRTMPPublish(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"rtmp", false}, {"rtmps", true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
			url, opts := srv.URL("live", "key1"), MuxOptions{Timeout: 5 * time.Second}
			if tc.tls {
				url, opts.CAFile = srv.TLSURL("live", "key1"), srv.CertFile()
			}
			if err := publish(t, url, opts, 3*time.Second); err != nil {
				t.Fatal(err)
			}
			path := waitRecording(t, srv, 3*time.Second)
			p := probeFile(t, path)
			if len(p.Streams) != 2 {
				t.Fatalf("streams %+v", p.Streams)
			}
			for _, s := range p.Streams {
				if s.CodecType == "video" && (s.CodecName != "h264" || s.Profile != "Main" || s.Width != 640 || s.HasBFrames != 0) ||
					s.CodecType == "audio" && (s.CodecName != "aac" || s.SampleRate != "48000" || s.Channels != 2) {
					t.Errorf("stream %+v", s)
				}
			}
			var keys []float64
			for _, k := range probeVideoPackets(t, path) {
				if k.Key {
					keys = append(keys, k.PTS)
				}
			}
			if len(keys) != 2 || math.Abs(keys[1]-keys[0]-2) > 0.0015 {
				t.Errorf("keyframes at %v, want 2 s apart", keys)
			}
		})
	}
}

// RTMPS checks the server's certificate unless told not to.
func TestMuxRTMPSVerify(t *testing.T) {
	srv := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
	url := srv.TLSURL("live", "sk_live_SECRET")
	err := publish(t, url, MuxOptions{Timeout: 5 * time.Second}, 100*time.Millisecond)
	if err == nil {
		t.Fatal("a self-signed certificate was accepted without CAFile")
	}
	t.Log(err)
	checkRedacted(t, err, "sk_live_SECRET")
	if err := publish(t, url, MuxOptions{Timeout: 5 * time.Second, InsecureSkipVerify: true}, 100*time.Millisecond); err != nil {
		t.Errorf("InsecureSkipVerify: %v", err)
	}
}

// When the server goes away mid-stream, writes fail within the timeout.
func TestMuxRTMPServerGone(t *testing.T) {
	srv := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	m, err := NewMuxer("flv", srv.URL("live", "sk_live_SECRET"), MuxOptions{Timeout: time.Second}, ve.Stream())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	src := newAVSource(t, 320, 180, 30)
	var werr error
	var took time.Duration
	write := func(p Packet) {
		start := time.Now()
		if err := m.WritePacket(p); err != nil && werr == nil {
			werr, took = err, time.Since(start)
		}
	}
	for i := 0; i < 300 && werr == nil; i++ {
		if i == 30 {
			srv.Stop()
		}
		src.pan.frame(src.frame, i)
		src.frame.PTS = time.Duration(i) * time.Second / 30
		if err := ve.Encode(src.frame, write); err != nil {
			t.Fatal(err)
		}
	}
	if werr == nil {
		t.Fatal("9 s of writes to a stopped server all succeeded")
	}
	t.Logf("%v (that write took %v)", werr, took)
	if took > 2*time.Second {
		t.Errorf("the failing write took %v", took)
	}
	checkRedacted(t, werr, "sk_live_SECRET")
	start := time.Now()
	m.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
}
