package output

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// switchStorage refuses every Put while down.
type switchStorage struct {
	st   Storage
	down atomic.Bool
}

func (s *switchStorage) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, contentType string) error {
	if s.down.Load() {
		return errors.New("storage down")
	}
	return s.st.Put(ctx, bucket, key, body, size, contentType)
}

// copyTree copies the files of src into a new folder dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// crashMedia is what crashedRecording records in container c: 8 s of a
// composition for MPEG-TS (2 s segments); for fragmented MP4, 15 s of a
// publisher's constrained-baseline H.264 with keyframes every 4 s (4 s
// segments, so that the segment being written has whole fragments on
// disk).
func crashMedia(t *testing.T, c SegmentContainer) (e encoded, segment time.Duration) {
	if !c.fmp4() {
		return encode(t, 320, 180, 30, 8*time.Second), 2 * time.Second
	}
	return encodeVideo(t, av.VideoConfig{Codec: "h264-baseline", Width: 320, Height: 180, FrameRate: 30, Bitrate: 800_000,
		KeyframeInterval: 4 * time.Second}, 15*time.Second), 4 * time.Second
}

// crashedRecording records e (from crashMedia) in container c until
// storage has the first segment, then with storage down until the second
// and third are spooled and the fourth is being written, and returns copies
// of the work and spool folders as a crash would have left them (the last
// bytes of the fourth segment cut off: half a TS packet, or half a
// fragment), and the storage folder.
func crashedRecording(t *testing.T, c SegmentContainer, e encoded, segment time.Duration, prefix string) (work, spool, root string) {
	t.Helper()
	root = t.TempDir()
	folder, err := NewFolderStorage(root)
	if err != nil {
		t.Fatal(err)
	}
	st := &switchStorage{st: folder}
	live := t.TempDir()
	sp := mustNewSpool(t, filepath.Join(live, "spool"), st, spoolTestOptions(t, nil))
	r, err := NewRecording(RecordingConfig{Name: "dest1", Spool: sp, WorkDir: filepath.Join(live, "rec"), Bucket: "bucket", Prefix: prefix,
		StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/stage1", Streams: e.streams, Container: c, TargetSegment: segment,
		KeyframeInterval: segment, ThumbnailInterval: 2 * time.Second, ThumbnailSequential: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = r.Stop(ctx) // storage stays down: the copies are what matters
	}()
	pi, fi := 0, 0
	write := func(until time.Duration) { // the packets before until
		for ; pi < len(e.packets) && e.packets[pi].PTS < until; pi++ {
			p := e.packets[pi]
			r.WritePacket(p)
			for fi < len(e.frames) && e.frames[fi].PTS <= p.PTS {
				r.Frame(e.frames[fi])
				fi++
			}
		}
	}
	first := c.firstSeq()
	write(segment + time.Second)
	testsrv.WaitFor(t, 5*time.Second, "the first segment in storage", func() bool {
		j, _ := readJournal(filepath.Join(live, "rec"))
		return j.uploaded[first]
	})
	st.down.Store(true)
	// Segments 2 and 3 closed, 4 under way: 1 s of it, or for fMP4 2.5 s
	// (two whole fragments and a part of one in memory).
	inLast := time.Second
	if c.fmp4() {
		inLast = 2500 * time.Millisecond
	}
	write(3*segment + inLast)
	last := c.segmentName(first + 3)
	testsrv.WaitFor(t, 5*time.Second, "segments 2 and 3 spooled, 4 being written", func() bool {
		j, _ := readJournal(filepath.Join(live, "rec"))
		b, err := os.ReadFile(filepath.Join(live, "rec", last))
		if c.fmp4() {
			return len(j.segments) == 3 && err == nil && strings.Count(string(b), "moof") >= 2
		}
		return len(j.segments) == 3 && err == nil && len(b) > 20_000
	})
	time.Sleep(200 * time.Millisecond) // the rest of the queue
	crash := t.TempDir()
	work, spool = filepath.Join(crash, "rec"), filepath.Join(crash, "spool")
	copyTree(t, filepath.Join(live, "rec"), work)
	copyTree(t, filepath.Join(live, "spool"), spool)
	info, err := os.Stat(filepath.Join(work, last))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(work, last), info.Size()-100); err != nil {
		t.Fatal(err)
	}
	return work, spool, root
}

func TestRecoverRecording(t *testing.T) {
	t.Run("mpegts", func(t *testing.T) { testRecoverRecording(t, SegmentsMPEGTS) })
	t.Run("fmp4", func(t *testing.T) { testRecoverRecording(t, SegmentsFMP4) })
}

func testRecoverRecording(t *testing.T, c SegmentContainer) {
	const w, h = 320, 180
	e, segment := crashMedia(t, c)
	prefix := "stage1/comp1/dest1/composite"
	work, spoolDir, root := crashedRecording(t, c, e, segment, prefix)
	first := c.firstSeq()
	journal, err := readJournal(work)
	if err != nil || len(journal.segments) != 3 || !journal.uploaded[first] || journal.uploaded[first+1] {
		t.Fatalf("journal at the crash: %+v, %v", journal, err)
	}

	folder, err := NewFolderStorage(root)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := newSpoolTestMetrics(t)
	sp := mustNewSpool(t, spoolDir, folder, spoolTestOptions(t, m))
	if got := spoolMetric(t, m.recovered, "bucket"); got < 2 {
		t.Errorf("tessera_upload_recovered_total %v, want ≥ 2 (segments 1 and 2)", got)
	}
	res, err := RecoverRecording(work, sp, spoolTestOptions(t, nil).Logger)
	if err != nil {
		t.Fatal(err)
	}
	if res.Segments != 4 || !res.Salvaged || len(res.Lost) != 0 {
		t.Fatalf("recovered %+v, want 4 segments with the salvaged one, none lost", res)
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("work folder left: %v", err)
	}
	drainWithin(t, sp, 10*time.Second)
	sp.Close()
	if _, err := os.Stat(spoolDir); !os.IsNotExist(err) {
		t.Errorf("drained spool folder left: %v", err)
	}

	base := filepath.Join(root, "bucket", prefix)
	read := func(rel string) []byte { return readFile(t, filepath.Join(base, rel)) }
	rendDir := ""
	for _, l := range strings.Split(string(read("media/hls/multivariant.m3u8")), "\n") {
		if d, ok := strings.CutSuffix(l, "/playlist.m3u8"); ok {
			rendDir = d
		}
	}
	uris, durs, vod := playlistEntries(t, read("media/hls/"+rendDir+"/playlist.m3u8"))
	var want []string
	for i := range 4 {
		want = append(want, c.segmentName(first+i))
	}
	if !vod || strings.Join(uris, " ") != strings.Join(want, " ") {
		t.Fatalf("playlist: VOD %v, %v", vod, uris)
	}
	total := 0.0
	for i, u := range uris {
		total += durs[i]
		path := playableSegment(t, c, filepath.Join(base, "media/hls", rendDir), u)
		decodes(t, path)
		p := testsrv.FFprobe(t, path)
		if v, ok := p.Stream("video"); !ok || v.Width != w || v.Height != h {
			t.Errorf("segment %s: video %+v", u, v)
		}
	}
	if durs[3] < 0.5 || durs[3] > 1.1 {
		t.Errorf("salvaged segment lasts %.3f s, recorded about 1 s of it", durs[3])
	}
	var failed recordingEvent
	if err := json.Unmarshal(read("events/recording-failed.json"), &failed); err != nil {
		t.Fatal(err)
	}
	if failed.Status != RecordingEndedWithFailure || !strings.Contains(failed.StatusMessage, "server stopped") ||
		failed.Media == nil || failed.Media.Thumbnails == nil || math.Abs(float64(failed.Media.HLS.DurationMS)-total*1000) > 2 {
		t.Errorf("recording-failed.json: %+v (playlist total %.3f s)", failed, total)
	}
	read("media/thumbnails/320x180/0.jpg") // kept
	if _, err := os.Stat(filepath.Join(base, "events/recording-ended.json")); err == nil {
		t.Error("recording-ended.json after a crash")
	}
}

// A segment being written with no complete frame is lost, and said so.
func TestRecoverRecordingLosesAnEmptySegment(t *testing.T) {
	t.Run("mpegts", func(t *testing.T) { testRecoverRecordingLosesAnEmptySegment(t, SegmentsMPEGTS) })
	t.Run("fmp4", func(t *testing.T) { testRecoverRecordingLosesAnEmptySegment(t, SegmentsFMP4) })
}

func testRecoverRecordingLosesAnEmptySegment(t *testing.T, c SegmentContainer) {
	e, segment := crashMedia(t, c)
	prefix := "stage1/comp1/dest1/composite"
	work, spoolDir, root := crashedRecording(t, c, e, segment, prefix)
	last := c.segmentName(c.firstSeq() + 3)
	if err := os.Truncate(filepath.Join(work, last), 0); err != nil {
		t.Fatal(err)
	}
	folder, err := NewFolderStorage(root)
	if err != nil {
		t.Fatal(err)
	}
	sp := mustNewSpool(t, spoolDir, folder, spoolTestOptions(t, nil))
	res, err := RecoverRecording(work, sp, spoolTestOptions(t, nil).Logger)
	if err != nil {
		t.Fatal(err)
	}
	if res.Segments != 3 || res.Salvaged || strings.Join(res.Lost, " ") != last {
		t.Fatalf("recovered %+v, want 3 segments and %s lost", res, last)
	}
	drainWithin(t, sp, 10*time.Second)
	b, err := os.ReadFile(filepath.Join(root, "bucket", prefix, "events/recording-failed.json"))
	if err != nil || !strings.Contains(string(b), "segments lost: "+last) {
		t.Errorf("recording-failed.json (%v): %s", err, b)
	}
}

// A work folder without a manifest (a crash before the recording started)
// is removed and nothing spooled.
func TestRecoverRecordingWithoutManifest(t *testing.T) {
	work := filepath.Join(t.TempDir(), "rec")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	sp := mustNewSpool(t, t.TempDir(), &switchStorage{}, spoolTestOptions(t, nil))
	if res, err := RecoverRecording(work, sp, nil); err != nil || res.Segments != 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("work folder left: %v", err)
	}
	if st := sp.Stats(); st.Items != 0 {
		t.Errorf("%d objects spooled", st.Items)
	}
}

func TestSalvageSegment(t *testing.T) {
	e := encode(t, 320, 180, 30, 2*time.Second)
	full := writeTS(t, e, filepath.Join(t.TempDir(), "full.ts"))
	b, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	frames := func(path string) int { return videoPackets(t, path) }
	all := frames(full)
	for _, tc := range []struct {
		name string
		size int
		ok   bool
	}{
		{"empty", 0, false},
		{"headers only", 188 * 2, false},
		{"half, mid-packet", len(b)/2 + 77, true},
		{"whole", len(b), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "3.ts")
			if err := os.WriteFile(path, b[:tc.size], 0o600); err != nil {
				t.Fatal(err)
			}
			d, ok, err := SalvageSegment(path, e.streams)
			if ok != tc.ok {
				t.Fatalf("ok %v (err %v), want %v", ok, err, tc.ok)
			}
			if !ok {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := frames(path)
			if got < 1 || got >= all || d <= 0 || d > 2*time.Second {
				t.Errorf("salvaged %d of %d frames, %v", got, all, d)
			}
			if want := time.Duration(got) * time.Second / 30; (d - want).Abs() > time.Millisecond {
				t.Errorf("duration %v for %d frames", d, got)
			}
			if v, ok := testsrv.FFprobe(t, path).Stream("video"); !ok || v.Width != 320 {
				t.Errorf("salvaged segment: video %+v", v)
			}
			// Salvaging again keeps a valid segment.
			if _, ok, err := SalvageSegment(path, e.streams); !ok || err != nil {
				t.Errorf("salvaging again: %v %v", ok, err)
			}
		})
	}
}

// videoPackets counts the video packets in the media file at path.
func videoPackets(t *testing.T, path string) int {
	t.Helper()
	n := 0
	if err := av.ReadPackets(path, func(p av.Packet) error {
		if p.Kind == av.Video {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// A fragmented MP4 segment cut short keeps its whole fragments.
func TestSalvageSegmentFMP4(t *testing.T) {
	e := encodeBaseline(t, 4*time.Second)
	dir := t.TempDir()
	writeFMP4(t, e, dir)
	// The second segment, 2 s from a keyframe on, is the one being written.
	init, b := readFile(t, filepath.Join(dir, initSegment)), readFile(t, filepath.Join(dir, "2.mp4"))
	frames := func(dir string) int { return videoPackets(t, playableSegment(t, SegmentsFMP4, dir, "2.mp4")) }
	all := frames(dir)
	if all != 60 {
		t.Fatalf("%d frames in the segment, want 60", all)
	}
	moof := int(binary.BigEndian.Uint32(b))
	fragment := moof + int(binary.BigEndian.Uint32(b[moof:])) // the first, moof and mdat
	if fragment >= len(b) {
		t.Fatalf("one fragment of %d bytes in the segment", fragment)
	}
	for _, tc := range []struct {
		name string
		size int
		ok   bool
	}{
		{"empty", 0, false},
		{"moof only", moof, false},
		{"one fragment and a half", fragment + (len(b)-fragment)/2, true},
		{"whole", len(b), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "2.mp4")
			if err := os.WriteFile(filepath.Join(dir, initSegment), init, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b[:tc.size], 0o600); err != nil {
				t.Fatal(err)
			}
			d, ok, err := SalvageSegment(path, e.streams)
			if ok != tc.ok {
				t.Fatalf("ok %v (err %v), want %v", ok, err, tc.ok)
			}
			if !ok {
				if got := readFile(t, path); len(got) != tc.size {
					t.Errorf("a lost segment was rewritten: %d bytes of %d", len(got), tc.size)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := frames(dir)
			if got < 1 || got > all || tc.size < len(b) && got == all || d <= 0 || d > 2*time.Second {
				t.Errorf("salvaged %d of %d frames, %v", got, all, d)
			}
			if want := time.Duration(got) * time.Second / 30; (d - want).Abs() > time.Millisecond {
				t.Errorf("duration %v for %d frames", d, got)
			}
			if s := readFile(t, path); wholeFragments(s) != len(s) || !bytes.HasPrefix(b, s) {
				t.Errorf("salvaged segment of %d bytes is not whole fragments of the original", len(s))
			}
			decodes(t, playableSegment(t, SegmentsFMP4, dir, "2.mp4"))
			// Salvaging again keeps a valid segment.
			if d2, ok, err := SalvageSegment(path, e.streams); !ok || err != nil || d2 != d {
				t.Errorf("salvaging again: %v %v %v", d2, ok, err)
			}
		})
	}
}

// writeFMP4 writes e into dir as a fragmented MP4 recording does: init.mp4
// and a segment 1.mp4, 2.mp4 … from each video keyframe.
func writeFMP4(t *testing.T, e encoded, dir string) {
	t.Helper()
	streams := slices.Clone(e.streams)
	var mux *av.Muxer
	seq := 1
	for _, p := range e.packets {
		if p.Kind == av.Video && p.Keyframe {
			if mux == nil {
				streams[0].Extradata = av.H264ParameterSets(p.Data)
				var err error
				if mux, err = av.NewMuxer("mp4", filepath.Join(dir, initSegment), av.MuxOptions{FormatOptions: av.FragmentedMP4(fragmentDuration)}, streams...); err != nil {
					t.Fatal(err)
				}
			}
			if err := mux.NextFile(filepath.Join(dir, SegmentsFMP4.segmentName(seq))); err != nil {
				t.Fatal(err)
			}
			seq++
		}
		if mux == nil {
			continue
		}
		if err := mux.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := mux.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeTS writes e's packets into an MPEG-TS file at path and returns path.
func writeTS(t *testing.T, e encoded, path string) string {
	t.Helper()
	mux, err := av.NewMuxer("mpegts", path, av.MuxOptions{}, e.streams...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range e.packets {
		if err := mux.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := mux.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
