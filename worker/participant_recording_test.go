package worker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

// Through the worker's RecordParticipant, a Go publisher's H.264 is
// recorded as received into fragmented-MP4 HLS
// with its tone as AAC: the playlist plays (ffprobe: h264 at the
// publisher's size and aac, the recorded duration) and decodes without an
// error.
func TestParticipantRecording(t *testing.T) {
	ts := startStage(t)
	c := media.RGBToYUV(200, 30, 30)
	ts.publish(t, "p1", publisher.Config{Codec: "h264", Width: 320, Height: 180, Color: &c, ToneHz: 440})
	ts.waitRoster(t, 1)
	dir := t.TempDir()
	w := ts.newWorker(t, dir, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep := &reporter{}
	rec, err := w.RecordParticipant(ctx, contract.ParticipantRecordingSpec{StageARN: stageARN, SessionID: "st-session", ParticipantID: "p1",
		Bucket: "b", Prefix: "stage/session/p1/2026-12-06T08-00-00Z", TargetSegment: 2 * time.Second}, rep)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	time.Sleep(5 * time.Second)
	if err := rec.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	recorded := time.Since(start)
	rep.mu.Lock()
	states := rep.states["p1"]
	rep.mu.Unlock()
	if !rep.active || len(states) == 0 || states[len(states)-1] != contract.StateStopped {
		t.Errorf("reported active %v, states %v", rep.active, states)
	}
	root := filepath.Join(dir, "buckets", "b", "stage/session/p1/2026-12-06T08-00-00Z")
	playlist := filepath.Join(root, "media/hls/high/playlist.m3u8")
	pl, err := os.ReadFile(playlist)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"media/hls/multivariant.m3u8", "media/hls/high/init.mp4", "media/hls/high/1.mp4", "events/recording-started.json"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("IVS layout: %v", err)
		}
	}
	ended, err := os.ReadFile(filepath.Join(root, "events/recording-ended.json"))
	if err != nil || !strings.Contains(string(ended), `"participant_id": "p1"`) || !strings.Contains(string(ended), `"session_id": "st-session"`) ||
		strings.Contains(string(ended), "resolution") {
		t.Errorf("recording-ended.json: %v\n%s", err, ended)
	}
	t.Logf("%s:\n%s", playlist, pl)
	p := testsrv.FFprobe(t, playlist)
	v, ok := p.Stream("video")
	if !ok || v.CodecName != "h264" || v.Width != 320 || v.Height != 180 {
		t.Errorf("video %+v", v)
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
}
