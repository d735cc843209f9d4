// Package mediatest makes synthetic media for tests and benchmarks:
// natural-looking pictures (smooth shading, edges, texture and noise, not
// flat colours) and tones.
package mediatest

import (
	"math"

	"github.com/tessera-media/tessera/media"
)

// Natural returns a width×height I420 frame that looks like camera content:
// broad gradients and blobs of light, a few hard-edged objects, fine texture
// and sensor noise, in all three planes. The same seed gives the same
// picture; different seeds give different pictures.
func Natural(width, height int, seed uint64) *media.VideoFrame {
	f := media.NewVideoFrame(width, height)
	rng := seed*0x9E3779B97F4A7C15 + 1
	next := func() float64 { // xorshift64*, uniform in [0, 1)
		rng ^= rng >> 12
		rng ^= rng << 25
		rng ^= rng >> 27
		return float64((rng*0x2545F4914F6CDD1D)>>11) / (1 << 53)
	}
	type blob struct{ x, y, r, a float64 }
	type box struct{ x0, y0, x1, y1, v float64 }
	var blobs [6]blob
	var boxes [4]box
	for i := range blobs {
		blobs[i] = blob{next(), next(), 0.1 + 0.3*next(), 60*next() - 30}
	}
	for i := range boxes {
		x, y := next(), next()
		boxes[i] = box{x, y, x + 0.1 + 0.25*next(), y + 0.1 + 0.25*next(), 50*next() - 25}
	}
	ph1, ph2, ph3 := 6*next(), 6*next(), 6*next()
	for p := range 3 {
		pw, ph := f.PlaneWidth(p), f.PlaneHeight(p)
		for y := range ph {
			row := f.Row(p, y)
			v := (float64(y) + 0.5) / float64(ph)
			for x := range row {
				u := (float64(x) + 0.5) / float64(pw)
				var s float64
				if p == 0 {
					s = 110 + 45*u - 25*v + 12*math.Sin(37*u+ph1)*math.Sin(23*v+ph2)
					for _, b := range blobs {
						d := ((u-b.x)*(u-b.x) + (v-b.y)*(v-b.y)) / (b.r * b.r)
						s += b.a * math.Exp(-d)
					}
					for _, b := range boxes {
						if u >= b.x0 && u < b.x1 && v >= b.y0 && v < b.y1 {
							s += b.v
						}
					}
					s += 8 * math.Sin(190*u+ph3) * math.Sin(170*v) // fine texture
					s += 6 * (next() - 0.5)                        // noise
				} else {
					sign := float64(3 - 2*p) // U and V drift apart
					s = 128 + sign*(18*math.Sin(4*u+ph1+float64(p))+12*math.Cos(5*v+ph2)) + 3*(next()-0.5)
					for _, b := range boxes {
						if u >= b.x0 && u < b.x1 && v >= b.y0 && v < b.y1 {
							s += sign * b.v / 2
						}
					}
				}
				row[x] = byte(min(max(s, 16), 235) + 0.5)
			}
		}
	}
	return f
}
