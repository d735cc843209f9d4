package worker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

// Through the worker's RecordParticipant, Go publishers are recorded into
// fragmented-MP4 HLS with IVS's individual layout: H.264 as received, VP8
// transcoded to H.264 at its size, the tone as AAC, or the tone alone
// (AUDIO_ONLY). The publishers send a keyframe every 30 s unless asked, so
// segments of about the 2 s target show the recorder asking for them.
// The playlists play (ffprobe: codecs, the publisher's size, the recorded
// duration), decode without an error, and the thumbnails are JPEGs.
func TestParticipantRecording(t *testing.T) {
	ts := startStage(t)
	c := media.RGBToYUV(200, 30, 30)
	ts.publish(t, "p264", publisher.Config{Codec: "h264", Width: 320, Height: 180, Color: &c, ToneHz: 440, KeyframeInterval: 30 * time.Second})
	ts.publish(t, "pvp8", publisher.Config{Codec: "vp8", Width: 320, Height: 240, Color: &c, ToneHz: 660, KeyframeInterval: 30 * time.Second})
	ts.waitRoster(t, 2)
	dir := t.TempDir()
	w := ts.newWorker(t, dir, nil, nil)
	for _, tc := range []struct {
		name, participant string
		audioOnly         bool
		w, h              int
	}{
		{"h264", "p264", false, 320, 180},
		{"vp8", "pvp8", false, 320, 240},
		{"audio-only", "p264", true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rep := &reporter{}
			prefix := "stage/session/" + tc.participant + "/" + tc.name
			rec, err := w.RecordParticipant(ctx, contract.ParticipantRecordingSpec{StageARN: stageARN, SessionID: "st-session", ParticipantID: tc.participant,
				Bucket: "b", Prefix: prefix, TargetSegment: 2 * time.Second, AudioOnly: tc.audioOnly,
				ThumbnailInterval: time.Second, ThumbnailStorage: []string{"SEQUENTIAL", "LATEST"}}, rep)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			time.Sleep(7 * time.Second)
			if err := rec.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			recorded := time.Since(start)
			rep.mu.Lock()
			states := rep.states[tc.participant]
			rep.mu.Unlock()
			if !rep.active || len(states) == 0 || states[len(states)-1] != contract.StateStopped {
				t.Errorf("reported active %v, states %v", rep.active, states)
			}
			root := filepath.Join(dir, "buckets", "b", prefix)
			playlist := filepath.Join(root, "media/hls/high/playlist.m3u8")
			pl, err := os.ReadFile(playlist)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s:\n%s", playlist, pl)
			files := []string{"media/hls/multivariant.m3u8", "media/hls/high/init.mp4", "media/hls/high/1.mp4", "events/recording-started.json"}
			if !tc.audioOnly {
				files = append(files, "media/thumbnails/high/1.jpg", "media/latest_thumbnail/high/thumb.jpg")
			}
			for _, f := range files {
				if _, err := os.Stat(filepath.Join(root, f)); err != nil {
					t.Errorf("IVS layout: %v", err)
				}
			}
			if tc.audioOnly {
				if _, err := os.Stat(filepath.Join(root, "media/thumbnails")); err == nil {
					t.Error("an audio-only recording has thumbnails")
				}
			}
			ended, err := os.ReadFile(filepath.Join(root, "events/recording-ended.json"))
			if err != nil || !strings.Contains(string(ended), `"participant_id": "`+tc.participant+`"`) ||
				!strings.Contains(string(ended), `"session_id": "st-session"`) || strings.Contains(string(ended), "resolution") {
				t.Errorf("recording-ended.json: %v\n%s", err, ended)
			}
			// Every segment but the last lasts the target within the
			// keyframe's round trip.
			var durations []float64
			for _, m := range regexp.MustCompile(`#EXTINF:([0-9.]+),`).FindAllStringSubmatch(string(pl), -1) {
				d, _ := strconv.ParseFloat(m[1], 64)
				durations = append(durations, d)
			}
			if len(durations) < 3 {
				t.Fatalf("%d segments in %v", len(durations), recorded)
			}
			for i, d := range durations[:len(durations)-1] {
				if d < 1.5 || d > 2.4 {
					t.Errorf("segment %d lasts %.3f s, target 2 s", i+1, d)
				}
			}
			p := testsrv.FFprobe(t, playlist)
			v, ok := p.Stream("video")
			switch {
			case tc.audioOnly && ok:
				t.Errorf("audio-only recording has video %+v", v)
			case !tc.audioOnly && (!ok || v.CodecName != "h264" || v.Width != tc.w || v.Height != tc.h):
				t.Errorf("video %+v, want h264 %dx%d", v, tc.w, tc.h)
			}
			if a, ok := p.Stream("audio"); !ok || a.CodecName != "aac" {
				t.Errorf("audio %+v", a)
			}
			if d := p.Format.Duration; d < recorded.Seconds()-1.5 || d > recorded.Seconds()+0.5 {
				t.Errorf("duration %.2f s, recorded for %v", d, recorded)
			}
			if out, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", playlist, "-f", "null", "-").CombinedOutput(); err != nil {
				t.Errorf("decoding: %v: %s", err, out)
			}
			if !tc.audioOnly {
				if out, err := exec.Command("ffprobe", "-v", "error", filepath.Join(root, "media/thumbnails/high/1.jpg")).CombinedOutput(); err != nil {
					t.Errorf("thumbnail: %v: %s", err, out)
				}
			}
		})
	}
}

// A participant that stops publishing and publishes again (the reconnect
// window) goes on in the same recording: one EXT-X-DISCONTINUITY, the
// playlist lasting what was published without the gap, decoding without
// an error. A new publish in another codec cannot go on in it.
func TestParticipantRecordingResume(t *testing.T) {
	ts := startStage(t)
	dir := t.TempDir()
	w := ts.newWorker(t, dir, nil, nil)
	c := media.RGBToYUV(30, 200, 30)
	for _, codec := range []string{"h264", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			id := "resume-" + codec
			cfg := publisher.Config{Codec: codec, Width: 320, Height: 180, Color: &c, ToneHz: 440}
			pub := ts.publish(t, id, cfg)
			waitPublishing(t, ts, id)
			prefix := "stage/session/" + id + "/2026-12-06T09-00-00Z"
			rec, err := w.RecordParticipant(ctx, contract.ParticipantRecordingSpec{StageARN: stageARN, SessionID: "st-session", ParticipantID: id,
				Bucket: "b", Prefix: prefix, TargetSegment: 2 * time.Second}, &reporter{})
			if err != nil {
				t.Fatal(err)
			}
			published := time.Now()
			time.Sleep(3 * time.Second)
			_ = pub.Close(ctx)
			first := time.Since(published)
			waitGone(t, ts, id)
			time.Sleep(2 * time.Second) // the gap

			other := map[string]string{"h264": "vp8", "vp8": "h264"}[codec]
			wrong := cfg
			wrong.Codec = other
			pub = ts.publish(t, id, wrong)
			waitPublishing(t, ts, id)
			if err := rec.Resume(ctx); err == nil || !strings.Contains(err.Error(), "cannot go on") {
				t.Errorf("resuming a %s recording with %s: %v", codec, other, err)
			}
			_ = pub.Close(ctx)
			waitGone(t, ts, id)

			ts.publish(t, id, cfg)
			waitPublishing(t, ts, id)
			if err := rec.Resume(ctx); err != nil {
				t.Fatal(err)
			}
			resumed := time.Now()
			time.Sleep(3 * time.Second)
			if err := rec.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			second := time.Since(resumed)
			playlist := filepath.Join(dir, "buckets", "b", prefix, "media/hls/high/playlist.m3u8")
			pl, err := os.ReadFile(playlist)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s", pl)
			if n := strings.Count(string(pl), "#EXT-X-DISCONTINUITY\n"); n != 1 {
				t.Errorf("%d discontinuities, want 1", n)
			}
			want := (first + second).Seconds()
			if p := testsrv.FFprobe(t, playlist); p.Format.Duration < want-1.5 || p.Format.Duration > want+0.5 {
				t.Errorf("plays %.2f s, published %.2f s (a %v gap between)", p.Format.Duration, want, 2*time.Second)
			}
			if out, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", playlist, "-enc_time_base", "-1", "-f", "null", "-").CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("decoding: %v: %s", err, out)
			}
		})
	}
}

// waitPublishing waits until participant id is on the stage with video.
func waitPublishing(t *testing.T, ts *testStage, id string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		for _, p := range ts.stage.Roster() {
			if p.ID == id && !p.VideoStopped {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not publishing video after 10 s", id)
		}
	}
}

// waitGone waits until participant id has left the stage.
func waitGone(t *testing.T, ts *testStage, id string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ts.stage.Participant(id) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still on the stage after 10 s", id)
		}
	}
}
