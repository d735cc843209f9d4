// Package compositor renders a composition's canvas and mixes its audio.
//
// Video follows "plan once, execute per frame". SetLayout takes the slots
// that layout.Arrange produced and builds a plan: for every tile and plane
// the source crop, the destination rectangle, the scaler's tables (source
// index and weights per destination row and column) and the kernels that
// run them, the background spans and letterbox bars to paint, and the
// placeholder pictures for participants without video, rendered once.
// Compose then only walks the plan: it paints the background, scales every
// participant's newest frame into its tile in drawing order (the PiP window
// last) and allocates nothing.
//
// Scaling is exact integer arithmetic, defined per axis by the ratio of the
// source span S to the destination span D:
//
//   - S == D: copy.
//   - S < 2D (upscaling, and downscaling by less than 2:1): bilinear with
//     centre-aligned sampling and 8-bit weights: (a·(256−f) + b·f + 128) >> 8.
//     Exactly 2:1 is the same formula with f = 128, i.e. (a+b+1) >> 1.
//   - S > 2D: area averaging; each output is the coverage-weighted mean of
//     the source pixels under it, with 14-bit weights summing to 16384:
//     (Σ wᵢ·aᵢ + 8192) >> 14.
//
// Vertical filtering runs first, into one intermediate row per output row,
// rounded to 8 bits; the horizontal filter then reads that row. When both
// axes are exactly 2:1 a fused kernel computes (a+b+c+d+2) >> 2 directly.
// Chroma planes are scaled at their own resolution from the crop halved
// (layout's rectangles are even-aligned, so no rounding is involved).
//
// The row kernels come in sets that give the same bytes: portable Go, and
// in a build with GOEXPERIMENT=simd on amd64 an AVX2 set and an AVX-512
// set (simd/archsimd) for the CPUs that have them. KernelSets lists the
// sets this build and CPU can run, fastest first; a Compositor runs the
// fastest unless Options.Kernels names another.
//
// The audio Mixer sums any number of 48 kHz streams with per-participant
// gain and a soft limiter.
package compositor
