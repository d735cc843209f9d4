package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// `tessera demo` (what `make demo` runs) publishes four participants,
// records a few seconds of the grid and finalizes the recording: the
// playlist is VOD, at 1280×720 with AAC.
func TestDemo(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, tesseraBin, "demo", "--data", data, "--duration", "4s").CombinedOutput(); err != nil {
		t.Fatalf("tessera demo: %v\n%s", err, out)
	}
	var playlist string
	_ = filepath.Walk(filepath.Join(data, "buckets", "demo"), func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "playlist.m3u8" {
			playlist = path
		}
		return nil
	})
	b, err := os.ReadFile(playlist)
	if err != nil || !strings.Contains(string(b), "#EXT-X-ENDLIST") {
		t.Fatalf("playlist %q: %v\n%s", playlist, err, b)
	}
	p := testsrv.FFprobe(t, playlist)
	v, okV := p.Stream("video")
	a, okA := p.Stream("audio")
	if !okV || v.Width != 1280 || v.Height != 720 || !okA || a.CodecName != "aac" {
		t.Errorf("recording %+v", p)
	}
	if p.Format.Duration < 2 {
		t.Errorf("only %.1f s recorded", p.Format.Duration)
	}
}
