package output

import (
	"math"
	"path/filepath"
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
