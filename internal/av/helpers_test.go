package av

import (
	"math/rand/v2"

	"github.com/tessera-media/tessera/media"
)

// flat returns a w×h frame of one colour.
func flat(w, h int, c media.YUV) *media.VideoFrame {
	f := media.NewVideoFrame(w, h)
	f.Fill(c)
	return f
}

// noise returns a w×h frame of uniformly random samples.
func noise(w, h int, seed uint64) *media.VideoFrame {
	r := rand.New(rand.NewPCG(seed, seed+1))
	f := media.NewVideoFrame(w, h)
	for p := range 3 {
		for y := range f.PlaneHeight(p) {
			for x, row := 0, f.Row(p, y); x < len(row); x++ {
				row[x] = byte(r.IntN(256))
			}
		}
	}
	return f
}

// positional returns a w×h frame whose samples encode their position, so
// that a wrong offset shows.
func positional(w, h int) *media.VideoFrame {
	f := media.NewVideoFrame(w, h)
	for p := range 3 {
		for y := range f.PlaneHeight(p) {
			for x, row := 0, f.Row(p, y); x < len(row); x++ {
				row[x] = byte(x*7 + y*13 + p*50)
			}
		}
	}
	return f
}
