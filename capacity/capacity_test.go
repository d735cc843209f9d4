package capacity

import (
	"math"
	"testing"
)

// The model gives back the benchmark's figures it was calibrated from,
// and the 1080p ones it was not (within 5 %).
func TestCalibration(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"720p30 veryfast composition", Composition(1280, 720, 30, "veryfast"), 0.38},
		{"720p30 superfast composition", Composition(1280, 720, 30, "superfast"), 0.24},
		{"720p30 ultrafast composition", Composition(1280, 720, 30, "ultrafast"), 0.22},
		{"1080p30 veryfast composition (not calibrated on)", Composition(1920, 1080, 30, "veryfast"), 0.85},
		{"six 360p30 publishers", 6 * Publisher(640, 360, 30), 0.18},
		{"twelve 720p30 publishers", 12 * Publisher(1280, 720, 30), 0.57},
	} {
		if math.Abs(c.got-c.want) > 0.05*c.want {
			t.Errorf("%s: %.3f cores, want %.3f", c.name, c.got, c.want)
		}
	}
	if Publisher(0, 0, 0) <= 0 || Publisher(0, 0, 0) >= Publisher(640, 360, 30) {
		t.Errorf("an audio-only publisher costs %.4f, a 360p one %.4f", Publisher(0, 0, 0), Publisher(640, 360, 30))
	}
	if Composition(1280, 720, 30, "nonsense") != Composition(1280, 720, 30, "veryfast") {
		t.Error("an unknown preset does not count as veryfast")
	}
}
