package e2e

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// colour is a participant's solid colour.
type colour struct {
	name string
	hex  string // "#rrggbb" for Chromium's canvas
	yuv  media.YUV
}

func newColour(name string, r, g, b byte) colour {
	return colour{name: name, hex: fmt.Sprintf("#%02x%02x%02x", r, g, b), yuv: media.RGBToYUV(r, g, b)}
}

// distance between two colours in Y'CbCr.
func distance(a, b media.YUV) float64 {
	dy, du, dv := float64(a.Y)-float64(b.Y), float64(a.U)-float64(b.U), float64(a.V)-float64(b.V)
	return math.Sqrt(dy*dy + du*du + dv*dv)
}

// maxDistance is how far a sampled colour may be from a participant's and
// still be recognized as theirs (the encoders' rounding and Chromium's
// BT.601 conversion stay within about 15; the palette's colours are over
// 100 apart).
const maxDistance = 40

// sample averages the 8×8 luma block (4×4 chroma) around (x, y).
func sample(f *media.VideoFrame, x, y int) media.YUV {
	avg := func(p, cx, cy, r int) byte {
		sum, n := 0, 0
		for yy := max(cy-r, 0); yy < min(cy+r, f.PlaneHeight(p)); yy++ {
			row := f.Row(p, yy)
			for xx := max(cx-r, 0); xx < min(cx+r, len(row)); xx++ {
				sum += int(row[xx])
				n++
			}
		}
		return byte((sum + n/2) / n)
	}
	return media.YUV{Y: avg(0, x, y, 4), U: avg(1, x/2, y/2, 2), V: avg(2, x/2, y/2, 2)}
}

// probe is one place on the canvas and the participant expected there.
type probe struct {
	x, y int
	want colour
}

// probes computes, for the layout cfg of participants ps on a canvas of
// size, one point per visible participant inside its tile and not covered
// by a window above it, with the colour expected there.
func probes(t *testing.T, size layout.Size, cfg layout.Config, ps []layout.Participant, colours map[string]colour) []probe {
	t.Helper()
	slots := layout.Arrange(size, cfg, ps)
	var out []probe
	for _, s := range slots {
		c, ok := colours[s.Participant]
		if !ok {
			t.Fatalf("no colour for participant %s", s.Participant)
		}
		covered := func(x, y int) bool {
			for _, o := range slots {
				if o.Z > s.Z && x >= o.Rect.X-8 && x < o.Rect.X+o.Rect.W+8 && y >= o.Rect.Y-8 && y < o.Rect.Y+o.Rect.H+8 {
					return true
				}
			}
			return false
		}
		r := s.Rect
		found := false
		for _, f := range [][2]float64{{0.5, 0.5}, {0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}} {
			x, y := r.X+int(float64(r.W)*f[0]), r.Y+int(float64(r.H)*f[1])
			if !covered(x, y) {
				out = append(out, probe{x: x, y: y, want: c})
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("participant %s's tile %v is covered", s.Participant, r)
		}
	}
	if len(out) != len(ps) {
		t.Fatalf("layout shows %d of %d participants", len(out), len(ps))
	}
	return out
}

// check reports how f differs from the probes ("" when it matches).
func check(f *media.VideoFrame, ps []probe, palette []colour) string {
	var bad []string
	for _, p := range ps {
		got := sample(f, p.x, p.y)
		if d := distance(got, p.want.yuv); d > maxDistance {
			who := "nobody's colour"
			best := math.Inf(1)
			for _, c := range palette {
				if d := distance(got, c.yuv); d < best && d <= maxDistance {
					best, who = d, c.name
				}
			}
			bad = append(bad, fmt.Sprintf("(%d,%d) want %s %v, got %v (%s)", p.x, p.y, p.want.name, p.want.yuv, got, who))
		}
	}
	return strings.Join(bad, "; ")
}

// waitLayout waits until the stream's newest picture shows every probe's
// colour at its place (layout changes take effect within a frame or two,
// plus the way through the encoder, nginx and the player), and fails the
// test after timeout, saving the last picture as a PNG.
func waitLayout(t *testing.T, what string, r *rtmpReader, ps []probe, palette []colour, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	last := "no picture yet"
	var f *media.VideoFrame
	for {
		if f, _ = r.Latest(); f != nil {
			if last = check(f, ps, palette); last == "" {
				t.Logf("%s: every tile shows its participant (%d probes)", what, len(ps))
				return
			}
		}
		select {
		case <-ctx.Done():
			if f != nil {
				savePNG(t, what, f)
			}
			t.Fatalf("%s: after %v the stream does not show the expected layout: %s", what, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// savePNG writes f to the test's temporary directory for a look after a
// failure.
func savePNG(t *testing.T, name string, f *media.VideoFrame) {
	img := image.NewYCbCr(image.Rect(0, 0, f.Width, f.Height), image.YCbCrSubsampleRatio420)
	for y := range f.Height {
		for x := range f.Width {
			img.Y[y*img.YStride+x] = media.FullRange(f.Row(0, y)[x], false)
		}
	}
	for y := range f.PlaneHeight(1) {
		for x := range f.PlaneWidth(1) {
			img.Cb[y*img.CStride+x] = media.FullRange(f.Row(1, y)[x], true)
			img.Cr[y*img.CStride+x] = media.FullRange(f.Row(2, y)[x], true)
		}
	}
	path := filepath.Join(os.TempDir(), "tessera-e2e-"+strings.ReplaceAll(name, " ", "-")+".png")
	out, err := os.Create(path)
	if err != nil {
		t.Log(err)
		return
	}
	defer out.Close()
	if err := png.Encode(out, img); err != nil {
		t.Log(err)
		return
	}
	t.Logf("last picture saved to %s", path)
}

// without returns ps without the participant id.
func without(ps []layout.Participant, id string) []layout.Participant {
	return slices.DeleteFunc(slices.Clone(ps), func(p layout.Participant) bool { return p.ID == id })
}
