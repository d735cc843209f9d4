package testsrv

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recordHLS writes a VOD playlist dir/name.m3u8 of d seconds of testsrc2
// (320×180 at 30 fps, H.264 High with B-frames, a key frame every 2 s) and
// a 440 Hz tone (AAC, 48 kHz) in 2 s segments of segType ("fmp4", with
// init file name-init.mp4 and segments name-N.mp4, or "mpegts", name-N.ts),
// as Tessera's HLS output lays them out.
func recordHLS(t *testing.T, dir, name, segType string, d int, extra ...string) {
	t.Helper()
	if err := lookBinary(FFmpegBinary, "ffmpeg"); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30",
		"-f", "lavfi", "-i", "sine=f=440:sample_rate=48000",
		"-t", fmt.Sprint(d),
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", "-g", "60", "-threads", "1",
		"-c:a", "aac",
	}
	args = append(args, extra...)
	args = append(args,
		"-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_segment_type", segType,
	)
	if segType == "fmp4" {
		args = append(args, "-hls_fmp4_init_filename", name+"-init.mp4", "-hls_segment_filename", filepath.Join(dir, name+"-%d.mp4"))
	} else {
		args = append(args, "-hls_segment_filename", filepath.Join(dir, name+"-%d.ts"))
	}
	args = append(args, filepath.Join(dir, name+".m3u8"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, FFmpegBinary, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// checkPlayed fails the test unless r ended without a fatal error, at
// duration (±0.2 s), at 320×180, having decoded most frames.
func checkPlayed(t *testing.T, r PlayResult, duration float64) {
	t.Helper()
	t.Log(r)
	if e, ok := r.Fatal(); ok {
		t.Errorf("fatal error %s", e)
	}
	if !r.Ended {
		t.Errorf("did not end: %s", r)
	}
	if math.Abs(r.Duration-duration) > 0.2 {
		t.Errorf("duration %.3f s, want %v ± 0.2", r.Duration, duration)
	}
	if math.Abs(r.CurrentTime-duration) > 0.2 {
		t.Errorf("played to %.3f s, want %v ± 0.2", r.CurrentTime, duration)
	}
	if r.VideoWidth != 320 || r.VideoHeight != 180 {
		t.Errorf("video %dx%d, want 320x180", r.VideoWidth, r.VideoHeight)
	}
	if want := int(duration * 30 * 0.55); r.TotalVideoFrames <= want {
		t.Errorf("%d frames decoded, want more than %d", r.TotalVideoFrames, want)
	}
	if len(r.Levels) != 1 {
		t.Errorf("levels %v, want one", r.Levels)
	}
}

func TestHLSPlayerFMP4(t *testing.T) {
	dir := t.TempDir()
	p := StartHLSPlayer(t, dir)
	recordHLS(t, dir, "rec", "fmp4", 6)
	r := p.Play(t, "rec.m3u8")
	checkPlayed(t, r, 6)
	if r.FragmentsLoaded < 3 || r.FragmentsPlayed != 3 || r.Discontinuities != 0 {
		t.Errorf("fragments %d loaded, %d played, %d discontinuities; want 3 segments played, none", r.FragmentsLoaded, r.FragmentsPlayed, r.Discontinuities)
	}
	if c := strings.ToLower(r.Codecs); !strings.Contains(c, "avc1.64") || !strings.Contains(c, "mp4a.40.2") {
		t.Errorf("codecs %q, want H.264 High and AAC-LC (avc1.64…,mp4a.40.2)", r.Codecs)
	}
}

func TestHLSPlayerMPEGTS(t *testing.T) {
	dir := t.TempDir()
	p := StartHLSPlayer(t, dir)
	recordHLS(t, dir, "rec", "mpegts", 6)
	checkPlayed(t, p.Play(t, "rec.m3u8"), 6)
}

// TestHLSPlayerRealTime plays at 1×: the page does not depend on a fast
// rate.
func TestHLSPlayerRealTime(t *testing.T) {
	dir := t.TempDir()
	p := StartHLSPlayer(t, dir)
	recordHLS(t, dir, "rec", "fmp4", 4)
	p.Rate = 1
	r := p.Play(t, "rec.m3u8")
	checkPlayed(t, r, 4)
	if r.Rate != 1 {
		t.Errorf("rate %v, want 1", r.Rate)
	}
}

// TestHLSPlayerDiscontinuity plays two recordings, each with its own
// timestamps from 0 and its own init section, joined by
// EXT-X-DISCONTINUITY and a new EXT-X-MAP: playback crosses it to the end.
// TestHLSPlayerDiscontinuity plays 4 s, EXT-X-DISCONTINUITY, 4 s, with
// H.264 without B-frames (as WebRTC's): playback crosses the discontinuity
// to the end, whether the second part is another recording (its own init
// section, timestamps from 0 again) or the same one (same init, timestamps
// going on).
func TestHLSPlayerDiscontinuity(t *testing.T) {
	dir := t.TempDir()
	p := StartHLSPlayer(t, dir)
	recordHLS(t, dir, "a", "fmp4", 4, "-bf", "0")
	recordHLS(t, dir, "b", "fmp4", 4, "-bf", "0")
	recordHLS(t, dir, "c", "fmp4", 8, "-bf", "0")
	c := segmentLines(t, filepath.Join(dir, "c.m3u8"))
	for _, tc := range []struct{ name, first, second string }{
		{"two recordings", strings.Join(segmentLines(t, filepath.Join(dir, "a.m3u8")), ""), strings.Join(segmentLines(t, filepath.Join(dir, "b.m3u8")), "")},
		{"one recording", c[0] + c[1] + c[2], c[3] + c[4]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeDiscontinuity(t, filepath.Join(dir, "joined.m3u8"), tc.first, tc.second)
			r := p.Play(t, "joined.m3u8")
			checkPlayed(t, r, 8)
			if r.Discontinuities != 1 || r.FragmentsPlayed != 4 {
				t.Errorf("%d fragments played, %d discontinuities; want 4 and 1", r.FragmentsPlayed, r.Discontinuities)
			}
		})
	}
}

// TestHLSPlayerDiscontinuityBFrames pins a limit of hls.js 1.7.4: with
// B-frames, the media after a discontinuity is buffered from about 0.1 s
// after the end of the media before it (at 30 fps with two B-frames). The
// player seeks over the hole, but with a hole in the buffer, hls.js never
// signals the end of the stream (no BUFFER_EOS, no endOfStream), so
// playback stalls at the last frames and never ends.
func TestHLSPlayerDiscontinuityBFrames(t *testing.T) {
	dir := t.TempDir()
	p := StartHLSPlayer(t, dir)
	recordHLS(t, dir, "c", "fmp4", 8)
	c := segmentLines(t, filepath.Join(dir, "c.m3u8"))
	writeDiscontinuity(t, filepath.Join(dir, "joined.m3u8"), c[0]+c[1]+c[2], c[3]+c[4])
	r := p.Play(t, "joined.m3u8")
	t.Log(r)
	if r.Discontinuities != 1 || r.FragmentsPlayed != 4 {
		t.Errorf("%d fragments played, %d discontinuities; want 4 and 1", r.FragmentsPlayed, r.Discontinuities)
	}
	if e, ok := r.Fatal(); ok {
		t.Errorf("fatal error %s", e)
	}
	if r.Ended || !r.Stalled || r.CurrentTime < 7.7 {
		t.Errorf("want playback stalled in the last 0.3 s (hls.js %s): %s", r.HLSJS, r)
	}
	// A stall at 8× is played again at 1× (Play), which stalls too.
	if r.Rate != 1 {
		t.Errorf("the stalled play was not played again at 1x: %s", r)
	}
}

// writeDiscontinuity writes a VOD playlist of the media lines first,
// EXT-X-DISCONTINUITY, and second.
func writeDiscontinuity(t *testing.T, file, first, second string) {
	t.Helper()
	pl := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
		first + "#EXT-X-DISCONTINUITY\n" + second + "#EXT-X-ENDLIST\n"
	if err := os.WriteFile(file, []byte(pl), 0o644); err != nil {
		t.Fatal(err)
	}
}

// segmentLines returns the EXT-X-MAP line, then each segment's EXTINF and
// URI lines, of the playlist file.
func segmentLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	seg := ""
	for l := range strings.Lines(string(b)) {
		switch {
		case strings.HasPrefix(l, "#EXT-X-MAP:"):
			out = append(out, l)
		case strings.HasPrefix(l, "#EXTINF:"):
			seg = l
		case !strings.HasPrefix(l, "#") && strings.TrimSpace(l) != "":
			out = append(out, seg+l)
		}
	}
	return out
}

// TestHLSPlayerMissingSegment plays a playlist whose second segment is
// missing: hls.js reports the 404.
func TestHLSPlayerMissingSegment(t *testing.T) {
	dir := t.TempDir()
	p := StartHLSPlayer(t, dir)
	recordHLS(t, dir, "rec", "fmp4", 6)
	if err := os.Remove(filepath.Join(dir, "rec-1.mp4")); err != nil {
		t.Fatal(err)
	}
	r := p.Play(t, "rec.m3u8")
	t.Log(r)
	found := false
	for _, e := range r.Errors {
		if e.Type == "networkError" && e.Details == "fragLoadError" && strings.Contains(e.Reason, "404") && strings.Contains(e.Reason, "rec-1.mp4") {
			found = true
		}
	}
	if !found {
		t.Errorf("errors %v, want a fragLoadError: HTTP 404 for rec-1.mp4", r.Errors)
	}
	if r.Ended && r.CurrentTime > 5.8 {
		t.Errorf("played to the end (%.3f s) without its second segment", r.CurrentTime)
	}
}

// TestHLSPlayerServesMedia checks the file server: content types, ranges,
// and nothing outside the directory.
func TestHLSPlayerServesMedia(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "media")
	for name, body := range map[string]string{
		"media/x.m3u8":   "#EXTM3U\n",
		"media/s/1.mp4":  "0123456789",
		"media/2.ts":     "ts",
		"media/other.js": "js",
		"secret.txt":     "secret",
	} {
		f := filepath.Join(parent, name)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(parent, "secret.txt"), filepath.Join(dir, "link.mp4")); err != nil {
		t.Fatal(err)
	}
	p := StartHLSPlayer(t, dir)
	for _, tc := range []struct {
		method, path, rng string
		status            int
		ctype, body       string
	}{
		{"GET", "/media/x.m3u8", "", 200, "application/vnd.apple.mpegurl", "#EXTM3U\n"},
		{"GET", "/media/s/1.mp4", "bytes=2-4", 206, "video/mp4", "234"},
		{"GET", "/media/2.ts", "", 200, "video/mp2t", "ts"},
		{"HEAD", "/media/2.ts", "", 200, "video/mp2t", ""},
		{"GET", "/media/other.js", "", 200, "application/octet-stream", "js"},
		{"GET", "/media/s/../x.m3u8", "", 200, "application/vnd.apple.mpegurl", "#EXTM3U\n"},
		{"GET", "/media/..%2fsecret.txt", "", 404, "", ""},
		{"GET", "/media/%2e%2e/secret.txt", "", 404, "", ""},
		{"GET", "/media/link.mp4", "", 404, "", ""},
		{"GET", "/media/s", "", 404, "", ""},
		{"GET", "/media/", "", 404, "", ""},
		{"GET", "/media/missing.mp4", "", 404, "", ""},
		{"PUT", "/media/x.m3u8", "", 405, "", ""},
		{"DELETE", "/media/x.m3u8", "", 405, "", ""},
	} {
		req, err := http.NewRequest(tc.method, p.URL()+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body strings.Builder
		_, _ = io.Copy(&body, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.path, resp.Status, tc.status)
			continue
		}
		if tc.status >= 300 {
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != tc.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, ct, tc.ctype)
		}
		if body.String() != tc.body {
			t.Errorf("%s %s: body %q, want %q", tc.method, tc.path, body.String(), tc.body)
		}
	}
}
