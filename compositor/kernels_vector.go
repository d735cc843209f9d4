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
