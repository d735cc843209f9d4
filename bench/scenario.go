package bench

import (
	"fmt"

	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// sourceSize is every participant's video size in the scenarios.
var sourceSize = layout.Size{W: 1280, H: 720}

// scenario is one benchmarked layout.
type scenario struct {
	name   string
	canvas layout.Size
	cfg    layout.Config
	n      int    // participants
	attr   string // participant 2 (index 1) gets this attribute set to "true"
}

var (
	hd      = layout.Size{W: 1280, H: 720}
	fullHD  = layout.Size{W: 1920, H: 1080}
	noGap   = new(0)
	feature = "featured"
)

// scenarios are the benchmarked layouts: integer 2:1 and generic ratios,
// the featured strip, picture-in-picture and letterboxing.
var scenarios = []scenario{
	{name: "grid3x3-1080p", canvas: fullHD, cfg: layout.Config{Grid: &layout.GridConfig{GridGap: noGap}}, n: 9},
	{name: "grid2x2-720p", canvas: hd, cfg: layout.Config{Grid: &layout.GridConfig{GridGap: noGap}}, n: 4},
	{name: "grid12-gap-cover-1080p", canvas: fullHD, cfg: layout.Config{Grid: &layout.GridConfig{VideoFillMode: layout.Cover}}, n: 12},
	{name: "featured-720p", canvas: hd, cfg: layout.Config{Grid: &layout.GridConfig{FeaturedParticipantAttribute: feature}}, n: 5, attr: feature},
	{name: "pip-720p", canvas: hd, cfg: layout.Config{Pip: &layout.PipConfig{}}, n: 2},
	{name: "contain-720p", canvas: hd, cfg: layout.Config{Grid: &layout.GridConfig{VideoFillMode: layout.Contain, VideoAspectRatio: layout.AspectSquare}}, n: 4},
}

// participants returns the scenario's roster, every one publishing sourceSize video.
func (s scenario) participants() []layout.Participant {
	ps := make([]layout.Participant, s.n)
	for i := range ps {
		ps[i] = layout.Participant{ID: fmt.Sprintf("p%d", i+1), Arrival: uint64(i), Video: sourceSize}
	}
	if s.attr != "" && s.n > 1 {
		ps[1].Attributes = map[string]string{s.attr: "true"}
	}
	return ps
}

// tilesFor is the scenario's layout as the peers need it: per slot, the source
// crop and destination rectangle that the compositor also uses.
func tilesFor(slots []layout.Slot, src layout.Size) []tile {
	var ts []tile
	for _, s := range slots {
		crop, dst := layout.Fit(s.Rect, src, s.Fill)
		if !dst.Empty() {
			ts = append(ts, tile{src: s.Index, crop: crop, dst: dst})
		}
	}
	return ts
}

// memoryBytes is how much distinct source data a benchmark rotates through:
// twice this machine class's largest caches.
const memoryBytes = 64 << 20

// frames is the shared pool of distinct natural-looking source frames.
var frames []*media.VideoFrame

// sourceSets returns sets of n distinct source frames, enough sets that
// together they exceed memoryBytes.
func sourceSets(n int) [][]*media.VideoFrame {
	frameBytes := sourceSize.W * sourceSize.H * 3 / 2
	total := (memoryBytes + frameBytes - 1) / frameBytes
	sets := make([][]*media.VideoFrame, (total+n-1)/n)
	all := sourceFrames(len(sets) * n)
	for k := range sets {
		sets[k] = all[k*n : (k+1)*n]
	}
	return sets
}

// sourceFrames returns n distinct source frames from the shared pool.
func sourceFrames(n int) []*media.VideoFrame {
	for len(frames) < n {
		frames = append(frames, mediatest.Natural(sourceSize.W, sourceSize.H, uint64(len(frames)+1)))
	}
	return frames[:n]
}
