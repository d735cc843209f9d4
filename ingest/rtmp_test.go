package ingest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

// rtmpTest is a test server with an RTMP and an RTMPS listener on
// 127.0.0.1, the RTMPS certificate's file for clients to trust.
type rtmpTest struct {
	*testServer
	plain, secure string // host:port
	certFile      string
}

func startRTMP(t *testing.T, mutate func(*Config)) *rtmpTest {
	t.Helper()
	ts := startServer(t, mutate)
	cert, certFile := testsrv.SelfSignedCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		ln     net.Listener
		secure bool
	}{{ln, false}, {tln, true}} {
		go func() {
			if err := ts.ServeRTMP(l.ln, l.secure); err != nil {
				t.Errorf("ServeRTMP: %v", err)
			}
		}()
	}
	return &rtmpTest{testServer: ts, plain: ln.Addr().String(), secure: tln.Addr().String(), certFile: certFile}
}

// config registers an ingest configuration for participant id on the
// test stage and returns it.
func (rt *rtmpTest) config(id string, insecure bool) IngestKey {
	k := IngestKey{
		ARN:       "arn:aws:ivs:us-east-1:123456789012:ingest-configuration/" + id,
		StreamKey: "rt_123456789012_us-east-1_" + id + "_s3cr3tKEYs3cr3tKEY", StageARN: testStage,
		ParticipantID: id, UserID: "obs-" + id, Attributes: map[string]string{"featured": "true"}, Insecure: insecure,
	}
	rt.IngestKeys().Set(k)
	return k
}

func (rt *rtmpTest) url(k IngestKey, secure bool) string {
	if secure {
		return "rtmps://" + rt.secure + "/app/" + k.StreamKey
	}
	return "rtmp://" + rt.plain + "/app/" + k.StreamKey
}

// push publishes the test pattern for d in the background; its result
// arrives on the channel.
func push(url string, d time.Duration, extra ...string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- testsrv.PushTestPattern(url, d, extra...) }()
	return done
}

func waitEvent(t *testing.T, st *Stage, participant, name, code string) {
	t.Helper()
	testsrv.WaitFor(t, 15*time.Second, fmt.Sprintf("event %s %s of %s", name, code, participant), func() bool {
		return hasEvent(st, participant, name, code)
	})
}

// An ffmpeg RTMP publisher becomes its ingest configuration's participant:
// the configuration's id, user id and attributes, protocol RTMP, pictures
// of the pattern's size at its rate on the server clock, the 440 Hz tone
// at 48 kHz; DisconnectParticipant ends it with PUBLISH_STOPPED and LEFT.
func TestRTMPPublish(t *testing.T) {
	rt := startRTMP(t, nil)
	k := rt.config("rtmp-a", true)
	done := push(rt.url(k, false), 20*time.Second)
	var p *Participant
	testsrv.WaitFor(t, 15*time.Second, "the RTMP participant", func() bool { p = rt.stage.Participant(k.ParticipantID); return p != nil })
	audio := p.SubscribeAudio()
	defer audio.Close()
	testsrv.WaitFor(t, 10*time.Second, "the first picture", func() bool { return p.Video().Frames() > 0 })
	info := p.Info()
	if info.Protocol != "RTMP" || info.IngestConfigurationARN != k.ARN || info.UserID != k.UserID || info.Attributes["featured"] != "true" {
		t.Errorf("participant %+v", info)
	}
	if !rt.IngestKeys().Live(k.ARN) {
		t.Error("the configuration is not live while publishing")
	}
	start, frames := time.Now(), p.Video().Frames()
	time.Sleep(2 * time.Second)
	fps := float64(p.Video().Frames()-frames) / time.Since(start).Seconds()
	if fps < testsrv.PatternFPS*0.8 || fps > testsrv.PatternFPS*1.2 {
		t.Errorf("%.1f pictures/s, want %d", fps, testsrv.PatternFPS)
	}
	f := p.Video().Latest()
	if f == nil || f.Width != testsrv.PatternWidth || f.Height != testsrv.PatternHeight {
		t.Fatalf("picture %v, want %dx%d", f, testsrv.PatternWidth, testsrv.PatternHeight)
	}
	if lag := rt.Now() - f.PTS; lag < 0 || lag > time.Second {
		t.Errorf("newest picture captured %v ago, want within a second", lag)
	}
	f.Release()
	info = p.Info()
	if !info.Video || !info.Audio || info.VideoCodec != "h264" || info.AudioCodec != "aac" || info.VideoStopped {
		t.Errorf("media state %+v", info.MediaState)
	}
	checkTone(t, audio)
	for _, e := range []string{EventJoined, EventPublishStarted} {
		if !hasEvent(rt.stage, k.ParticipantID, e, "") {
			t.Errorf("no %s event", e)
		}
	}
	if !rt.stage.Disconnect(k.ParticipantID, "test") {
		t.Fatal("Disconnect: not connected")
	}
	waitEvent(t, rt.stage, k.ParticipantID, EventLeft, "")
	if !hasEvent(rt.stage, k.ParticipantID, EventPublishStopped, "") {
		t.Error("no PUBLISH_STOPPED")
	}
	if rt.stage.Participant(k.ParticipantID) != nil || rt.IngestKeys().Live(k.ARN) {
		t.Error("the participant is still there after Disconnect")
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("ffmpeg carried on publishing after the disconnect")
		}
	case <-time.After(15 * time.Second):
		t.Error("ffmpeg still running 15 s after the disconnect")
	}
	if n := testutil.ToFloat64(rt.metrics.rtmpConns.WithLabelValues("published")); n != 1 {
		t.Errorf("rtmp_connections_total{published} = %v", n)
	}
}

// RTMPS with the server's certificate trusted; a configuration without
// insecureIngest refuses plain RTMP (INVALID_PROTOCOL); an unknown key is
// refused without an event; a second publish with a key that is live is
// refused (REUSE_OF_STREAM_KEY) and the first carries on; deleting the
// configuration ends its publish.
func TestRTMPSAndRefusals(t *testing.T) {
	rt := startRTMP(t, nil)
	k := rt.config("rtmps-a", false)

	err := testsrv.PushTestPattern(rt.url(k, false), 3*time.Second)
	if err == nil {
		t.Fatal("plain RTMP accepted for a configuration without insecureIngest")
	}
	// The publisher is told why (not "authentication failed", as for a
	// wrong key).
	if !strings.Contains(err.Error(), "Server error: this stream key takes RTMPS only") {
		t.Errorf("plain RTMP to an RTMPS-only key: ffmpeg said %v", err)
	}
	waitEvent(t, rt.stage, k.ParticipantID, EventPublishError, ErrorInvalidProtocol)

	unknown := k
	unknown.StreamKey = "rt_123456789012_us-east-1_nope_nothing"
	if err := testsrv.PushTestPattern(rt.url(unknown, true), 3*time.Second, "-tls_verify", "1", "-ca_file", rt.certFile); err == nil {
		t.Fatal("an unknown stream key accepted")
	} else if !strings.Contains(err.Error(), "Server error: unknown stream key") {
		t.Errorf("unknown stream key: ffmpeg said %v", err)
	}
	if n := testutil.ToFloat64(rt.metrics.rtmpConns.WithLabelValues("invalid_stream_key")); n != 1 {
		t.Errorf("rtmp_connections_total{invalid_stream_key} = %v", n)
	}

	tlsArgs := []string{"-tls_verify", "1", "-ca_file", rt.certFile}
	first := push(rt.url(k, true), 30*time.Second, tlsArgs...)
	var p *Participant
	testsrv.WaitFor(t, 15*time.Second, "the RTMPS participant", func() bool {
		p = rt.stage.Participant(k.ParticipantID)
		return p != nil && p.Video().Frames() > 0
	})
	if got := p.Info().Protocol; got != "RTMPS" {
		t.Errorf("protocol %q, want RTMPS", got)
	}
	if err := testsrv.PushTestPattern(rt.url(k, true), 3*time.Second, tlsArgs...); err == nil {
		t.Error("a second publish with a live stream key accepted")
	}
	waitEvent(t, rt.stage, k.ParticipantID, EventPublishError, ErrorReuseOfStreamKey)
	if rt.stage.Participant(k.ParticipantID) != p {
		t.Error("the first publish did not carry on")
	}
	frames := p.Video().Frames()
	testsrv.WaitFor(t, 5*time.Second, "more pictures from the first publish", func() bool { return p.Video().Frames() > frames+10 })

	rt.IngestKeys().Delete(k.ARN)
	waitEvent(t, rt.stage, k.ParticipantID, EventLeft, "")
	select {
	case err := <-first:
		if err == nil {
			t.Error("ffmpeg carried on after the configuration was deleted")
		}
	case <-time.After(15 * time.Second):
		t.Error("ffmpeg still running 15 s after the configuration was deleted")
	}
}

// B-frames end the publish with B_FRAME_PRESENT (IVS refuses them).
func TestRTMPBFrames(t *testing.T) {
	rt := startRTMP(t, nil)
	k := rt.config("bframes", true)
	err := testsrv.PushTestPattern(rt.url(k, false), 10*time.Second, "-bf", "2", "-preset", "veryfast")
	if err == nil {
		t.Error("a stream with B-frames published to the end")
	}
	waitEvent(t, rt.stage, k.ParticipantID, EventPublishError, ErrorBFramePresent)
	waitEvent(t, rt.stage, k.ParticipantID, EventLeft, "")
}

// Garbage on the port, a connection that stalls in the handshake and one
// that sends more than a publish needs before its stream key are closed
// (counted, never a crash); a publisher still gets in afterwards.
func TestRTMPBadInput(t *testing.T) {
	rt := startRTMP(t, func(c *Config) { c.RTMPHandshakeTimeout = 2 * time.Second })
	garbage := func(b []byte) {
		c, err := net.Dial("tcp", rt.plain)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write(b)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Read(buf); err != nil {
				return // the server closed it
			}
		}
	}
	garbage([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	garbage(append([]byte{3}, make([]byte, 200<<10)...)) // a valid C0, then more than the budget
	garbage(nil)                                         // silent: the handshake timeout
	if n := testutil.ToFloat64(rt.metrics.rtmpConns.WithLabelValues("handshake_failed")); n != 3 {
		t.Errorf("rtmp_connections_total{handshake_failed} = %v, want 3", n)
	}
	k := rt.config("after-garbage", true)
	done := push(rt.url(k, false), 4*time.Second)
	testsrv.WaitFor(t, 15*time.Second, "the publisher after the garbage", func() bool {
		p := rt.stage.Participant(k.ParticipantID)
		return p != nil && p.Video().Frames() > 0
	})
	if err := <-done; err != nil && !strings.Contains(err.Error(), "Broken pipe") {
		t.Logf("ffmpeg: %v", err)
	}
}

// Video above Config.MaxVideoPixels is not decoded: the RTMP publisher
// stays on the stage audio-only (RESOLUTION_EXCEEDED), its sound flowing.
func TestRTMPResolutionLimit(t *testing.T) {
	rt := startRTMP(t, func(c *Config) { c.MaxVideoPixels = 160 * 120 })
	k := rt.config("too-large", true)
	push(rt.url(k, false), 10*time.Second)
	waitEvent(t, rt.stage, k.ParticipantID, EventPublishError, ErrorResolutionExceeded)
	p := rt.stage.Participant(k.ParticipantID)
	if p == nil {
		t.Fatal("the publisher left")
	}
	audio := p.SubscribeAudio()
	defer audio.Close()
	time.Sleep(time.Second)
	var total time.Duration
	audio.Drain(func(a *media.AudioFrame) { total += a.Duration() })
	if info := p.Info(); !info.AudioOnly || p.Video().Frames() != 0 || total < 500*time.Millisecond {
		t.Errorf("audio-only %v, %d pictures decoded, %v of audio in 1 s", info.AudioOnly, p.Video().Frames(), total)
	}
}

// A client that plays is refused and told why: the server takes
// publishers only.
func TestRTMPPlayRefused(t *testing.T) {
	rt := startRTMP(t, nil)
	k := rt.config("play", true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testsrv.FFmpegBinary, "-nostdin", "-v", "error", "-i", rt.url(k, false), "-t", "1", "-f", "null", "-").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Server error: this server takes publishers only") {
		t.Errorf("playing: %v: %s", err, out)
	}
	if n := testutil.ToFloat64(rt.metrics.rtmpConns.WithLabelValues("play_refused")); n != 1 {
		t.Errorf("rtmp_connections_total{play_refused} = %v", n)
	}
}
