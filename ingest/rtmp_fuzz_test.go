package ingest

import (
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// rtmpCapture is what ffmpeg sends when it publishes two seconds of the
// test pattern to rtmp://…/app/<fuzzStreamKey>: the handshake, connect,
// createStream and publish commands, then FLV tags. Regenerate it with
// go test -run TestRTMPCapture -update-rtmp-capture ./ingest.
var rtmpCapture = filepath.Join("testdata", "rtmp-publish.bin")

var updateCapture = flag.Bool("update-rtmp-capture", false, "record "+rtmpCapture+" from ffmpeg")

const fuzzStreamKey = "rt_123456789012_us-east-1_fuzz_s3cr3tKEYs3cr3tKEY"

// TestRTMPCapture replays the capture: it publishes (the fuzzer's seed
// reaches the media path). With -update-rtmp-capture it records it anew
// through a proxy in front of the server.
func TestRTMPCapture(t *testing.T) {
	if *updateCapture {
		recordCapture(t)
	}
	raw, err := os.ReadFile(rtmpCapture)
	if err != nil {
		t.Fatal(err)
	}
	ts, k := fuzzServer(t)
	replay(t, ts, raw)
	if !hasEvent(ts.stage, k.ParticipantID, EventPublishStarted, "") || !hasEvent(ts.stage, k.ParticipantID, EventLeft, "") {
		t.Fatalf("the capture did not publish: events %+v", ts.stage.Events())
	}
	if n := testutil.ToFloat64(ts.metrics.frames.WithLabelValues("video")); n < 25 {
		t.Errorf("%v pictures decoded from two seconds of video", n)
	}
	if n := testutil.ToFloat64(ts.metrics.frames.WithLabelValues("audio")); n < 50 {
		t.Errorf("%v audio frames decoded from two seconds of audio", n)
	}
}

// FuzzRTMPPublish feeds arbitrary client bytes, seeded with a real
// publish, through the handshake, the commands and the media path: the
// server never crashes, never hangs, and lets go of the connection.
func FuzzRTMPPublish(f *testing.F) {
	raw, err := os.ReadFile(rtmpCapture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	mid := append([]byte(nil), raw...)
	for i := len(mid) / 3; i < len(mid); i += 97 {
		mid[i] ^= 0x5a
	}
	f.Add(mid)
	// FFmpeg's complaints about the mutated media would fill the fuzzing
	// worker's stderr, which is not read while it runs.
	av.SetLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts, _ := fuzzServer(f)
	f.Fuzz(func(t *testing.T, b []byte) { replay(t, ts, b) })
}

// fuzzServer is a test server whose ingest configuration takes
// fuzzStreamKey over plain RTMP, with short timeouts.
func fuzzServer(t testing.TB) (*testServer, IngestKey) {
	ts := startServer(t, func(c *Config) {
		c.RTMPHandshakeTimeout, c.RTMPReadTimeout = 2*time.Second, 2*time.Second
	})
	k := IngestKey{ARN: "arn:aws:ivs:us-east-1:123456789012:ingest-configuration/fuzz", StreamKey: fuzzStreamKey,
		StageARN: testStage, ParticipantID: "fuzz", Insecure: true}
	ts.IngestKeys().Set(k)
	return ts, k
}

// replay runs one server connection fed with b, and waits until the
// server let go of it.
func replay(t *testing.T, ts *testServer, b []byte) {
	client, server := net.Pipe()
	done := ts.serveRTMPConn(server, "RTMP")
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, _ = client.Write(b) // returns once the server read it all (net.Pipe)
		client.Close()         // the end of the stream
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(io.Discard, client)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not let go of the connection within 20 s")
	}
	client.Close()
	wg.Wait()
}

// recordCapture publishes with ffmpeg through a recording proxy.
func recordCapture(t *testing.T) {
	rt := startRTMP(t, nil)
	rt.IngestKeys().Set(IngestKey{ARN: "arn:aws:ivs:us-east-1:123456789012:ingest-configuration/fuzz", StreamKey: fuzzStreamKey,
		StageARN: testStage, ParticipantID: "fuzz", Insecure: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var rec []byte
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", rt.plain)
		if err != nil {
			c.Close()
			return
		}
		go func() { _, _ = io.Copy(c, up); c.Close() }()
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			mu.Lock()
			rec = append(rec, buf[:n]...)
			mu.Unlock()
			if _, werr := up.Write(buf[:n]); err != nil || werr != nil {
				up.Close()
				return
			}
		}
	}()
	if err := testsrv.PushTestPattern("rtmp://"+ln.Addr().String()+"/app/"+fuzzStreamKey, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if err := os.WriteFile(rtmpCapture, rec, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d bytes to %s", len(rec), rtmpCapture)
}
