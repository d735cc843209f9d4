// Package capacity estimates how many cores a server's media work takes,
// so that a server refuses work it cannot keep in real time and reports
// its load (for autoscalers, and for placing work on the least loaded of
// several servers).
//
// The model is linear in pixels per second, calibrated from the pipeline
// benchmark (bench: BenchmarkPipeline, README's Performance table, 2-core
// AMD EPYC VM, portable kernels):
//
//   - a composition (compose, mix, x264 encode, mux) costs a per-preset
//     rate per megapixel/s of output: 720p30 took 0.38 core at veryfast,
//     0.24 at superfast, 0.22 at ultrafast; 1080p30 0.85 at veryfast (the
//     same rate within 1 %);
//   - a publisher (receive and decode) costs a fixed part plus a rate per
//     megapixel/s of its video: six 360p30 publishers took 0.18 core,
//     twelve 720p30 ones 0.57.
//
// Estimates are for capacity decisions, not accounting: real costs move
// with picture content (x264 spends more on a moving picture) and the CPU.
// They lean high: a 720p30 six-publisher composition is 0.56 core here,
// while the capacity benchmark keeps four of them in real time on two
// cores (0.44 each, shared costs counted once).
package capacity

import "strings"

// Per megapixel per second of a composition's output, by x264 preset.
var compositionRate = map[string]float64{
	"ultrafast": 0.22 / mpps(1280, 720, 30),
	"superfast": 0.24 / mpps(1280, 720, 30),
	"veryfast":  0.38 / mpps(1280, 720, 30),
	"faster":    0.50 / mpps(1280, 720, 30), // not measured: between veryfast and medium, x264's own ratios
	"fast":      0.62 / mpps(1280, 720, 30),
	"medium":    0.75 / mpps(1280, 720, 30),
}

// A publisher: fixed + rate × megapixels/s, solved from 0.03 core per
// 360p30 publisher and 0.0475 per 720p30 one.
var (
	publisherRate  = (0.0475 - 0.03) / (mpps(1280, 720, 30) - mpps(640, 360, 30))
	publisherFixed = 0.03 - publisherRate*mpps(640, 360, 30)
)

// DefaultFPS is assumed for a publisher whose frame rate is not known.
const DefaultFPS = 30

func mpps(w, h int, fps float64) float64 { return float64(w) * float64(h) * fps / 1e6 }

// Composition is the estimated cores of a composition encoding a
// width×height picture at fps with x264 preset (an unknown preset counts
// as veryfast, the default).
func Composition(width, height int, fps float64, preset string) float64 {
	rate, ok := compositionRate[strings.ToLower(preset)]
	if !ok {
		rate = compositionRate["veryfast"]
	}
	return rate * mpps(width, height, fps)
}

// Publisher is the estimated cores of receiving and decoding a publisher
// of width×height at fps (0×0: audio only, or no picture yet, counts the
// fixed part).
func Publisher(width, height int, fps float64) float64 {
	if fps <= 0 {
		fps = DefaultFPS
	}
	return publisherFixed + publisherRate*mpps(width, height, fps)
}
