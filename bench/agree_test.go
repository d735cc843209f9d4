package bench

import (
	"testing"

	"github.com/tessera-media/tessera/compositor"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// Every implementation draws the same canvas as the portable compositor
// for every scenario, up to the differences between scalers (PSNR per plane
// ≥ 30 dB): the benchmarks time the same work. Our other kernel sets and
// the parallel variant must be byte-identical.
func TestPeersAgree(t *testing.T) {
	for _, s := range scenarios {
		ps := s.participants()
		slots := layout.Arrange(s.canvas, s.cfg, ps)
		srcs := sourceFrames(s.n)
		ref := composeOnce(t, impl{name: "tessera", open: tesseraOpener(compositor.Options{Kernels: "portable"})}, s, slots, ps, srcs)
		for _, im := range impls {
			if im.name == "tessera" {
				continue
			}
			got := composeOnceOrSkip(t, im, s, slots, ps, srcs)
			if got == nil {
				continue
			}
			for p := range 3 {
				db, maxDiff := mediatest.PlanePSNR(got, 0, 0, ref, p)
				switch {
				case im.ours && maxDiff != 0:
					t.Errorf("%s/%s plane %d differs from the portable compositor (max |Δ| %d)", s.name, im.name, p, maxDiff)
				case !im.ours && db < 30:
					t.Errorf("%s/%s plane %d: PSNR %.1f dB against the compositor", s.name, im.name, p, db)
				}
			}
		}
	}
}

func composeOnce(t *testing.T, im impl, s scenario, slots []layout.Slot, ps []layout.Participant, srcs []*media.VideoFrame) *media.VideoFrame {
	t.Helper()
	f := composeOnceOrSkip(t, im, s, slots, ps, srcs)
	if f == nil {
		t.Fatalf("%s: %s unavailable", s.name, im.name)
	}
	return f
}

// composeOnceOrSkip composes one canvas, or returns nil when the
// implementation is missing from this build (the GOEXPERIMENT=simd run
// covers the vector kernels, -tags libyuv the libyuv peer).
func composeOnceOrSkip(t *testing.T, im impl, s scenario, slots []layout.Slot, ps []layout.Participant, srcs []*media.VideoFrame) *media.VideoFrame {
	t.Helper()
	p, err := im.open(s, slots, ps)
	if unavailable(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("%s/%s: %v", s.name, im.name, err)
	}
	defer p.close()
	dst := media.NewVideoFrame(s.canvas.W, s.canvas.H)
	if err := p.compose(dst, srcs); err != nil {
		t.Fatalf("%s/%s: %v", s.name, im.name, err)
	}
	return dst
}
