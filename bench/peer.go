package bench

import (
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// tile is one participant's placement on the canvas: the source crop and
// the destination rectangle that layout.Fit gives, both even-aligned, in
// luma pixels.
type tile struct {
	src  int         // index into the sources passed to compose
	crop layout.Rect // within the source frame
	dst  layout.Rect // within the canvas
}

// peer is another implementation of the compositor's per-frame work, run on
// the same inputs: paint the canvas background, then scale every tile's crop
// of its source into its destination rectangle, in order.
type peer interface {
	compose(dst *media.VideoFrame, sources []*media.VideoFrame) error
	close()
}
