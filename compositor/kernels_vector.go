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

// fusedRows returns the first n samples of the fused vertical area filter's
// rows, rows[0] in place of those past taps (whose weights are 0).
func fusedRows(rows [maxFusedTaps][]byte, taps, n int) [maxFusedTaps][]byte {
	var r [maxFusedTaps][]byte
	for k := range r {
		if k < taps {
			r[k] = rows[k][:n]
		} else {
			r[k] = rows[0][:n]
		}
	}
	return r
}

// pairWeights packs the weights of taps 2p and 2p+1 into one 32-bit lane
// (low and high 16 bits), as 16-bit multiply-adds of interleaved rows
// take them.
func pairWeights(w [maxFusedTaps]int) [maxFusedTaps / 2]int32 {
	var wp [maxFusedTaps / 2]int32
	for p := range wp {
		wp[p] = int32(w[2*p]) | int32(w[2*p+1])<<16
	}
	return wp
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
