package mediatest

import (
	"math"

	"github.com/tessera-media/tessera/media"
)

// PlanePSNR compares plane p of want with the same-sized window of plane p
// of got whose top-left sample is (x0, y0) in that plane's own samples. It
// returns the peak signal-to-noise ratio in dB (+Inf when the samples are
// equal) and the largest absolute difference.
func PlanePSNR(got *media.VideoFrame, x0, y0 int, want *media.VideoFrame, p int) (db float64, maxDiff int) {
	var sum float64
	n := 0
	for y := range want.PlaneHeight(p) {
		g, w := got.Row(p, y0+y)[x0:], want.Row(p, y)
		for x := range w {
			d := int(g[x]) - int(w[x])
			sum += float64(d * d)
			maxDiff = max(maxDiff, d, -d)
			n++
		}
	}
	if sum == 0 {
		return math.Inf(1), 0
	}
	return 10 * math.Log10(255*255/(sum/float64(n))), maxDiff
}
