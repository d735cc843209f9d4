package av

import (
	"errors"
	"fmt"
	"image"
	"strconv"
	"strings"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/media"
)

// Graph runs an FFmpeg filter graph in-process: N ≥ 0 I420 buffer sources
// of fixed sizes feed a description such as
//
//	[in0]crop=640:360:0:0,scale=320:180:flags=bilinear[a];[a][in1]hstack
//
// whose one output goes through format=yuv420p into a buffersink. The
// sources are labelled [in0] … [inN-1]; the output is the description's
// last unlabelled output pad, or the pad labelled [out]. Without sources
// the description starts from a generator (color, testsrc). The graph runs
// single-threaded (nb_threads = 1, which scale also takes for swscale).
//
// The n-th frame pushed to a source is stamped PTS n (in a 1/30 s time
// base), so filters that synchronise inputs (xstack, overlay) see the frames
// of one Run as one instant. A Graph is not safe for concurrent use.
type Graph struct {
	graph  *astiav.FilterGraph
	srcs   []*astiav.FilterContext
	sink   *astiav.FilterContext
	sizes  []image.Point
	in     []*astiav.Frame
	out    *astiav.Frame
	pts    []int64 // the next PTS of each source
	closed bool
}

// NewGraph builds and configures the graph for desc with one buffer source
// per entry of inputs (its picture size).
func NewGraph(desc string, inputs []image.Point) (g *Graph, err error) {
	for i, sz := range inputs {
		if sz.X < 1 || sz.Y < 1 {
			return nil, fmt.Errorf("av: new graph: input %d: size %dx%d", i, sz.X, sz.Y)
		}
	}
	g = &Graph{graph: astiav.AllocFilterGraph(), sizes: append([]image.Point(nil), inputs...), out: astiav.AllocFrame()}
	defer func() {
		if err != nil {
			g.Close()
			g = nil
		}
	}()
	if g.graph == nil || g.out == nil {
		return g, errors.New("av: new graph: allocation failed")
	}
	// Must be set before any filter is added.
	g.graph.SetThreadCount(1)

	buffer, sink := astiav.FindFilterByName("buffer"), astiav.FindFilterByName("buffersink")
	if buffer == nil || sink == nil {
		return g, errors.New("av: new graph: FFmpeg has no buffer or buffersink filter")
	}
	var outputs *astiav.FilterInOut // the graph's open outputs: our sources
	defer func() {
		if outputs != nil {
			outputs.Free()
		}
	}()
	for i := len(inputs) - 1; i >= 0; i-- {
		sz := inputs[i]
		fc, err := g.graph.NewFilterContext(buffer, "in"+strconv.Itoa(i), astiav.FilterArgs{
			"video_size":   fmt.Sprintf("%dx%d", sz.X, sz.Y),
			"pix_fmt":      strconv.Itoa(int(astiav.PixelFormatYuv420P)),
			"time_base":    "1/30",
			"pixel_aspect": "1/1",
		})
		if err != nil {
			return g, fmt.Errorf("av: new graph: buffer source %d (%dx%d): %w", i, sz.X, sz.Y, err)
		}
		g.srcs = append(g.srcs, fc)
		o := astiav.AllocFilterInOut()
		o.SetName("in" + strconv.Itoa(i))
		o.SetFilterContext(fc)
		o.SetPadIdx(0)
		o.SetNext(outputs)
		outputs = o
	}
	// Sources were created last to first; index them first to last.
	for i, j := 0, len(g.srcs)-1; i < j; i, j = i+1, j-1 {
		g.srcs[i], g.srcs[j] = g.srcs[j], g.srcs[i]
	}
	if g.sink, err = g.graph.NewFilterContext(sink, "sink", nil); err != nil {
		return g, fmt.Errorf("av: new graph: buffersink: %w", err)
	}
	inputsIO := astiav.AllocFilterInOut() // the graph's open input: the sink
	defer inputsIO.Free()
	inputsIO.SetName("sink")
	inputsIO.SetFilterContext(g.sink)
	inputsIO.SetPadIdx(0)
	inputsIO.SetNext(nil)

	if err := g.graph.Parse(fullDescription(desc), inputsIO, outputs); err != nil {
		// A failed parse frees every filter of the graph, ours included.
		g.srcs, g.sink = nil, nil
		return g, fmt.Errorf("av: new graph: parsing %q: %w", desc, err)
	}
	if err := g.graph.Configure(); err != nil {
		return g, fmt.Errorf("av: new graph: configuring %q (%s): %w", desc, inputLabels(len(inputs)), err)
	}
	for range inputs {
		f := astiav.AllocFrame()
		if f == nil {
			return g, errors.New("av: new graph: allocating frames failed")
		}
		g.in = append(g.in, f)
	}
	g.pts = make([]int64, len(inputs))
	return g, nil
}

// fullDescription puts a format=yuv420p filter, labelled to take the
// description's [out], in front of the sink. The chain comes first so that
// the description's last chain may leave its output unlabelled (FFmpeg
// then calls it [out]); sws_flags, which must open a description, stays in
// front.
func fullDescription(desc string) string {
	const sink = "[out]format=pix_fmts=yuv420p[sink];"
	d := strings.TrimSpace(desc)
	if strings.HasPrefix(d, "sws_flags=") {
		if i := strings.IndexByte(d, ';'); i >= 0 {
			return d[:i+1] + sink + d[i+1:]
		}
	}
	return sink + d
}

// inputLabels says which labels a description with n sources must use.
func inputLabels(n int) string {
	switch n {
	case 0:
		return "no sources"
	case 1:
		return "the source is [in0]"
	}
	return fmt.Sprintf("the sources are [in0] … [in%d], each used once", n-1)
}

// Inputs returns the number of sources.
func (g *Graph) Inputs() int { return len(g.sizes) }

// Push sends f to source i. Its size must be the one given to NewGraph.
func (g *Graph) Push(i int, f *media.VideoFrame) error {
	if g == nil || g.closed {
		return fmt.Errorf("av: graph push: %w", ErrClosed)
	}
	if i < 0 || i >= len(g.srcs) {
		return fmt.Errorf("av: graph push: input %d of %d", i, len(g.srcs))
	}
	if err := checkVideoFrame(f); err != nil {
		return fmt.Errorf("av: graph push: input %d: %w", i, err)
	}
	if sz := g.sizes[i]; f.Width != sz.X || f.Height != sz.Y {
		return fmt.Errorf("av: graph push: input %d is %dx%d, frame %dx%d", i, sz.X, sz.Y, f.Width, f.Height)
	}
	in := g.in[i]
	if err := CopyToAV(in, f); err != nil {
		return fmt.Errorf("av: graph push: input %d: %w", i, err)
	}
	in.SetPts(g.pts[i])
	g.pts[i]++
	// KEEP_REF: the graph takes a new reference and ours stays, so the
	// buffer is reused when the graph has let go of it by the next Push.
	if err := g.srcs[i].BuffersrcAddFrame(in, astiav.NewBuffersrcFlags(astiav.BuffersrcFlagKeepRef)); err != nil {
		return fmt.Errorf("av: graph push: input %d: %w", i, err)
	}
	return nil
}

// Pull takes the graph's next output into dst, which must have its size.
// It returns an error wrapping astiav.ErrEagain when the graph needs more
// input first.
func (g *Graph) Pull(dst *media.VideoFrame) error {
	if g == nil || g.closed {
		return fmt.Errorf("av: graph pull: %w", ErrClosed)
	}
	if err := checkVideoFrame(dst); err != nil {
		return fmt.Errorf("av: graph pull: destination: %w", err)
	}
	if err := g.sink.BuffersinkGetFrame(g.out, astiav.NewBuffersinkFlags()); err != nil {
		return fmt.Errorf("av: graph pull: %w", err)
	}
	defer g.out.Unref()
	if err := CopyFromAV(dst, g.out); err != nil {
		return fmt.Errorf("av: graph pull: %w", err)
	}
	return nil
}

// Run pushes srcs[i] to source i, all at one instant, and pulls the output
// into dst.
func (g *Graph) Run(dst *media.VideoFrame, srcs []*media.VideoFrame) error {
	if g == nil || g.closed {
		return fmt.Errorf("av: graph run: %w", ErrClosed)
	}
	if len(srcs) != len(g.srcs) {
		return fmt.Errorf("av: graph run: %d frames for %d inputs", len(srcs), len(g.srcs))
	}
	for i, f := range srcs {
		if err := g.Push(i, f); err != nil {
			return err
		}
	}
	return g.Pull(dst)
}

// Close frees the graph and its frames. It may be called more than once;
// every method fails with ErrClosed afterwards.
func (g *Graph) Close() {
	if g == nil || g.closed {
		return
	}
	g.closed = true
	// Contexts made through NewFilterContext are freed one by one (which
	// unlinks them), the rest with the graph.
	for _, fc := range g.srcs {
		fc.Free()
	}
	if g.sink != nil {
		g.sink.Free()
	}
	g.srcs, g.sink = nil, nil
	if g.graph != nil {
		g.graph.Free()
		g.graph = nil
	}
	for _, f := range g.in {
		f.Free()
	}
	g.in = nil
	if g.out != nil {
		g.out.Free()
		g.out = nil
	}
}
