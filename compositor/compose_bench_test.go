package compositor

import (
	"fmt"
	"testing"

	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// BenchmarkCompose measures one composed frame per scenario with this
// build's kernels. Sources rotate through enough distinct frames that they
// come from memory, not cache. The comparison with FFmpeg and libyuv lives
// in package bench.
func BenchmarkCompose(b *testing.B) {
	hd := layout.Size{W: 1280, H: 720}
	scenarios := []struct {
		name   string
		canvas layout.Size
		cfg    layout.Config
		n      int
	}{
		{"grid3x3-1080p", layout.Size{W: 1920, H: 1080}, layout.Config{Grid: &layout.GridConfig{GridGap: new(0)}}, 9},
		{"grid2x2-720p", hd, layout.Config{Grid: &layout.GridConfig{GridGap: new(0)}}, 4},
		{"grid12-gap-cover-1080p", layout.Size{W: 1920, H: 1080}, layout.Config{}, 12},
		{"contain-720p", hd, layout.Config{Grid: &layout.GridConfig{VideoFillMode: layout.Contain, VideoAspectRatio: layout.AspectSquare}}, 4},
	}
	const distinct = 4 // frame sets: 4 × 9 × 1.4 MB is far beyond any cache
	for _, sc := range scenarios {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers-%d", sc.name, workers), func(b *testing.B) {
				var sets [distinct][]*media.VideoFrame
				ps := make([]layout.Participant, sc.n)
				for i := range ps {
					ps[i] = layout.Participant{ID: fmt.Sprint(i), Arrival: uint64(i), Video: hd}
				}
				for k := range sets {
					for i := range sc.n {
						sets[k] = append(sets[k], mediatest.Natural(hd.W, hd.H, uint64(k*100+i)))
					}
				}
				c := New(sc.canvas, Options{Workers: workers})
				defer c.Close()
				c.SetLayout(layout.Arrange(sc.canvas, sc.cfg, ps), ps)
				dst := media.NewVideoFrame(sc.canvas.W, sc.canvas.H)
				b.ResetTimer()
				i := 0
				for b.Loop() {
					_ = c.Compose(dst, sets[i%distinct])
					i++
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/frame")
			})
		}
	}
}
