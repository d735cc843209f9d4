package output

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// encoded is a few seconds of a composition, encoded for real: moving
// natural pictures and a tone, packets in the order an encoder emits them.
type encoded struct {
	streams []av.StreamInfo
	packets []av.Packet
	frames  []*media.VideoFrame // the canvases, for thumbnails
}

// collector is a sink that keeps every packet.
type collector struct{ packets []av.Packet }

func (c *collector) WritePacket(p av.Packet) { c.packets = append(c.packets, p) }

func encode(t *testing.T, w, h int, fps float64, d time.Duration) encoded {
	t.Helper()
	return encodeVideo(t, av.VideoConfig{Width: w, Height: h, FrameRate: fps, Bitrate: 800_000}, d)
}

// encodeVideo is encode with the video encoder configured by v.
func encodeVideo(t *testing.T, v av.VideoConfig, d time.Duration) encoded {
	t.Helper()
	w, h, fps := v.Width, v.Height, v.FrameRate
	enc, err := NewEncoder(v, av.AudioConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	enc.Attach(&c)
	frames := feed(t, enc, w, h, fps, d)
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return encoded{streams: enc.Streams(), packets: c.packets, frames: frames}
}

func newTestEncoder(t *testing.T, w, h int, fps float64) *Encoder {
	t.Helper()
	enc, err := NewEncoder(av.VideoConfig{Width: w, Height: h, FrameRate: fps, Bitrate: 800_000}, av.AudioConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// feed drives an encoder as a composition clock does for d: natural
// pictures that change every 8 frames, and a 440 Hz tone in 20 ms chunks.
// It returns the canvases.
func feed(t *testing.T, enc *Encoder, w, h int, fps float64, d time.Duration) []*media.VideoFrame {
	t.Helper()
	pictures := make([]*media.VideoFrame, 6)
	for i := range pictures {
		pictures[i] = mediatest.Natural(w, h, uint64(i+1))
	}
	var frames []*media.VideoFrame
	chunk := media.SampleRate / 50
	samples := 0
	for i := range int(d.Seconds() * fps) {
		pts := time.Duration(float64(i) / fps * float64(time.Second))
		f := media.NewVideoFrame(w, h)
		copyFrame(f, pictures[(i/8)%len(pictures)])
		f.PTS = pts
		frames = append(frames, f)
		if err := enc.Video(f); err != nil {
			t.Fatal(err)
		}
		for time.Duration(samples)*time.Second/media.SampleRate < pts+time.Second/time.Duration(fps) {
			a := media.NewAudioFrame(2, chunk)
			a.PTS = time.Duration(samples) * time.Second / media.SampleRate
			for k := range chunk {
				v := float32(0.3 * math.Sin(2*math.Pi*440*float64(samples+k)/media.SampleRate))
				a.Samples[2*k], a.Samples[2*k+1] = v, v
			}
			if err := enc.Audio(a); err != nil {
				t.Fatal(err)
			}
			samples += chunk
		}
	}
	return frames
}

// playlistEntries parses a media playlist: segment URIs and durations.
func playlistEntries(t *testing.T, b []byte) (uris []string, durs []float64, vod bool) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() || sc.Text() != "#EXTM3U" {
		t.Fatalf("not a playlist:\n%s", b)
	}
	ended := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#EXTINF:"):
			v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(line, "#EXTINF:"), ","), 64)
			if err != nil {
				t.Fatalf("bad EXTINF %q", line)
			}
			durs = append(durs, v)
		case line == "#EXT-X-PLAYLIST-TYPE:VOD":
			vod = true
		case line == "#EXT-X-ENDLIST":
			ended = true
		case line != "" && !strings.HasPrefix(line, "#"):
			uris = append(uris, line)
		}
	}
	if vod != ended {
		t.Fatalf("VOD %v but ENDLIST %v", vod, ended)
	}
	return uris, durs, vod
}

// checkRecording verifies a finished recording in a folder: the IVS key
// layout, playlists that list every segment in order, segments that decode,
// durations within the target plus one frame, and the events files.
func checkRecording(t *testing.T, c SegmentContainer, root, prefix string, target time.Duration, fps float64, w, h int) {
	t.Helper()
	base := filepath.Join(root, prefix)
	read := func(rel string) []byte { return readFile(t, filepath.Join(base, rel)) }
	mv := string(read("media/hls/multivariant.m3u8"))
	var rendDir string
	for _, l := range strings.Split(mv, "\n") {
		if strings.HasSuffix(l, "/playlist.m3u8") {
			rendDir = strings.TrimSuffix(l, "/playlist.m3u8")
		}
	}
	if !strings.HasPrefix(rendDir, fmt.Sprintf("%dp%d-", h, int(fps))) {
		t.Fatalf("multivariant names rendition %q:\n%s", rendDir, mv)
	}
	uris, durs, vod := playlistEntries(t, read("media/hls/"+rendDir+"/playlist.m3u8"))
	if !vod || len(uris) < 2 {
		t.Fatalf("final playlist: VOD %v, %d segments", vod, len(uris))
	}
	total := 0.0
	for i, u := range uris {
		if u != c.segmentName(c.firstSeq()+i) {
			t.Fatalf("segment %d is %q", i, u)
		}
		if durs[i] > target.Seconds()+1/fps+1e-6 {
			t.Errorf("segment %d lasts %.3f s, target %v", i, durs[i], target)
		}
		total += durs[i]
		path := playableSegment(t, c, filepath.Join(base, "media/hls", rendDir), u)
		decodes(t, path)
		p := testsrv.FFprobe(t, path)
		v, ok := p.Stream("video")
		if !ok || v.CodecName != "h264" || v.Width != w || v.Height != h {
			t.Errorf("segment %s: video %+v", u, v)
		}
		if a, ok := p.Stream("audio"); !ok || a.CodecName != "aac" || a.SampleRate != 48000 || a.Channels != 2 {
			t.Errorf("segment %s: audio %+v", u, a)
		}
	}
	var started, ended map[string]any
	if err := json.Unmarshal(read("events/recording-started.json"), &started); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(read("events/recording-ended.json"), &ended); err != nil {
		t.Fatal(err)
	}
	if started["recording_status"] != RecordingStarted || ended["recording_status"] != RecordingEnded {
		t.Errorf("statuses %v, %v", started["recording_status"], ended["recording_status"])
	}
	hls := ended["media"].(map[string]any)["hls"].(map[string]any)
	if got := hls["duration_ms"].(float64); math.Abs(got-total*1000) > 2 {
		t.Errorf("duration_ms %v, playlist total %.3f s", got, total)
	}
}

// playableSegment returns a file that holds segment name of the rendition
// folder dir and plays alone: the segment itself, or for fragmented MP4 the
// initialization section followed by it.
func playableSegment(t *testing.T, c SegmentContainer, dir, name string) string {
	t.Helper()
	if !c.fmp4() {
		return filepath.Join(dir, name)
	}
	path := filepath.Join(t.TempDir(), name)
	b := append(readFile(t, filepath.Join(dir, initSegment)), readFile(t, filepath.Join(dir, name))...)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// decodes checks that FFmpeg decodes all of the media file at path
// without an error.
func decodes(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("decoding %s: %v\n%s", filepath.Base(path), err, out)
	}
}

// readFile returns the contents of the file at path.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// folderSpool returns a storage folder and a spool into it.
func folderSpool(t *testing.T) (root string, sp *Spool) {
	t.Helper()
	root = t.TempDir()
	st, err := NewFolderStorage(root)
	if err != nil {
		t.Fatal(err)
	}
	sp, err = NewSpool(t.TempDir(), st, SpoolOptions{Name: "rec"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return root, sp
}

// stopRecording stops r, which must then be STOPPED.
func stopRecording(t *testing.T, r *Recording) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if r.State() != contract.StateStopped {
		t.Fatalf("state %s", r.State())
	}
}

func TestRecordingToFolder(t *testing.T) {
	const w, h, fps = 320, 180, 30.0
	e := encode(t, w, h, fps, 7*time.Second)
	root, sp := folderSpool(t)
	states := newStateLog()
	prefix := "stage1/comp1/dest1/composite"
	r, err := NewRecording(RecordingConfig{
		Name: "dest1", Spool: sp, WorkDir: filepath.Join(t.TempDir(), "rec"), Bucket: "bucket", Prefix: prefix, StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/stage1",
		Streams: e.streams, TargetSegment: 2 * time.Second, ThumbnailInterval: 2 * time.Second,
		ThumbnailSequential: true, ThumbnailLatest: true, OnState: states.on,
	})
	if err != nil {
		t.Fatal(err)
	}
	fi := 0
	for _, p := range e.packets {
		r.WritePacket(p)
		for fi < len(e.frames) && e.frames[fi].PTS <= p.PTS {
			r.Frame(e.frames[fi])
			fi++
			time.Sleep(time.Millisecond) // let thumbnails keep up, as a real-time clock would
		}
	}
	states.await(t, contract.StateActive)
	stopRecording(t, r)
	checkRecording(t, SegmentsMPEGTS, filepath.Join(root, "bucket"), prefix, 2*time.Second, fps, w, h)
	thumbs, _ := filepath.Glob(filepath.Join(root, "bucket", prefix, "media/thumbnails/320x180/*.jpg"))
	if len(thumbs) < 3 {
		t.Errorf("%d sequential thumbnails for 7 s every 2 s", len(thumbs))
	}
	if _, err := os.Stat(filepath.Join(root, "bucket", prefix, "media/latest_thumbnail/320x180/thumb.jpg")); err != nil {
		t.Error(err)
	}
}

// Storage goes away for 20 s in the middle of a recording: segments wait
// in the spool, and when storage returns every one of them arrives, in
// order, and the playlist is complete.
func TestRecordingSurvivesStorageOutage(t *testing.T) {
	const w, h, fps = 320, 180, 30.0
	e := encode(t, w, h, fps, 9*time.Second)
	s3 := testsrv.StartVersityGW(t, "")
	s3.CreateBucket("recordings")
	st, err := NewS3Storage(S3Config{Endpoint: s3.Endpoint(), Region: s3.Region, PathStyle: true, AccessKeyID: s3.AccessKey, SecretAccessKey: s3.SecretKey, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := NewSpool(t.TempDir(), st, SpoolOptions{Name: "rec", MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	prefix := "stage1/comp2/dest1/composite"
	r, err := NewRecording(RecordingConfig{Name: "dest1", Spool: sp, WorkDir: filepath.Join(t.TempDir(), "rec"), Bucket: "recordings", Prefix: prefix, Streams: e.streams, TargetSegment: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	half := len(e.packets) / 2
	for _, p := range e.packets[:half] {
		r.WritePacket(p)
	}
	s3.Stop()
	for _, p := range e.packets[half:] {
		r.WritePacket(p)
	}
	time.Sleep(20 * time.Second)
	if st := sp.Stats(); st.Items == 0 || st.Failures == 0 {
		t.Errorf("during the outage: %d items queued, %d failures", st.Items, st.Failures)
	}
	s3.Restart()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if r.State() != contract.StateStopped {
		t.Fatalf("state %s", r.State())
	}
	// versitygw's posix backend keeps objects as files: the bucket is a folder.
	checkRecording(t, SegmentsMPEGTS, filepath.Join(s3.Dir(), "recordings"), prefix, 2*time.Second, fps, w, h)
}
