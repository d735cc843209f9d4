//go:build goexperiment.simd && amd64

package compositor

import "simd/archsimd"

// With GOEXPERIMENT=simd on a CPU with AVX-512 (F, CD, BW, DQ, VL), the row
// kernels below replace the portable ones. They use 256- and 512-bit vectors
// and AVX-512's narrowing moves; they compute the very same integer
// formulas, so their output is byte-identical (kernels_test.go and the
// Compose reference test check it). Tails shorter than a vector run the
// portable code.
func init() {
	if !archsimd.X86.AVX512() {
		return
	}
	box2x2, vBilinear, vAreaAcc, hHalf = box2x2AVX512, vBilinearAVX512, vAreaAccAVX512, hHalfAVX512
	areaFinish = areaFinishAVX512
	implementation = "avx512"
}

// box2x2AVX512: 16 outputs per step from 32 bytes of each row.
func box2x2AVX512(dst, r0, r1 []byte) {
	ones := archsimd.BroadcastInt8x32(1)
	two := archsimd.BroadcastInt16x16(2)
	n := len(dst) &^ 15
	for i := 0; i < n; i += 16 {
		a := archsimd.LoadUint8x32Slice(r0[2*i:]).DotProductPairsSaturated(ones) // a[2j]+a[2j+1]
		b := archsimd.LoadUint8x32Slice(r1[2*i:]).DotProductPairsSaturated(ones)
		a.Add(b).Add(two).ShiftAllRight(2).AsUint16x16().TruncateToUint8().StoreSlice(dst[i:])
	}
	box2x2Portable(dst[n:], r0[2*n:], r1[2*n:])
}

// vBilinearAVX512: 16 outputs per step in 16-bit lanes.
func vBilinearAVX512(dst, r0, r1 []byte, w0, w1 int) {
	W0, W1 := archsimd.BroadcastUint16x16(uint16(w0)), archsimd.BroadcastUint16x16(uint16(w1))
	round := archsimd.BroadcastUint16x16(128)
	n := len(dst) &^ 15
	for i := 0; i < n; i += 16 {
		a := archsimd.LoadUint8x16Slice(r0[i:]).ExtendToUint16().Mul(W0)
		b := archsimd.LoadUint8x16Slice(r1[i:]).ExtendToUint16().Mul(W1)
		a.Add(b).Add(round).ShiftAllRight(8).TruncateToUint8().StoreSlice(dst[i:])
	}
	vBilinearPortable(dst[n:], r0[n:], r1[n:], w0, w1)
}

// vAreaAccAVX512: 16 accumulators per step in 32-bit lanes.
func vAreaAccAVX512(acc []uint32, row []byte, w int) {
	W := archsimd.BroadcastUint32x16(uint32(w))
	n := len(acc) &^ 15
	for i := 0; i < n; i += 16 {
		v := archsimd.LoadUint8x16Slice(row[i:]).ExtendToUint32().Mul(W)
		archsimd.LoadUint32x16Slice(acc[i:]).Add(v).StoreSlice(acc[i:])
	}
	vAreaAccPortable(acc[n:], row[n:], w)
}

// hHalfAVX512: 16 outputs per step from 32 bytes.
func hHalfAVX512(dst, src []byte) {
	ones := archsimd.BroadcastInt8x32(1)
	one := archsimd.BroadcastInt16x16(1)
	n := len(dst) &^ 15
	for i := 0; i < n; i += 16 {
		s := archsimd.LoadUint8x32Slice(src[2*i:]).DotProductPairsSaturated(ones)
		s.Add(one).ShiftAllRight(1).AsUint16x16().TruncateToUint8().StoreSlice(dst[i:])
	}
	hHalfPortable(dst[n:], src[2*n:])
}

// areaFinishAVX512: 16 sums per step, rounded, narrowed, cleared.
func areaFinishAVX512(dst []byte, acc []uint32) {
	round := archsimd.BroadcastUint32x16(areaOne / 2)
	var zero archsimd.Uint32x16
	n := len(dst) &^ 15
	for i := 0; i < n; i += 16 {
		archsimd.LoadUint32x16Slice(acc[i:]).Add(round).ShiftAllRight(areaBits).TruncateToUint8().StoreSlice(dst[i:])
		zero.StoreSlice(acc[i:])
	}
	areaFinishPortable(dst[n:], acc[n:])
}
