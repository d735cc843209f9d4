package bench

import (
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/tessera-media/tessera/compositor"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// impl is one implementation under comparison.
type impl struct {
	name string
	ours bool
	open func(s scenario, slots []layout.Slot, ps []layout.Participant) (peer, error)
}

// Implementations missing from this build or this CPU; the benchmarks and
// TestPeersAgree skip them.
var (
	errNoKernels = errors.New("kernel set unavailable: build with GOEXPERIMENT=simd and run on a CPU that has it")
	errNoLibyuv  = errors.New("no libyuv peer: build with -tags libyuv (Debian's libyuv-dev)")
)

// unavailable reports whether err says the implementation is missing from
// this build or this CPU.
func unavailable(err error) bool {
	return errors.Is(err, errNoKernels) || errors.Is(err, errNoLibyuv)
}

// impls in the order they run: the peers first, so that ours can report
// their ratios to them.
var impls = []impl{
	{name: "ffmpeg", open: func(s scenario, slots []layout.Slot, _ []layout.Participant) (peer, error) {
		return newFFmpegPeer(s.canvas, sourceSize, tilesFor(slots, sourceSize), media.Black)
	}},
	{name: "libyuv", open: openLibyuv},
	{name: "tessera", ours: true, open: tesseraOpener(compositor.Options{Kernels: "portable"})},
	{name: "tessera-avx2", ours: true, open: tesseraOpener(compositor.Options{Kernels: "avx2"})},
	{name: "tessera-avx512", ours: true, open: tesseraOpener(compositor.Options{Kernels: "avx512"})},
	{name: "tessera-parallel", ours: true, open: tesseraOpener(compositor.Options{Workers: runtime.NumCPU()})},
}

// tesseraPeer adapts a Compositor to the peer interface.
type tesseraPeer struct{ c *compositor.Compositor }

func (t tesseraPeer) compose(dst *media.VideoFrame, sources []*media.VideoFrame) error {
	return t.c.Compose(dst, sources)
}

func (t tesseraPeer) close() { t.c.Close() }

func tesseraOpener(opts compositor.Options) func(scenario, []layout.Slot, []layout.Participant) (peer, error) {
	return func(s scenario, slots []layout.Slot, ps []layout.Participant) (peer, error) {
		if opts.Kernels != "" && !slices.Contains(compositor.KernelSets(), opts.Kernels) {
			return nil, fmt.Errorf("%s: %w", opts.Kernels, errNoKernels)
		}
		c := compositor.New(s.canvas, opts)
		c.SetLayout(slots, ps)
		return tesseraPeer{c}, nil
	}
}
