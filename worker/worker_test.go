package worker

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tessera-media/tessera/control"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/output"
)

const stageARN = "arn:aws:ivs:us-east-1:123456789012:stage/WorkerStage1"

type reporter struct {
	mu     sync.Mutex
	active bool
	states map[string][]string
	failed string
}

func (r *reporter) Active() { r.mu.Lock(); r.active = true; r.mu.Unlock() }
func (r *reporter) Destination(id, state, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.states == nil {
		r.states = map[string][]string{}
	}
	r.states[id] = append(r.states[id], state)
}
func (r *reporter) Failed(reason string) { r.mu.Lock(); r.failed = reason; r.mu.Unlock() }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Two Go publishers (solid colours, tones) on a stage; a composition
// records HLS into a folder for three seconds: the recording is complete,
// at the encoder configuration's size and rate, with AAC audio.
func TestCompositionRecords(t *testing.T) {
	key, _ := ingest.NewTokenKey()
	ing, err := ingest.New(ingest.Config{Key: key, Loopback: true, LoopbackOnly: true, Registerer: prometheus.NewRegistry(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ing.Handler())
	defer hs.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ing.Close(ctx)
	}()
	stage, _ := ing.OpenStage(stageARN, ingest.StageOptions{})
	for i, c := range []media.YUV{media.RGBToYUV(200, 30, 30), media.RGBToYUV(30, 30, 200)} {
		now := time.Now()
		tok, _ := key.Sign(ingest.Claims{ParticipantID: "p" + string(rune('1'+i)), StageARN: stageARN, Capabilities: ingest.Capabilities{AllowPublish: true},
			Version: ingest.TokenVersion, IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()})
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		pub, err := publisher.Start(ctx, publisher.Config{WHIP: hs.URL + "/whip", Token: tok, Color: &c, ToneHz: 440 * float64(i+1), Logger: quiet()})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close(context.Background())
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(stage.Roster()) < 2 || stage.Roster()[1].VideoStopped {
		if time.Now().After(deadline) {
			t.Fatal("publishers not decoded")
		}
		time.Sleep(20 * time.Millisecond)
	}

	dir := t.TempDir()
	storage, err := output.NewFolderStorage(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	w, err := New(Config{Now: ing.Now, Storage: storage, SpoolDir: filepath.Join(dir, "spool"), Logger: quiet(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	spec := control.CompositionSpec{ARN: "arn:aws:ivs:us-east-1:123456789012:composition/Comp00000001", ID: "Comp00000001",
		StageARN: stageARN, Stage: stage, Layout: layout.Config{}.WithDefaults(),
		Destinations: []control.DestinationSpec{{ID: "Dest00000001", Bucket: "rec", RecordingPrefix: "WorkerStage1/Comp00000001/Dest00000001/composite",
			Encoder:       control.EncoderSpec{Width: 640, Height: 360, Framerate: 30, Bitrate: 1_000_000},
			TargetSegment: 2 * time.Second, ThumbnailInterval: time.Second, ThumbnailStorage: []string{"SEQUENTIAL"}}}}
	var r reporter
	p, err := w.Start(context.Background(), spec, &r)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	// About 30 canvases per second were composed, each timed.
	if n := testutil.ToFloat64(w.metrics.composed.WithLabelValues("Comp00000001")); n < 75 || n > 95 {
		t.Errorf("%v canvases composed in 3 s at 30 fps", n)
	}
	if n := testutil.CollectAndCount(w.metrics.compose); n != 1 {
		t.Errorf("%d compose-time series, want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	states, active := r.states["Dest00000001"], r.active
	r.mu.Unlock()
	if !active || len(states) == 0 || states[len(states)-1] != "STOPPED" {
		t.Fatalf("active %v, destination states %v", active, states)
	}
	root := filepath.Join(dir, "buckets", "rec", "WorkerStage1/Comp00000001/Dest00000001/composite")
	if _, err := os.Stat(filepath.Join(root, "events", "recording-ended.json")); err != nil {
		t.Fatal(err)
	}
	var playlist string
	_ = filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "playlist.m3u8" {
			playlist = path
		}
		return nil
	})
	b, err := os.ReadFile(playlist)
	if err != nil || !strings.Contains(string(b), "#EXT-X-ENDLIST") {
		t.Fatalf("playlist %s: %v\n%s", playlist, err, b)
	}
	probe := testsrv.FFprobe(t, filepath.Join(filepath.Dir(playlist), "0.ts"))
	v, okV := probe.Stream("video")
	a, okA := probe.Stream("audio")
	if !okV || v.Width != 640 || v.Height != 360 || !okA || a.CodecName != "aac" || a.SampleRate != 48000 {
		t.Errorf("segment 0: %+v", probe)
	}
	full := testsrv.FFprobe(t, playlist)
	if d := full.Format.Duration; d < 2.5 || d > 3.6 {
		t.Errorf("recorded %.2f s in 3 s", d)
	}
}
