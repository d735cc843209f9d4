//go:build !(goexperiment.simd && amd64)

package compositor

// vectorSets is empty without GOEXPERIMENT=simd on amd64: the portable
// kernels are the only set.
func vectorSets() []*kernels { return nil }
