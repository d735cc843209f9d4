package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// The demo publishes four participants, records a few seconds of the grid
// and finalizes the recording: the playlist is VOD, at 1280×720 with AAC.
func TestDemo(t *testing.T) {
	data := t.TempDir()
	if err := demo([]string{"--data", data, "--duration", "4s"}); err != nil {
		t.Fatal(err)
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
