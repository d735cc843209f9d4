package compositor

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// scene is a layout with sources ready to compose.
type scene struct {
	canvas  layout.Size
	ps      []layout.Participant
	slots   []layout.Slot
	sources []*media.VideoFrame
}

func newScene(canvas layout.Size, cfg layout.Config, sizes []layout.Size, seed uint64) scene {
	s := scene{canvas: canvas}
	for i, sz := range sizes {
		p := layout.Participant{ID: fmt.Sprintf("p%d", i+1), Arrival: uint64(i), Video: sz,
			Attributes: map[string]string{"featured": "false", "pip": "false"}}
		s.ps = append(s.ps, p)
		var f *media.VideoFrame
		if sz.Known() {
			f = mediatest.Natural(sz.W, sz.H, seed+uint64(i))
		}
		s.sources = append(s.sources, f)
	}
	s.slots = layout.Arrange(canvas, cfg, s.ps)
	return s
}

func sizes(n int, sz layout.Size) []layout.Size {
	out := make([]layout.Size, n)
	for i := range out {
		out[i] = sz
	}
	return out
}

func framesEqual(a, b *media.VideoFrame) (int, int, int, bool) {
	for p := range 3 {
		for y := range a.PlaneHeight(p) {
			ra, rb := a.Row(p, y), b.Row(p, y)
			if !bytes.Equal(ra, rb) {
				for x := range ra {
					if ra[x] != rb[x] {
						return p, x, y, false
					}
				}
			}
		}
	}
	return 0, 0, 0, true
}

// everySet returns opts with each kernel set this build and CPU can run
// (one worker), then extra (the fastest set).
func everySet(extra ...Options) []Options {
	var all []Options
	for _, name := range KernelSets() {
		all = append(all, Options{Workers: 1, Kernels: name})
	}
	return append(all, extra...)
}

// Compose matches the reference on random layouts, fill modes, source sizes
// (odd ones included), ratios above and below 2:1, placeholders and PiP.
func TestComposeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	fills := []layout.FillMode{layout.Fill, layout.Cover, layout.Contain}
	for i := range 60 {
		canvas := layout.Size{W: 2 * (8 + r.IntN(400)), H: 2 * (8 + r.IntN(300))}
		var cfg layout.Config
		if r.IntN(2) == 0 {
			cfg.Grid = &layout.GridConfig{VideoFillMode: fills[r.IntN(3)], GridGap: new(r.IntN(8)), FeaturedParticipantAttribute: "featured"}
		} else {
			cfg.Pip = &layout.PipConfig{VideoFillMode: fills[r.IntN(3)], PipOffset: new(r.IntN(20))}
		}
		n := 1 + r.IntN(7)
		szs := make([]layout.Size, n)
		for k := range szs {
			szs[k] = layout.Size{W: 1 + r.IntN(900), H: 1 + r.IntN(700)}
			if r.IntN(8) == 0 {
				szs[k] = layout.Size{} // no video yet
			}
		}
		s := newScene(canvas, cfg, szs, uint64(i))
		if n > 1 && r.IntN(2) == 0 {
			s.ps[1].Attributes["featured"] = "true"
		}
		if r.IntN(3) == 0 {
			s.ps[0].VideoStopped = true
		}
		s.slots = layout.Arrange(canvas, cfg, s.ps)
		bg := media.RGBToYUV(uint8(r.IntN(256)), 30, 200)
		for _, opts := range everySet(Options{Workers: 1}, Options{Workers: 3}) {
			opts.Background = bg
			c := New(canvas, opts)
			c.SetLayout(s.slots, s.ps)
			got, want := media.NewVideoFrame(canvas.W, canvas.H), media.NewVideoFrame(canvas.W, canvas.H)
			if err := c.Compose(got, s.sources); err != nil {
				t.Fatal(err)
			}
			refCompose(c, want, s.sources)
			if p, x, y, ok := framesEqual(got, want); !ok {
				t.Fatalf("case %d (%s kernels, %d workers): canvas %v slots %+v sizes %v: plane %d (%d,%d) = %d, want %d",
					i, c.Kernels(), opts.Workers, canvas, s.slots, szs, p, x, y, got.Row(p, y)[x], want.Row(p, y)[x])
			}
			c.Close()
		}
	}
}

// The fast paths are taken where they apply: 2:1 and 4:1 in both axes are
// the fused boxes, equal sizes are copies.
func TestExactRatios(t *testing.T) {
	src := mediatest.Natural(1280, 720, 1)
	c := New(layout.Size{W: 640, H: 360}, Options{})
	defer c.Close()
	slots := []layout.Slot{{Participant: "p1", Rect: layout.Rect{W: 640, H: 360}, Fill: layout.Cover, Role: layout.RoleGrid}}
	c.SetLayout(slots, []layout.Participant{{ID: "p1", Video: layout.Size{W: 1280, H: 720}}})
	dst := media.NewVideoFrame(640, 360)
	if err := c.Compose(dst, []*media.VideoFrame{src}); err != nil {
		t.Fatal(err)
	}
	for p := range 3 {
		for y := range dst.PlaneHeight(p) {
			a, b, out := src.Row(p, 2*y), src.Row(p, 2*y+1), dst.Row(p, y)
			for x := range out {
				if want := byte((int(a[2*x]) + int(a[2*x+1]) + int(b[2*x]) + int(b[2*x+1]) + 2) >> 2); out[x] != want {
					t.Fatalf("2:1 plane %d (%d,%d) = %d, want the 2×2 mean %d", p, x, y, out[x], want)
				}
			}
		}
	}
	// 4:1 in both axes (a default PiP window on a 720p source) is the
	// fused 4×4 box: the vertical, then the horizontal 4:1 area pass.
	for _, opts := range everySet() {
		c4 := New(layout.Size{W: 320, H: 180}, opts)
		slots4 := []layout.Slot{{Participant: "p1", Rect: layout.Rect{W: 320, H: 180}, Fill: layout.Cover, Role: layout.RoleGrid}}
		c4.SetLayout(slots4, []layout.Participant{{ID: "p1", Video: layout.Size{W: 1280, H: 720}}})
		if c4.slots[0].planes[0].v != vBox4x4 {
			t.Fatalf("%s: 4:1 takes vertical pass %d, not the fused 4×4 box", c4.Kernels(), c4.slots[0].planes[0].v)
		}
		got, want := media.NewVideoFrame(320, 180), media.NewVideoFrame(320, 180)
		if err := c4.Compose(got, []*media.VideoFrame{src}); err != nil {
			t.Fatal(err)
		}
		refCompose(c4, want, []*media.VideoFrame{src})
		if p, x, y, ok := framesEqual(got, want); !ok {
			t.Fatalf("%s 4:1 plane %d (%d,%d) = %d, want %d", c4.Kernels(), p, x, y, got.Row(p, y)[x], want.Row(p, y)[x])
		}
		for p := range 3 {
			for y := range got.PlaneHeight(p) {
				out := got.Row(p, y)
				for x := range out {
					h := 0
					for sx := 4 * x; sx < 4*x+4; sx++ {
						v := 2
						for sy := 4 * y; sy < 4*y+4; sy++ {
							v += int(src.Row(p, sy)[sx])
						}
						h += v >> 2
					}
					if want := byte((h + 2) >> 2); out[x] != want {
						t.Fatalf("%s 4:1 plane %d (%d,%d) = %d, want %d", c4.Kernels(), p, x, y, out[x], want)
					}
				}
			}
		}
		c4.Close()
	}
	// 1:1 is a copy: whole rows (one run of memory per band and plane),
	// and a tile narrower than the canvas (row by row).
	slots[0].Rect = layout.Rect{W: 1280, H: 720}
	for _, opts := range everySet(Options{Workers: 3}) {
		for _, canvas := range []layout.Size{{W: 1280, H: 720}, {W: 1408, H: 720}} {
			c2 := New(canvas, opts)
			c2.SetLayout(slots, []layout.Participant{{ID: "p1", Video: layout.Size{W: 1280, H: 720}}})
			big := media.NewVideoFrame(canvas.W, canvas.H)
			if err := c2.Compose(big, []*media.VideoFrame{src}); err != nil {
				t.Fatal(err)
			}
			for p := range 3 {
				for y := range src.PlaneHeight(p) {
					if !bytes.Equal(big.Row(p, y)[:len(src.Row(p, y))], src.Row(p, y)) {
						t.Fatalf("%s, %d workers, canvas %v: 1:1 plane %d row %d is not a copy", c2.Kernels(), opts.Workers, canvas, p, y)
					}
				}
			}
			c2.Close()
		}
	}
}

func TestBackgroundBarsPlaceholderPip(t *testing.T) {
	canvas := layout.Size{W: 640, H: 360}
	bg := media.RGBToYUV(0, 0, 255)
	// p1: 4:3 in the main area with CONTAIN (bars left and right); p2: PiP window; p3 stopped.
	cfg := layout.Config{Pip: &layout.PipConfig{VideoFillMode: layout.Contain, PipParticipantAttribute: "pip"}}
	s := newScene(canvas, cfg, []layout.Size{{W: 640, H: 480}, {W: 1280, H: 720}}, 5)
	s.ps[1].Attributes["pip"] = "true"
	s.slots = layout.Arrange(canvas, cfg, s.ps)
	c := New(canvas, Options{Background: bg})
	defer c.Close()
	c.SetLayout(s.slots, s.ps)
	dst := media.NewVideoFrame(canvas.W, canvas.H)
	if err := c.Compose(dst, s.sources); err != nil {
		t.Fatal(err)
	}
	// Main tile {0 0 640 360}, picture 480x360 at x=80: bars are background.
	if y := dst.Row(0, 100); y[10] != bg.Y || y[630] != bg.Y || dst.Row(1, 50)[10] != bg.U {
		t.Errorf("CONTAIN bars are not the background colour")
	}
	if dst.Row(0, 100)[320] == bg.Y && dst.Row(0, 101)[321] == bg.Y {
		t.Errorf("no picture inside the bars")
	}
	// The PiP window {480 270 160 90} is drawn over the main picture: it equals p2 scaled alone.
	solo := New(layout.Size{W: 160, H: 90}, Options{})
	defer solo.Close()
	solo.SetLayout([]layout.Slot{{Participant: "p2", Index: 0, Rect: layout.Rect{W: 160, H: 90}, Fill: layout.Contain, Role: layout.RolePip}}, s.ps[1:])
	want := media.NewVideoFrame(160, 90)
	if err := solo.Compose(want, s.sources[1:]); err != nil {
		t.Fatal(err)
	}
	for y := range 90 {
		if !bytes.Equal(dst.Row(0, 270+y)[480:640], want.Row(0, y)) {
			t.Fatalf("PiP window row %d differs from the participant scaled alone", y)
		}
	}
	// A participant whose frame is missing shows its placeholder.
	s.sources[0] = nil
	if err := c.Compose(dst, s.sources); err != nil {
		t.Fatal(err)
	}
	if got := dst.Row(0, 10)[10]; got != PlaceholderColor.Y {
		t.Errorf("missing frame: luma %d, want the placeholder's %d", got, PlaceholderColor.Y)
	}
	if err := c.Compose(media.NewVideoFrame(64, 64), s.sources); err == nil {
		t.Error("a frame of the wrong size was accepted")
	}
}

func TestPlaceholderLabel(t *testing.T) {
	f := renderPlaceholder(320, 180, "alice")
	bright, dark := 0, 0
	for y := range 180 {
		for _, v := range f.Row(0, y) {
			switch {
			case v > 200:
				bright++
			case v == PlaceholderColor.Y:
				dark++
			}
		}
	}
	if bright < 100 || dark < 320*180*3/4 {
		t.Errorf("placeholder: %d label pixels, %d background pixels", bright, dark)
	}
	for p := 1; p < 3; p++ {
		for y := range f.PlaneHeight(p) {
			for _, v := range f.Row(p, y) {
				if v != [3]byte{0, PlaceholderColor.U, PlaceholderColor.V}[p] {
					t.Fatalf("placeholder chroma is not neutral")
				}
			}
		}
	}
	// Long labels shrink and never crash on tiny tiles.
	renderPlaceholder(40, 20, "a-very-long-user-name-that-cannot-fit")
	renderPlaceholder(2, 2, "x")
}

// The steady state allocates nothing, with and without workers.
func TestComposeAllocations(t *testing.T) {
	for _, opts := range everySet(Options{Workers: 2}) {
		cfg := layout.Config{Grid: &layout.GridConfig{FeaturedParticipantAttribute: "featured"}}
		s := newScene(layout.Size{W: 1280, H: 720}, cfg, sizes(6, layout.Size{W: 640, H: 360}), 3)
		s.ps[2].Attributes["featured"] = "true"
		s.ps[4].VideoStopped = true
		s.slots = layout.Arrange(s.canvas, cfg, s.ps)
		c := New(s.canvas, opts)
		c.SetLayout(s.slots, s.ps)
		dst := media.NewVideoFrame(1280, 720)
		if err := c.Compose(dst, s.sources); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(20, func() { _ = c.Compose(dst, s.sources) }); a != 0 {
			t.Errorf("%s kernels, %d workers: %.1f allocations per frame", c.Kernels(), opts.Workers, a)
		}
		c.Close()
	}
}
