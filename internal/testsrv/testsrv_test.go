package testsrv_test

import (
	"bytes"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// waitRecordings waits, at most 10 s, until s has n recordings that
// ffprobe reads with a video and an audio stream, and returns them.
func waitRecordings(t *testing.T, s *testsrv.RTMP, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := s.Recordings()
		ready := len(recs) >= n
		var why error
		for _, r := range recs {
			if !ready {
				break
			}
			p, err := testsrv.ProbeFile(r)
			_, v := p.Stream("video")
			_, a := p.Stream("audio")
			if err != nil || !v || !a {
				ready, why = false, err
			}
		}
		if ready {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d readable recordings, have %v (%v)", n, recs, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkPattern checks that path holds the test pattern for about want.
func checkPattern(t *testing.T, path string, want time.Duration) {
	t.Helper()
	p := testsrv.FFprobe(t, path)
	if !strings.Contains(p.Format.FormatName, "flv") {
		t.Errorf("%s: format %q, want flv", path, p.Format.FormatName)
	}
	v, ok := p.Stream("video")
	if !ok {
		t.Fatalf("%s: no video stream in %+v", path, p.Streams)
	}
	if v.CodecName != "h264" || v.Width != testsrv.PatternWidth || v.Height != testsrv.PatternHeight {
		t.Errorf("%s: video %s %dx%d, want h264 %dx%d", path, v.CodecName, v.Width, v.Height, testsrv.PatternWidth, testsrv.PatternHeight)
	}
	if math.Abs(v.FrameRate-testsrv.PatternFPS) > 0.5 {
		t.Errorf("%s: frame rate %s (%g), want %d", path, v.AvgFrameRate, v.FrameRate, testsrv.PatternFPS)
	}
	a, ok := p.Stream("audio")
	if !ok {
		t.Fatalf("%s: no audio stream in %+v", path, p.Streams)
	}
	if a.CodecName != "aac" || a.SampleRate != 44100 || a.Channels != 1 {
		t.Errorf("%s: audio %s %d Hz %d ch, want aac 44100 Hz 1 ch", path, a.CodecName, a.SampleRate, a.Channels)
	}
	if d := p.Format.Duration; math.Abs(d-want.Seconds()) > 0.5 {
		t.Errorf("%s: duration %.3f s, want %v", path, d, want)
	}
	kf := testsrv.Keyframes(t, path)
	gop := float64(testsrv.PatternGOP) / testsrv.PatternFPS
	if wantN := int(math.Ceil(want.Seconds() / gop)); len(kf) != wantN {
		t.Errorf("%s: key frames at %v, want %d", path, kf, wantN)
	}
	for i, ts := range kf {
		if math.Abs(ts-float64(i)*gop) > 0.1 {
			t.Errorf("%s: key frame %d at %.3f s, want %.3f s", path, i, ts, float64(i)*gop)
		}
	}
}

func TestRTMPRecordsPushedStream(t *testing.T) {
	t.Parallel()
	s := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
	url := s.URL("live", "cam")
	if want := "rtmp://" + s.Addr() + "/live/cam"; url != want || !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("URL %q, want %q on 127.0.0.1", url, want)
	}
	if err := testsrv.PushTestPattern(url, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	recs := waitRecordings(t, s, 1)
	if len(recs) != 1 || recs[0] != filepath.Join(s.RecordDir(), "live", "cam.flv") {
		t.Fatalf("recordings %v, want live/cam.flv", recs)
	}
	checkPattern(t, recs[0], 2*time.Second)
}

func TestRTMPSWithSelfSignedCertificate(t *testing.T) {
	t.Parallel()
	s := testsrv.StartRTMP(t, testsrv.RTMPOptions{Apps: []string{"live", "backup"}})
	if !strings.HasPrefix(s.TLSURL("live", "k"), "rtmps://127.0.0.1:") {
		t.Fatalf("TLSURL %q", s.TLSURL("live", "k"))
	}
	// FFmpeg does not verify the certificate unless told to.
	if err := testsrv.PushTestPattern(s.TLSURL("live", "tls"), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	// Told to verify, it accepts the certificate as its own CA…
	if err := testsrv.PushTestPattern(s.TLSURL("backup", "verified"), time.Second, "-tls_verify", "1", "-ca_file", s.CertFile()); err != nil {
		t.Fatal(err)
	}
	// …and refuses it against the system's trust store.
	err := testsrv.PushTestPattern(s.TLSURL("backup", "refused"), time.Second, "-tls_verify", "1")
	if err == nil {
		t.Fatal("push with tls_verify=1 and no CA file succeeded against a self-signed certificate")
	}
	t.Logf("refused as expected: %v", err)

	recs := waitRecordings(t, s, 2)
	want := []string{
		filepath.Join(s.RecordDir(), "backup", "verified.flv"),
		filepath.Join(s.RecordDir(), "live", "tls.flv"),
	}
	if strings.Join(recs, " ") != strings.Join(want, " ") {
		t.Fatalf("recordings %v, want %v", recs, want)
	}
	checkPattern(t, recs[1], 2*time.Second)
	checkPattern(t, recs[0], time.Second)
}

func TestRTMPStopRestartSamePorts(t *testing.T) {
	t.Parallel()
	s := testsrv.StartRTMP(t, testsrv.RTMPOptions{RecordUnique: true})
	url, tlsURL := s.URL("live", "cam"), s.TLSURL("live", "cam")
	if err := testsrv.PushTestPattern(url, time.Second); err != nil {
		t.Fatal(err)
	}
	waitRecordings(t, s, 1)

	s.Stop()
	s.Stop() // a second Stop does nothing
	if s.Running() {
		t.Fatal("Running after Stop")
	}
	for _, addr := range []string{s.Addr(), s.TLSAddr()} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Fatalf("%s accepts connections after Stop", addr)
		}
	}
	if err := testsrv.PushTestPattern(url, time.Second); err == nil {
		t.Fatal("push to a stopped server succeeded")
	}

	s.Restart()
	if !s.Running() || s.URL("live", "cam") != url || s.TLSURL("live", "cam") != tlsURL {
		t.Fatalf("after Restart: running %v, URLs %s %s, want %s %s", s.Running(), s.URL("live", "cam"), s.TLSURL("live", "cam"), url, tlsURL)
	}
	if err := testsrv.PushTestPattern(tlsURL, time.Second); err != nil {
		t.Fatal(err)
	}
	// record_unique: the second publish of the key is a second file.
	recs := waitRecordings(t, s, 2)
	if len(recs) != 2 {
		t.Fatalf("recordings %v, want 2", recs)
	}
	for _, r := range recs {
		if !strings.HasPrefix(filepath.Base(r), "cam-") {
			t.Errorf("recording %s: want a unique name cam-<time>.flv", r)
		}
		checkPattern(t, r, time.Second)
	}
}

func TestVersityGW(t *testing.T) {
	t.Parallel()
	s := testsrv.StartVersityGW(t, "")
	if !strings.HasPrefix(s.Endpoint(), "http://127.0.0.1:") || s.Region != "us-east-1" || s.AccessKey == "" || s.SecretKey == "" {
		t.Fatalf("endpoint %q region %q keys %q/%q", s.Endpoint(), s.Region, s.AccessKey, s.SecretKey)
	}
	s.CreateBucket("media")
	if fi, err := os.Stat(filepath.Join(s.Dir(), "media")); err != nil || !fi.IsDir() {
		t.Fatalf("bucket directory: %v", err)
	}
	obj := []byte("hello, tessera")
	put := func() {
		t.Helper()
		resp, body, err := s.Do(http.MethodPut, "/media/a/b%20c.txt", obj)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT: %v %v %s", err, resp, body)
		}
	}
	get := func() {
		t.Helper()
		resp, body, err := s.Do(http.MethodGet, "/media/a/b%20c.txt", nil)
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, obj) {
			t.Fatalf("GET: %v %v %q", err, resp, body)
		}
	}
	put()
	get()
	if b, err := os.ReadFile(filepath.Join(s.Dir(), "media", "a", "b c.txt")); err != nil || !bytes.Equal(b, obj) {
		t.Fatalf("object file: %q, %v", b, err)
	}
	resp, _, err := s.Do(http.MethodGet, "/media?list-type=2&prefix=a%2F", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("ListObjectsV2: %v %v", err, resp)
	}

	// The server checks signatures: a wrong secret and no signature at all
	// are both refused.
	req, _ := http.NewRequest(http.MethodGet, s.Endpoint()+"/media/a/b%20c.txt", nil)
	testsrv.SignV4(req, nil, s.AccessKey, s.SecretKey+"x", s.Region, time.Now())
	expectRefused(t, req, "SignatureDoesNotMatch")
	req, _ = http.NewRequest(http.MethodGet, s.Endpoint()+"/media/a/b%20c.txt", nil)
	expectRefused(t, req, "AccessDenied")

	s.Stop()
	if s.Running() {
		t.Fatal("Running after Stop")
	}
	if _, _, err := s.Do(http.MethodGet, "/media/a/b%20c.txt", nil); err == nil {
		t.Fatal("request to a stopped server succeeded")
	}
	endpoint := s.Endpoint()
	s.Restart()
	if s.Endpoint() != endpoint {
		t.Fatalf("endpoint %s after Restart, want %s", s.Endpoint(), endpoint)
	}
	get()
}

func expectRefused(t *testing.T, req *http.Request, code string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body.String(), "<Code>"+code+"</Code>") {
		t.Fatalf("%s %s: %s %s, want 403 %s", req.Method, req.URL, resp.Status, body.String(), code)
	}
}

func TestProbeFileErrors(t *testing.T) {
	t.Parallel()
	if _, err := testsrv.ProbeFile(filepath.Join(t.TempDir(), "missing.flv")); err == nil {
		t.Fatal("probing a missing file succeeded")
	}
	junk := filepath.Join(t.TempDir(), "junk.flv")
	if err := os.WriteFile(junk, []byte("not a media file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := testsrv.ProbeFile(junk); err == nil {
		t.Fatal("probing a junk file succeeded")
	}
}
