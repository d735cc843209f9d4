package output

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A rendered playlist parses back to itself, MPEG-TS and fMP4, with
// discontinuities.
func TestParsePlaylistRoundTrip(t *testing.T) {
	for _, c := range []SegmentContainer{SegmentsMPEGTS, SegmentsFMP4} {
		pl := mediaPlaylist{container: c, target: 6 * time.Second, segments: []segment{
			{seq: c.firstSeq(), duration: 6006 * time.Millisecond}, {seq: c.firstSeq() + 1, duration: 2500 * time.Millisecond},
			{seq: c.firstSeq() + 2, duration: 7 * time.Second, disc: true}}}
		for _, ended := range []bool{false, true} {
			pl.ended = ended
			got, err := parsePlaylist(pl.render())
			if err != nil {
				t.Fatal(err)
			}
			got.target = pl.target // rendered as the longest segment rounded up
			if !reflect.DeepEqual(got, pl) {
				t.Errorf("%q ended %v: parsed %+v\nfrom\n%s", c, ended, got, pl.render())
			}
		}
	}
	for _, bad := range []string{"#EXTM3U\n0.ts\n", "#EXTM3U\n#EXTINF:x,\n0.ts\n", "#EXTM3U\n#EXTINF:1.0,\nseg.ts\n"} {
		if _, err := parsePlaylist([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// A recording whose work folder is gone is finalized from storage: its
// playlist becomes VOD listing what it listed, recording-failed.json says
// why and how long, a segment stored but never listed is named; a second
// call finds it done.
func TestFinalizeFromStorage(t *testing.T) {
	ctx := context.Background()
	for name, st := range listers(t) {
		t.Run(name, func(t *testing.T) {
			prefix := "stage1/comp1/dest1/composite"
			info := recordingInfo{stageARN: "arn:aws:ivs:us-east-1:123456789012:stage/stage1", sequential: true,
				r: rendition{width: 1280, height: 720, frameRate: 30, bandwidth: 2_600_000, codecs: "avc1.4d401f,mp4a.40.2"}}
			keys := recordingKeys{prefix: prefix, r: info.r}
			started := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
			put := func(key string, data []byte) {
				t.Helper()
				if err := st.Put(ctx, "rec", key, bytes.NewReader(data), int64(len(data)), ""); err != nil {
					t.Fatal(err)
				}
			}
			put(keys.started(), info.event(RecordingStarted, "", started, time.Time{}, 0))
			live := mediaPlaylist{target: 6 * time.Second, segments: []segment{{seq: 0, duration: 6 * time.Second}, {seq: 1, duration: 5500 * time.Millisecond}}}
			for _, s := range live.segments {
				put(keys.segment(s.seq), []byte("segment"))
			}
			put(keys.segment(2), []byte("segment never listed"))
			put(keys.playlist(), live.render())
			put(keys.multivariant(), multivariant(info.r))

			ended := started.Add(20 * time.Second)
			res, err := FinalizeFromStorage(ctx, st, "rec", prefix, "the server recording it is gone", ended, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Done || res.Segments != 2 || res.Duration != 11500*time.Millisecond || len(res.Unlisted) != 1 || !strings.HasSuffix(res.Unlisted[0], "/2.ts") {
				t.Errorf("result %+v", res)
			}
			read := func(key string) []byte {
				t.Helper()
				body, _, err := st.Open(ctx, "rec", key)
				if err != nil {
					t.Fatal(err)
				}
				defer body.Close()
				b, _ := io.ReadAll(body)
				return b
			}
			want := live
			want.ended = true
			if got := string(read(keys.playlist())); got != string(want.render()) || !strings.Contains(got, "#EXT-X-ENDLIST") || !strings.Contains(got, "PLAYLIST-TYPE:VOD") {
				t.Errorf("playlist:\n%s\nwant:\n%s", got, want.render())
			}
			var ev recordingEvent
			if err := json.Unmarshal(read(keys.failed()), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Status != RecordingEndedWithFailure || !strings.Contains(ev.StatusMessage, "the server recording it is gone") ||
				!strings.Contains(ev.StatusMessage, "2.ts") || ev.EndedAt != "2026-12-06T10:00:20.000Z" || ev.StartedAt != "2026-12-06T10:00:00.000Z" ||
				ev.Media == nil || ev.Media.HLS.DurationMS != 11500 || ev.Media.Thumbnails == nil || ev.StageARN != info.stageARN {
				t.Errorf("recording-failed.json: %+v", ev)
			}
			again, err := FinalizeFromStorage(ctx, st, "rec", prefix, "again", ended, nil)
			if err != nil || !again.Done {
				t.Errorf("a second call: %+v %v; want Done", again, err)
			}
			if _, err := FinalizeFromStorage(ctx, st, "rec", "stage1/none/dest/composite", "x", ended, nil); err == nil {
				t.Error("a prefix without a recording was finalized")
			}
		})
	}
}
