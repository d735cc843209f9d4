//go:build goexperiment.simd && amd64

package compositor

import "simd/archsimd"

// What the vector kernel sets share: which of them this CPU runs, the area
// kernels' tail, and the filter accessors their tables are built from.

// vectorSets is the vector kernel sets this CPU can run, fastest first.
func vectorSets() []*kernels {
	var ks []*kernels
	if archsimd.X86.AVX512() {
		ks = append(ks, avx512Kernels())
	}
	if archsimd.X86.AVX2() {
		ks = append(ks, avx2Kernels())
	}
	return ks
}

// vAreaFrom computes outputs [m, len(dst)) of vAreaPortable: the tails of
// the vector kernels.
func vAreaFrom(dst []byte, rows [maxFusedTaps][]byte, w [maxFusedTaps]int, taps, m int) {
	for k := range rows {
		if rows[k] != nil {
			rows[k] = rows[k][m:]
		}
	}
	vAreaPortable(dst[m:], rows, w, taps)
}

// outputs is D, the number of outputs (bilinear or area).
func (f *filter) outputs() int {
	if f.kind == kindBilinear {
		return len(f.pairs)
	}
	return len(f.index)
}

// first returns the first source sample output i reads (bilinear or area).
func (f *filter) first(i int) int {
	if f.kind == kindBilinear {
		return int(f.pairs[i].at)
	}
	return int(f.index[i])
}

// weightOf returns the weight of output i's tap k (bilinear or area), in
// units of 2^-f.bits().
func (f *filter) weightOf(i, k int) int {
	if f.kind == kindBilinear {
		return int([2]uint16{f.pairs[i].w0, f.pairs[i].w1}[k])
	}
	return int(f.weight[i*f.taps+k])
}

// bits is the fixed-point scale of the filter's weights.
func (f *filter) bits() uint {
	if f.kind == kindBilinear {
		return bilinearBits
	}
	return areaBits
}
