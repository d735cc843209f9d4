//go:build goexperiment.simd && amd64

package compositor

import "simd/archsimd"

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
