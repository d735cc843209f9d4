package bench

import (
	"fmt"
	"image"
	"strings"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// ffmpegPeer composes with an FFmpeg filter graph, written the way a user
// of FFmpeg would write it: every tile is
//
//	[inK]crop=w:h:x:y,scale=W:H:flags=bilinear[tK]
//
// and the tiles are placed by
//
//	[t0][t1]…xstack=inputs=N:layout=x0_y0|x1_y1|…:fill=0xRRGGBB
//
// which paints the uncovered pixels with the background. xstack's output
// reaches from (0, 0) to the furthest tile edge, so a pad to the canvas
// size follows when the tiles stop short of its right or bottom edge. One
// tile is scaled and then padded (xstack wants two inputs or more); no
// tile is a color source.
//
// The benchmark's specification is "scale with bilinear + xstack", so every
// tile uses flags=bilinear, whatever its ratio: swscale's bilinear widens
// its kernel to the source footprint when downscaling, which is the usual
// choice of users, and area would be an extra decision users rarely make.
//
// The graph runs single-threaded: av.Graph sets nb_threads = 1, and scale
// gives its swscale contexts the graph's thread count.
type ffmpegPeer struct {
	graph  *av.Graph
	tiles  []tile
	inputs []*media.VideoFrame // per graph input: the tile's source, reused every frame
	desc   string
}

// newFFmpegPeer builds the filter graph for tiles of sources of size
// srcSize drawn on a canvas over the background bg.
func newFFmpegPeer(canvas layout.Size, srcSize layout.Size, tiles []tile, bg media.YUV) (peer, error) {
	if !canvas.Known() || canvas.W%2 != 0 || canvas.H%2 != 0 {
		return nil, fmt.Errorf("bench: ffmpeg peer: canvas %dx%d (must be even and positive)", canvas.W, canvas.H)
	}
	if len(tiles) > 0 && !srcSize.Known() {
		return nil, fmt.Errorf("bench: ffmpeg peer: source size %dx%d", srcSize.W, srcSize.H)
	}
	full := layout.Rect{W: srcSize.W, H: srcSize.H}
	area := layout.Rect{W: canvas.W, H: canvas.H}
	for i, t := range tiles {
		if t.crop.Empty() || !t.crop.In(full) || t.dst.Empty() || !t.dst.In(area) || t.src < 0 {
			return nil, fmt.Errorf("bench: ffmpeg peer: tile %d: crop %+v of a %dx%d source to %+v on a %dx%d canvas",
				i, t.crop, srcSize.W, srcSize.H, t.dst, canvas.W, canvas.H)
		}
	}
	desc := ffmpegDescription(canvas, tiles, bg, func(i int, _ tile) string { return fmt.Sprintf("in%d", i) })
	sizes := make([]image.Point, len(tiles))
	for i := range sizes {
		sizes[i] = image.Pt(srcSize.W, srcSize.H)
	}
	g, err := av.NewGraph(desc, sizes)
	if err != nil {
		return nil, fmt.Errorf("bench: ffmpeg peer: %w", err)
	}
	return &ffmpegPeer{graph: g, tiles: tiles, inputs: make([]*media.VideoFrame, len(tiles)), desc: desc}, nil
}

// ffmpegDescription writes the filter graph description; input names the
// pad that feeds tile i (an in-process graph's input, or the ffmpeg
// command's "K:v").
func ffmpegDescription(canvas layout.Size, tiles []tile, bg media.YUV, input func(i int, t tile) string) string {
	colour := ffmpegColour(bg)
	if len(tiles) == 0 {
		return fmt.Sprintf("color=c=%s:s=%dx%d:r=30", colour, canvas.W, canvas.H)
	}
	var b strings.Builder
	right, bottom := 0, 0
	for i, t := range tiles {
		fmt.Fprintf(&b, "[%s]crop=%d:%d:%d:%d,scale=%d:%d:flags=bilinear[t%d];",
			input(i, t), t.crop.W, t.crop.H, t.crop.X, t.crop.Y, t.dst.W, t.dst.H, i)
		right, bottom = max(right, t.dst.Right()), max(bottom, t.dst.Bottom())
	}
	if len(tiles) == 1 {
		t := tiles[0]
		fmt.Fprintf(&b, "[t0]pad=%d:%d:%d:%d:color=%s", canvas.W, canvas.H, t.dst.X, t.dst.Y, colour)
		return b.String()
	}
	pos := make([]string, len(tiles))
	for i, t := range tiles {
		fmt.Fprintf(&b, "[t%d]", i)
		pos[i] = fmt.Sprintf("%d_%d", t.dst.X, t.dst.Y)
	}
	fmt.Fprintf(&b, "xstack=inputs=%d:layout=%s:fill=%s", len(tiles), strings.Join(pos, "|"), colour)
	if right < canvas.W || bottom < canvas.H {
		fmt.Fprintf(&b, ",pad=%d:%d:0:0:color=%s", canvas.W, canvas.H, colour)
	}
	return b.String()
}

// ffmpegColour returns the 0xRRGGBB colour that FFmpeg 5.1's drawing code
// (xstack's fill, pad, color) turns into c, or a close one when no RGB
// colour gives c exactly. That code converts RGB to limited-range YCbCr
// with BT.601 coefficients in 10-bit fixed point, whatever the stream's
// colour space; ffmpegYUV mirrors it. The search runs around the exact
// inverse, so a colour outside what RGB reaches gets a close neighbour.
func ffmpegColour(c media.YUV) string {
	// Start from the exact BT.601 inverse and search around it.
	y, u, v := float64(c.Y)-16, float64(c.U)-128, float64(c.V)-128
	r0 := 255.0 / 219 * y
	r := r0 + 255.0/224*1.402*v
	g := r0 - 255.0/224*(0.344136*u+0.714136*v)
	bl := r0 + 255.0/224*1.772*u
	best, bestErr := [3]int{}, 1<<30
	for dr := -3; dr <= 3; dr++ {
		for dg := -3; dg <= 3; dg++ {
			for db := -3; db <= 3; db++ {
				cand := [3]int{ffmpegClamp(r + float64(dr)), ffmpegClamp(g + float64(dg)), ffmpegClamp(bl + float64(db))}
				got := ffmpegYUV(cand[0], cand[1], cand[2])
				dy, du, dv := int(got.Y)-int(c.Y), int(got.U)-int(c.U), int(got.V)-int(c.V)
				if e := 4*dy*dy + du*du + dv*dv; e < bestErr {
					best, bestErr = cand, e
				}
			}
		}
	}
	return fmt.Sprintf("0x%02X%02X%02X", best[0], best[1], best[2])
}

func ffmpegClamp(v float64) int {
	return min(max(int(v+0.5), 0), 255)
}

// ffmpegYUV is FFmpeg's RGB to limited-range BT.601 YCbCr conversion for
// drawing (libavutil/colorspace.h, the _CCIR variants): coefficients scaled
// by 2^10 and rounded, sums rounded, right shifts arithmetic.
func ffmpegYUV(r, g, b int) media.YUV {
	const bits = 10
	fix := func(x float64) int { return int(x*(1<<bits) + 0.5) }
	const half = 1 << (bits - 1)
	y := (fix(0.29900*219/255)*r + fix(0.58700*219/255)*g + fix(0.11400*219/255)*b + half + 16<<bits) >> bits
	u := ((-fix(0.16874*224/255)*r - fix(0.33126*224/255)*g + fix(0.50000*224/255)*b + half - 1) >> bits) + 128
	v := ((fix(0.50000*224/255)*r - fix(0.41869*224/255)*g - fix(0.08131*224/255)*b + half - 1) >> bits) + 128
	return media.YUV{Y: byte(y), U: byte(u), V: byte(v)}
}

// compose runs the graph on the tiles' sources. The sources must have the
// size the peer was made for; dst must be the canvas.
func (p *ffmpegPeer) compose(dst *media.VideoFrame, sources []*media.VideoFrame) error {
	for i, t := range p.tiles {
		if t.src >= len(sources) || sources[t.src] == nil {
			return fmt.Errorf("bench: ffmpeg peer: tile %d: no source %d", i, t.src)
		}
		p.inputs[i] = sources[t.src]
	}
	if err := p.graph.Run(dst, p.inputs); err != nil {
		return fmt.Errorf("bench: ffmpeg peer: %w", err)
	}
	return nil
}

// close frees the graph.
func (p *ffmpegPeer) close() {
	p.graph.Close()
}

var _ peer = (*ffmpegPeer)(nil)
