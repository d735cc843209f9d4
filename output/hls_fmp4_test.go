package output

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// encodeBaseline is d of a publisher's media: constrained-baseline H.264
// (parameter sets in-band, none in the stream's extradata) and AAC.
func encodeBaseline(t *testing.T, d time.Duration) encoded {
	t.Helper()
	return encodeVideo(t, av.VideoConfig{Codec: "h264-baseline", Width: 320, Height: 180, FrameRate: 30, Bitrate: 800_000}, d)
}

// A recording in fragmented MP4: an initialization section, then segments
// 1.mp4, 2.mp4 … cut on keyframes at the target duration; the playlist
// plays for as long as what was recorded.
func TestRecordingFMP4ToFolder(t *testing.T) {
	const fed = 9 * time.Second
	e := encodeBaseline(t, fed)
	if len(e.streams[0].Extradata) != 0 {
		t.Fatal("the baseline stream has a global header")
	}
	root, sp := folderSpool(t)
	states := newStateLog()
	prefix := "stage1/comp1/dest1/composite"
	const target = 4 * time.Second
	r, err := NewRecording(RecordingConfig{Name: "dest1", Spool: sp, WorkDir: filepath.Join(t.TempDir(), "rec"), Bucket: "bucket", Prefix: prefix,
		Streams: e.streams, Container: SegmentsFMP4, TargetSegment: target, OnState: states.on})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range e.packets {
		r.WritePacket(p)
	}
	states.await(t, contract.StateActive)
	stopRecording(t, r)
	base := filepath.Join(root, "bucket", prefix)
	checkRecording(t, SegmentsFMP4, filepath.Join(root, "bucket"), prefix, target, 30, 320, 180)

	mv := string(readFile(t, filepath.Join(base, "media/hls/multivariant.m3u8")))
	rendDir := ""
	for _, l := range strings.Split(mv, "\n") {
		if d, ok := strings.CutSuffix(l, "/playlist.m3u8"); ok {
			rendDir = filepath.Join(base, "media/hls", d)
		}
	}
	if !strings.Contains(mv, "#EXT-X-VERSION:7\n") || !strings.Contains(mv, `CODECS="avc1.42c0`) {
		t.Errorf("multivariant playlist:\n%s", mv)
	}
	playlist := filepath.Join(rendDir, "playlist.m3u8")
	pl := readFile(t, playlist)
	if !strings.Contains(string(pl), "#EXT-X-VERSION:7\n") || !strings.Contains(string(pl), "#EXT-X-MAP:URI=\"init.mp4\"\n") {
		t.Errorf("playlist:\n%s", pl)
	}
	uris, durs, _ := playlistEntries(t, pl)
	if strings.Join(uris, " ") != "1.mp4 2.mp4 3.mp4" {
		t.Errorf("segments %v", uris)
	}
	for i, d := range durs[:len(durs)-1] {
		if math.Abs(d-target.Seconds()) > 1.0/30+1e-6 {
			t.Errorf("segment %d lasts %.3f s, target %v", i+1, d, target)
		}
	}
	for _, u := range uris {
		var first *av.Packet
		if err := av.ReadPackets(playableSegment(t, SegmentsFMP4, rendDir, u), func(p av.Packet) error {
			if first == nil && p.Kind == av.Video {
				first = &p
			}
			return nil
		}); err != nil || first == nil || !first.Keyframe {
			t.Errorf("segment %s does not start with a keyframe (%v)", u, err)
		}
	}

	p := testsrv.FFprobe(t, playlist)
	if v, ok := p.Stream("video"); !ok || v.CodecName != "h264" || v.Width != 320 {
		t.Errorf("playlist video %+v", v)
	}
	if a, ok := p.Stream("audio"); !ok || a.CodecName != "aac" {
		t.Errorf("playlist audio %+v", a)
	}
	if math.Abs(p.Format.Duration-fed.Seconds()) > 0.5 {
		t.Errorf("playlist plays %.3f s, %v recorded", p.Format.Duration, fed)
	}
	decodes(t, playlist)
}

// A gap (a participant's publish ended and a new one resumed its
// recording): the segment before it ends with its last frame, the next
// one is marked EXT-X-DISCONTINUITY, and the playlist plays both halves
// without the time between them. The journal keeps the mark for
// RecoverRecording.
func TestRecordingFMP4Gap(t *testing.T) {
	const fed, gap = 5 * time.Second, 20 * time.Second
	e := encodeBaseline(t, fed)
	root, sp := folderSpool(t)
	prefix := "stage1/session1/participant1/2026-12-06T09-00-00Z"
	work := filepath.Join(t.TempDir(), "rec")
	r, err := NewRecording(RecordingConfig{Name: "participant1", Spool: sp, WorkDir: work, Bucket: "bucket", Prefix: prefix,
		Streams: e.streams, Container: SegmentsFMP4, TargetSegment: 2 * time.Second, SessionID: "session1", ParticipantID: "participant1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range e.packets {
		r.WritePacket(p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Gap(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range e.packets {
		p.PTS, p.DTS = p.PTS+fed+gap, p.DTS+fed+gap
		r.WritePacket(p)
	}
	// The journal marks the first segment after the gap.
	var st journalState
	for deadline := time.Now().Add(10 * time.Second); len(st.gaps) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no gap in the journal after 10 s")
		}
		st, _ = readJournal(work)
	}
	stopRecording(t, r)
	playlist := filepath.Join(root, "bucket", prefix, "media/hls/high/playlist.m3u8")
	pl := string(readFile(t, playlist))
	t.Logf("playlist:\n%s", pl)
	if strings.Count(pl, "#EXT-X-DISCONTINUITY\n") != 1 {
		t.Fatalf("want one discontinuity:\n%s", pl)
	}
	before, after, _ := strings.Cut(pl, "#EXT-X-DISCONTINUITY\n")
	uris, durs, _ := playlistEntries(t, []byte(before+after))
	var total float64
	for _, d := range durs {
		total += d
	}
	if math.Abs(total-2*fed.Seconds()) > 0.2 {
		t.Errorf("segments last %.3f s in all (%v), want %v", total, durs, 2*fed)
	}
	first := strings.Split(after, "\n")[1] // after the first EXTINF
	for seq := range st.gaps {
		if want := strconv.Itoa(seq) + ".mp4"; first != want {
			t.Errorf("the journal marks %s, the playlist %s", want, first)
		}
	}
	if p := testsrv.FFprobe(t, playlist); math.Abs(p.Format.Duration-2*fed.Seconds()) > 0.3 {
		t.Errorf("plays %.3f s, want %v (segments %v)", p.Format.Duration, 2*fed, uris)
	}
}

// A publisher's H.264 packaged as received carries no frame durations (a
// frame's is not known before the next frame): the final segment, which
// no next keyframe ends, still lasts its last frame too, so the playlist
// adds up to every frame recorded.
func TestRecordingUntimedFramesLastSegment(t *testing.T) {
	const fed = 9 * time.Second
	e := encodeBaseline(t, fed)
	root, sp := folderSpool(t)
	prefix := "stage1/stage-session/participant/start"
	r, err := NewRecording(RecordingConfig{Name: "participant", Spool: sp, WorkDir: filepath.Join(t.TempDir(), "rec"), Bucket: "bucket", Prefix: prefix,
		Streams: e.streams, Container: SegmentsFMP4, TargetSegment: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	frames := 0
	for _, p := range e.packets {
		if p.Kind == av.Video {
			p.Duration = 0
			frames++
		}
		r.WritePacket(p)
	}
	stopRecording(t, r)
	found, _ := filepath.Glob(filepath.Join(root, "bucket", prefix, "media/hls/*/playlist.m3u8"))
	if len(found) != 1 {
		t.Fatalf("playlists %v", found)
	}
	playlist := readFile(t, found[0])
	_, durs, vod := playlistEntries(t, playlist)
	total := 0.0
	for _, d := range durs {
		total += d
	}
	if want := float64(frames) / 30; !vod || len(durs) != 3 || math.Abs(total-want) > 0.002 {
		t.Errorf("segments of %v s, %.3f s in all; want 3 adding up to the %d frames' %.3f s:\n%s", durs, total, frames, want, playlist)
	}
}
