// Package bench compares the compositor with what a user could pick
// instead, on the same work in one `go test -bench` run: an FFmpeg filter
// graph in-process (crop + scale with bilinear + xstack, single-threaded,
// through internal/av) and libyuv's I420Scale (through cgo).
//
// BenchmarkCompose/<scenario>/<impl> composes one canvas per iteration
// from natural-looking 1280×720 I420 participants, rotating through enough
// distinct frames (over 64 MB) that the inputs come from memory, not cache.
// impl is one of ffmpeg, libyuv, tessera (portable kernels), tessera-simd
// (vector kernels; needs GOEXPERIMENT=simd) and tessera-parallel (vector
// kernels where available, one band per CPU). Every result is reported as
// ms/frame; ours also report x-ffmpeg and x-libyuv, how many times faster
// than the peers in the same run. After the benchmarks, the package prints
// the comparison as a table.
//
// TestPeersAgree checks that every implementation draws the same picture
// (within scaler differences), so the timings compare the same work.
package bench
