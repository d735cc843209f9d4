package worker

import (
	"testing"

	"github.com/tessera-media/tessera/contract"
)

// x264 runs on one thread up to 720p30 at the fast presets and keeps its
// own threads for anything larger or slower.
func TestEncoderThreads(t *testing.T) {
	for _, c := range []struct {
		w, h   int
		fps    float64
		preset string
		want   int
	}{
		{1280, 720, 30, "veryfast", 1},
		{1280, 720, 30, "", 1},
		{640, 360, 30, "medium", 1},
		{1280, 720, 30, "medium", 0},
		{1280, 720, 60, "veryfast", 0},
		{1920, 1080, 30, "ultrafast", 0},
	} {
		if got := encoderThreads(contract.EncoderSpec{Width: c.w, Height: c.h, Framerate: c.fps}, c.preset); got != c.want {
			t.Errorf("%dx%d@%v %q: %d threads, want %d", c.w, c.h, c.fps, c.preset, got, c.want)
		}
	}
}
