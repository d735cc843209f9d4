package output

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
// playlist becomes VOD listing what it listed and, after it, the stored
// segments it did not list yet (read back for their durations, a
// discontinuity before one that does not follow), recording-failed.json
// says why and how long, a stored segment that cannot be read is named; a
// second call finds it done.
func TestFinalizeFromStorage(t *testing.T) {
	ctx := context.Background()
	e := encode(t, 320, 180, 30, 2*time.Second)
	real := readFile(t, writeTS(t, e, filepath.Join(t.TempDir(), "seg.ts")))
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
			put(keys.segment(2), real) // uploaded, its playlist not
			put(keys.segment(4), real) // 3 was lost
			put(keys.segment(5), []byte("not a segment"))
			put(keys.playlist(), live.render())
			put(keys.multivariant(), multivariant(info.r))

			ended := started.Add(20 * time.Second)
			scratch := t.TempDir()
			res, err := FinalizeFromStorage(ctx, st, "rec", prefix, "the server recording it is gone", ended, scratch, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Done || res.Segments != 4 || res.Duration != 15500*time.Millisecond || !slices.Equal(res.Adopted, []string{info.r.dir() + "/2.ts", info.r.dir() + "/4.ts"}) ||
				len(res.Unlisted) != 1 || !strings.HasSuffix(res.Unlisted[0], "/5.ts") {
				t.Errorf("result %+v", res)
			}
			if left, _ := os.ReadDir(scratch); len(left) > 0 {
				t.Errorf("%d files left in scratch", len(left))
			}
			// What a stop while finalizing leaves there goes at start-up.
			stray := filepath.Join(scratch, "adopt-123.ts")
			if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := RemoveAdoptScratch(scratch); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a stray read-back file stayed: %v", err)
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
			want.segments = append(slices.Clone(want.segments), segment{seq: 2, duration: 2 * time.Second}, segment{seq: 4, duration: 2 * time.Second, disc: true})
			want.ended = true
			if got := string(read(keys.playlist())); got != string(want.render()) || !strings.Contains(got, "#EXT-X-ENDLIST") || !strings.Contains(got, "PLAYLIST-TYPE:VOD") {
				t.Errorf("playlist:\n%s\nwant:\n%s", got, want.render())
			}
			var ev recordingEvent
			if err := json.Unmarshal(read(keys.failed()), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Status != RecordingEndedWithFailure || !strings.Contains(ev.StatusMessage, "the server recording it is gone") ||
				!strings.Contains(ev.StatusMessage, "5.ts") || ev.EndedAt != "2026-12-06T10:00:20.000Z" || ev.StartedAt != "2026-12-06T10:00:00.000Z" ||
				ev.Media == nil || ev.Media.HLS.DurationMS != 15500 || ev.Media.Thumbnails == nil || ev.StageARN != info.stageARN {
				t.Errorf("recording-failed.json: %+v", ev)
			}
			again, err := FinalizeFromStorage(ctx, st, "rec", prefix, "again", ended, scratch, nil)
			if err != nil || !again.Done {
				t.Errorf("a second call: %+v %v; want Done", again, err)
			}
			if _, err := FinalizeFromStorage(ctx, st, "rec", "stage1/none/dest/composite", "x", ended, scratch, nil); err == nil {
				t.Error("a prefix without a recording was finalized")
			}
		})
	}
}

// A participant recording (fragmented MP4) whose playlist never reached
// storage is finalized from its stored init.mp4 and segments.
func TestFinalizeFromStorageFMP4WithoutPlaylist(t *testing.T) {
	ctx := context.Background()
	files := t.TempDir()
	writeFMP4(t, encodeBaseline(t, 4*time.Second), files)
	st, err := NewFolderStorage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	prefix := "stage1/session1/participant1"
	info := recordingInfo{stageARN: "arn:aws:ivs:us-east-1:123456789012:stage/stage1", sequential: true,
		r: rendition{width: 320, height: 180, frameRate: 30, bandwidth: 900_000, codecs: "avc1.42c01e", container: SegmentsFMP4, individual: true}}
	keys := recordingKeys{prefix: prefix, r: info.r}
	put := func(key string, data []byte) {
		t.Helper()
		if err := st.Put(ctx, "rec", key, bytes.NewReader(data), int64(len(data)), ""); err != nil {
			t.Fatal(err)
		}
	}
	started := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	put(keys.started(), info.event(RecordingStarted, "", started, time.Time{}, 0))
	for _, name := range []string{initSegment, "1.mp4", "2.mp4"} {
		put(keys.renditionDir()+"/"+name, readFile(t, filepath.Join(files, name)))
	}
	res, err := FinalizeFromStorage(ctx, st, "rec", prefix, "gone", started.Add(5*time.Second), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The first fragment's first sample lasts 21 ms longer than a frame
	// (the MP4 muxer's edit of its start): each segment lasts 2 s ± 25 ms.
	if res.Segments != 2 || (res.Duration-4*time.Second).Abs() > 50*time.Millisecond || len(res.Adopted) != 2 || len(res.Unlisted) != 0 {
		t.Errorf("result %+v", res)
	}
	pl, found, err := readPlaylist(ctx, st, "rec", keys.playlist())
	if err != nil || !found {
		t.Fatal(found, err)
	}
	ok := pl.container == SegmentsFMP4 && pl.target == SegmentsFMP4.defaultTarget() && pl.ended && len(pl.segments) == 2
	for i, s := range pl.segments {
		ok = ok && s.seq == i+1 && !s.disc && (s.duration-2*time.Second).Abs() <= 25*time.Millisecond
	}
	if !ok {
		t.Errorf("playlist %+v, want fMP4 VOD listing 1.mp4 and 2.mp4 of 2 s each", pl)
	}
}
