package worker

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/output"
)

// testStage is an ingest server on loopback with the test stage open,
// serving WHIP; it is closed when the test ends.
type testStage struct {
	ing   *ingest.Server
	key   *ingest.TokenKey
	stage *ingest.Stage
	whip  string // the WHIP endpoint's URL
}

func startStage(t *testing.T) *testStage {
	t.Helper()
	key, err := ingest.NewTokenKey()
	if err != nil {
		t.Fatal(err)
	}
	ing, err := ingest.New(ingest.Config{Key: key, Loopback: true, LoopbackOnly: true, Registerer: prometheus.NewRegistry(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ing.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ing.Close(ctx)
		hs.Close()
	})
	stage, err := ing.OpenStage(stageARN, ingest.StageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &testStage{ing: ing, key: key, stage: stage, whip: hs.URL + "/whip"}
}

// token signs a publishing token for participant id (also its userId).
func (s *testStage) token(t *testing.T, id string) string {
	t.Helper()
	now := time.Now()
	tok, err := s.key.Sign(ingest.Claims{ParticipantID: id, UserID: id, StageARN: stageARN, Capabilities: ingest.Capabilities{AllowPublish: true},
		Version: ingest.TokenVersion, IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// publish starts a Go publisher as participant id (cfg's WHIP, Token and
// Logger are filled in); it is closed when the test ends, if not before.
func (s *testStage) publish(t *testing.T, id string, cfg publisher.Config) *publisher.Publisher {
	t.Helper()
	cfg.WHIP, cfg.Token, cfg.Logger = s.whip, s.token(t, id), quiet()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pub, err := publisher.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close(context.Background()) })
	return pub
}

// waitRoster waits until n participants publish decoded video.
func (s *testStage) waitRoster(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := s.stage.Roster()
		if len(r) == n && !r[n-1].VideoStopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("roster %+v, want %d publishers with video", r, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newWorker returns a worker on s whose buckets are folders under dir,
// with reg (nil: a fresh registry) and tap (nil: none).
func (s *testStage) newWorker(t *testing.T, dir string, reg *prometheus.Registry, tap func(string, []av.StreamInfo) output.PacketSink) *Worker {
	t.Helper()
	storage, err := output.NewFolderStorage(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	w, err := New(Config{Ingest: s.ing, Storage: storage, SpoolDir: filepath.Join(dir, "spool"), Logger: quiet(), Registerer: reg, Tap: tap})
	if err != nil {
		t.Fatal(err)
	}
	return w
}
