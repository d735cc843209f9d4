package worker

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/output"
)

// downStorage refuses every Put.
type downStorage struct{}

func (downStorage) Put(context.Context, string, string, io.ReadSeeker, int64, string) error {
	return errors.New("storage down")
}

// Recover uploads what a spool left behind and removes its folder; a
// stray work folder without a manifest is removed.
func TestRecoverDrainsLeftSpools(t *testing.T) {
	dir := t.TempDir()
	left := filepath.Join(dir, "spool", "Comp00000001-Dest00000001")
	sp, err := output.NewSpool(left, downStorage{}, output.SpoolOptions{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"p/media/hls/0.ts", "p/media/hls/1.ts"} {
		if err := sp.Enqueue("rec", key, []byte("segment"), "", nil); err != nil {
			t.Fatal(err)
		}
	}
	sp.Close()
	stray := filepath.Join(dir, "recordings", "Comp00000002-Dest00000001")
	if err := os.MkdirAll(stray, 0o755); err != nil {
		t.Fatal(err)
	}

	key, _ := ingest.NewTokenKey()
	ing, err := ingest.New(ingest.Config{Key: key, Loopback: true, LoopbackOnly: true, Registerer: prometheus.NewRegistry(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ing.Close(ctx)
	}()
	storage, err := output.NewFolderStorage(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Config{Ingest: ing, Storage: storage, SpoolDir: filepath.Join(dir, "spool"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Recover(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("stray work folder: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := os.Stat(left)
		if os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("left spool not drained")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, key := range []string{"p/media/hls/0.ts", "p/media/hls/1.ts"} {
		if b, err := os.ReadFile(filepath.Join(dir, "buckets", "rec", key)); err != nil || string(b) != "segment" {
			t.Errorf("%s: %q %v", key, b, err)
		}
	}
}
