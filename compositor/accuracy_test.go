package compositor_test

import (
	"fmt"
	"image"
	"math"
	"testing"

	"github.com/tessera-media/tessera/compositor"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// minPSNR is the accuracy the compositor must reach against swscale, per
// plane, on natural-looking content.
const minPSNR = 40.0

// ratioClass is a kind of scaling, defined by the source span S and the
// destination span D of both axes.
type ratioClass struct {
	name   string
	canvas layout.Size                     // the single tile fills it (16:9)
	src    map[layout.FillMode]layout.Size // a source size per fill mode
	holds  func(s, d int) bool             // whether an axis is of the class
}

var ratioClasses = []ratioClass{
	{
		name: "1:1 copy", canvas: layout.Size{W: 640, H: 360},
		// COVER crops a 4:3 source, CONTAIN pillarboxes one.
		src:   map[layout.FillMode]layout.Size{layout.Fill: {W: 640, H: 360}, layout.Cover: {W: 640, H: 480}, layout.Contain: {W: 480, H: 360}},
		holds: func(s, d int) bool { return s == d },
	},
	{
		name: "upscale", canvas: layout.Size{W: 1280, H: 720},
		src:   map[layout.FillMode]layout.Size{layout.Fill: {W: 800, H: 576}, layout.Cover: {W: 800, H: 600}, layout.Contain: {W: 600, H: 450}},
		holds: func(s, d int) bool { return s < d },
	},
	{
		name: "bilinear (1,2)", canvas: layout.Size{W: 640, H: 360},
		src:   map[layout.FillMode]layout.Size{layout.Fill: {W: 1024, H: 504}, layout.Cover: {W: 1024, H: 768}, layout.Contain: {W: 768, H: 576}},
		holds: func(s, d int) bool { return d < s && s < 2*d && 3*s != 4*d },
	},
	{
		name: "exact 2:1", canvas: layout.Size{W: 640, H: 360},
		src:   map[layout.FillMode]layout.Size{layout.Fill: {W: 1280, H: 720}, layout.Cover: {W: 1280, H: 960}, layout.Contain: {W: 960, H: 720}},
		holds: func(s, d int) bool { return s == 2*d },
	},
	{
		name: "4→3", canvas: layout.Size{W: 960, H: 540},
		src:   map[layout.FillMode]layout.Size{layout.Fill: {W: 1280, H: 720}, layout.Cover: {W: 1280, H: 960}, layout.Contain: {W: 960, H: 720}},
		holds: func(s, d int) bool { return 3*s == 4*d },
	},
	{
		name: "area 2.4–2.7", canvas: layout.Size{W: 640, H: 360},
		src:   map[layout.FillMode]layout.Size{layout.Fill: {W: 1728, H: 864}, layout.Cover: {W: 1728, H: 1296}, layout.Contain: {W: 1296, H: 972}},
		holds: func(s, d int) bool { return s > 2*d && s%d != 0 },
	},
}

// The compositor agrees with swscale (bilinear below 2:1, area from 2:1 on,
// as the package documentation chooses its filters) to at least minPSNR
// in every plane, for every fill mode and kind of ratio, with every kernel
// set.
func TestAccuracyAgainstSwscale(t *testing.T) {
	for _, set := range compositor.KernelSets() {
		for _, class := range ratioClasses {
			for _, mode := range []layout.FillMode{layout.Fill, layout.Cover, layout.Contain} {
				t.Run(fmt.Sprintf("%s/%s/%s", set, class.name, mode), func(t *testing.T) { testAccuracy(t, set, class, mode) })
			}
		}
	}
}

func testAccuracy(t *testing.T, set string, class ratioClass, mode layout.FillMode) {
	srcSize := class.src[mode]
	ps := []layout.Participant{{ID: "p1", Video: srcSize}}
	cfg := layout.Config{Grid: &layout.GridConfig{GridGap: new(0), VideoFillMode: mode}}
	slots := layout.Arrange(class.canvas, cfg, ps)
	if len(slots) != 1 {
		t.Fatalf("%d slots, want 1", len(slots))
	}
	crop, dst := layout.Fit(slots[0].Rect, srcSize, slots[0].Fill)
	if !class.holds(crop.W, dst.W) || !class.holds(crop.H, dst.H) {
		t.Fatalf("crop %+v to %+v is not of class %s", crop, dst, class.name)
	}
	src := mediatest.Natural(srcSize.W, srcSize.H, 42)

	c := compositor.New(class.canvas, compositor.Options{Kernels: set})
	defer c.Close()
	c.SetLayout(slots, ps)
	canvas := media.NewVideoFrame(class.canvas.W, class.canvas.H)
	if err := c.Compose(canvas, []*media.VideoFrame{src}); err != nil {
		t.Fatal(err)
	}

	filter := av.Bilinear
	if crop.W >= 2*dst.W || crop.H >= 2*dst.H {
		filter = av.Area
	}
	s, err := av.NewScaler(filter)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := media.NewVideoFrame(dst.W, dst.H)
	if err := s.Scale(want, src, image.Rect(crop.X, crop.Y, crop.Right(), crop.Bottom())); err != nil {
		t.Fatal(err)
	}

	var report string
	for p, name := range []string{"Y", "U", "V"} {
		x0, y0 := dst.X, dst.Y
		if p > 0 {
			x0, y0 = x0/2, y0/2
		}
		psnr, maxDiff := mediatest.PlanePSNR(canvas, x0, y0, want, p)
		report += fmt.Sprintf("  %s %s (max |Δ| %d)", name, formatDB(psnr), maxDiff)
		if psnr < minPSNR {
			t.Errorf("plane %s: PSNR %.2f dB < %.0f dB against swscale %v", name, psnr, minPSNR, filter)
		}
	}
	t.Logf("%-15s %-7s crop %4dx%-4d → %4dx%-4d swscale %-8v%s", class.name, mode, crop.W, crop.H, dst.W, dst.H, filter, report)
}

func formatDB(v float64) string {
	if math.IsInf(v, 1) {
		return "exact"
	}
	return fmt.Sprintf("%.2f dB", v)
}
