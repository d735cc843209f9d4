package output

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestMediaPlaylist(t *testing.T) {
	p := mediaPlaylist{target: 2 * time.Second}
	p.segments = []segment{{seq: 0, duration: 2 * time.Second}, {seq: 1, duration: 2033 * time.Millisecond}}
	got := string(p.render())
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n" +
		"#EXTINF:2.000,\n0.ts\n#EXTINF:2.033,\n1.ts\n"
	if got != want {
		t.Fatalf("recording playlist:\n%s\nwant:\n%s", got, want)
	}
	p.ended = true
	got = string(p.render())
	if !strings.Contains(got, "#EXT-X-PLAYLIST-TYPE:VOD\n") || !strings.HasSuffix(got, "1.ts\n#EXT-X-ENDLIST\n") {
		t.Fatalf("ended playlist:\n%s", got)
	}
	if p.duration() != 4033*time.Millisecond {
		t.Errorf("duration %v", p.duration())
	}
	// Exactly the target is not rounded up.
	q := mediaPlaylist{target: 6 * time.Second, segments: []segment{{seq: 0, duration: 6 * time.Second}}}
	if !strings.Contains(string(q.render()), "#EXT-X-TARGETDURATION:6\n") {
		t.Errorf("target 6 s:\n%s", q.render())
	}
}

func TestRecordingKeysAndMultivariant(t *testing.T) {
	r := rendition{width: 1280, height: 720, frameRate: 30, bandwidth: 2_628_000, codecs: "avc1.64001f,mp4a.40.2"}
	k := recordingKeys{prefix: "st1/comp1/dest1/composite", r: r}
	dir := r.dir()
	if !strings.HasPrefix(dir, "720p30-") || len(dir) != len("720p30-")+6 {
		t.Fatalf("rendition dir %q", dir)
	}
	if r.dir() != dir {
		t.Fatal("rendition dir not stable")
	}
	for got, want := range map[string]string{
		k.started():         "st1/comp1/dest1/composite/events/recording-started.json",
		k.ended():           "st1/comp1/dest1/composite/events/recording-ended.json",
		k.failed():          "st1/comp1/dest1/composite/events/recording-failed.json",
		k.multivariant():    "st1/comp1/dest1/composite/media/hls/multivariant.m3u8",
		k.playlist():        "st1/comp1/dest1/composite/media/hls/" + dir + "/playlist.m3u8",
		k.segment(12):       "st1/comp1/dest1/composite/media/hls/" + dir + "/12.ts",
		k.thumbnail(3):      "st1/comp1/dest1/composite/media/thumbnails/1280x720/3.jpg",
		k.latestThumbnail(): "st1/comp1/dest1/composite/media/latest_thumbnail/1280x720/thumb.jpg",
	} {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
	mv := string(multivariant(r))
	if !strings.Contains(mv, "RESOLUTION=1280x720") || !strings.HasSuffix(mv, "\n"+dir+"/playlist.m3u8\n") || !strings.Contains(mv, "BANDWIDTH=2628000") || !strings.Contains(mv, `CODECS="avc1.64001f,mp4a.40.2"`) {
		t.Errorf("multivariant:\n%s", mv)
	}
}

func TestRecordingEvents(t *testing.T) {
	ri := recordingInfo{stageARN: "arn:aws:ivs:us-east-1:123456789012:stage/abcdABCD1234", r: rendition{width: 1280, height: 720, frameRate: 30}, sequential: true}
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	var started, ended map[string]any
	if err := json.Unmarshal(ri.event(RecordingStarted, "", start, time.Time{}, 0), &started); err != nil {
		t.Fatal(err)
	}
	if started["recording_status"] != "RECORDING_STARTED" || started["version"] != "v1" || started["recording_started_at"] != "2026-11-24T10:00:00.000Z" {
		t.Errorf("recording-started: %v", started)
	}
	if _, ok := started["recording_ended_at"]; ok {
		t.Error("recording-started carries recording_ended_at")
	}
	if err := json.Unmarshal(ri.event(RecordingEnded, "", start, start.Add(90*time.Second), 89_933*time.Millisecond), &ended); err != nil {
		t.Fatal(err)
	}
	hls := ended["media"].(map[string]any)["hls"].(map[string]any)
	if hls["duration_ms"] != 89933.0 || hls["path"] != "media/hls" || hls["playlist"] != "multivariant.m3u8" {
		t.Errorf("hls: %v", hls)
	}
	rend := hls["renditions"].([]any)[0].(map[string]any)
	if rend["resolution_width"] != 1280.0 || rend["resolution_height"] != 720.0 || rend["path"] != ri.r.dir() {
		t.Errorf("rendition: %v", rend)
	}
	media := ended["media"].(map[string]any)
	if _, ok := media["thumbnails"]; !ok {
		t.Error("SEQUENTIAL thumbnails missing")
	}
	if _, ok := media["latest_thumbnail"]; ok {
		t.Error("latest_thumbnail present without LATEST")
	}
}

func TestMediaPlaylistFMP4(t *testing.T) {
	p := mediaPlaylist{container: SegmentsFMP4, target: 6 * time.Second, ended: true}
	p.segments = []segment{{seq: 1, duration: 6 * time.Second}, {seq: 2, duration: 2500 * time.Millisecond, disc: true}}
	got := string(p.render())
	want := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
		"#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:6.000,\n1.mp4\n#EXT-X-DISCONTINUITY\n#EXTINF:2.500,\n2.mp4\n#EXT-X-ENDLIST\n"
	if got != want {
		t.Fatalf("fMP4 playlist:\n%s\nwant:\n%s", got, want)
	}
	r := rendition{width: 640, height: 360, frameRate: 30, bandwidth: 1_000_000, codecs: "avc1.42c01e,mp4a.40.2", container: SegmentsFMP4}
	k := recordingKeys{prefix: "p", r: r}
	if k.segment(3) != "p/media/hls/"+r.dir()+"/3.mp4" || k.init() != "p/media/hls/"+r.dir()+"/init.mp4" {
		t.Errorf("keys %s, %s", k.segment(3), k.init())
	}
	if mv := string(multivariant(r)); !strings.HasPrefix(mv, "#EXTM3U\n#EXT-X-VERSION:7\n") {
		t.Errorf("multivariant:\n%s", mv)
	}
	if ContentTypeFor(k.init()) != "video/mp4" {
		t.Errorf("content type %q", ContentTypeFor(k.init()))
	}
}
