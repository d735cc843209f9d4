//go:build goexperiment.simd && amd64

package compositor

import "simd/archsimd"

// avx512Kernels is the vector set for CPUs with AVX-512 (F, CD, BW, DQ,
// VL). Its kernels use 256- and 512-bit vectors and AVX-512's narrowing
// moves; they compute the very same integer formulas, so their output is
// byte-identical (kernels_test.go and the Compose reference test check
// it). Tails shorter than a vector run the portable code. The horizontal
// filters also need AVX512-VBMI's byte permutes; without it (Skylake and
// Cascade Lake servers) they are the AVX2 set's, which every AVX-512 CPU
// can run.
func avx512Kernels() *kernels {
	v := *avx2Kernels()
	v.name = "avx512"
	v.box2x2, v.vBilinear, v.vAreaAcc, v.hHalf = box2x2AVX512, vBilinearAVX512, vAreaAccAVX512, hHalfAVX512
	v.areaFinish, v.vArea = areaFinishAVX512, vAreaAVX512
	if archsimd.X86.AVX512VBMI() {
		v.hResample, v.table = hResampleAVX512, func(f *filter) { f.vec = newVtable(f) }
	}
	return &v
}

// box2x2AVX512: 32 outputs per step from 64 bytes of each row.
func box2x2AVX512(dst, r0, r1 []byte) {
	ones := archsimd.BroadcastInt8x64(1)
	two := archsimd.BroadcastInt16x32(2)
	n := len(dst) &^ 31
	for i := 0; i < n; i += 32 {
		a := archsimd.LoadUint8x64Slice(r0[2*i:]).DotProductPairsSaturated(ones) // a[2j]+a[2j+1]
		b := archsimd.LoadUint8x64Slice(r1[2*i:]).DotProductPairsSaturated(ones)
		a.Add(b).Add(two).ShiftAllRight(2).AsUint16x32().TruncateToUint8().StoreSlice(dst[i:])
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

// hResampleAVX512: 16 outputs per group from a window of up to 128 bytes,
// one byte permute and one multiply-add per pair of taps.
func hResampleAVX512(dst, src []byte, f *filter) {
	v := f.vec.(*vtable)
	shift := uint64(v.bits)
	r := archsimd.BroadcastInt32x16(1 << (v.bits - 1))
	n := 0
	if v.narrow {
		var zero archsimd.Uint8x64
		for g, base := range v.base {
			win := archsimd.LoadUint8x64SlicePart(src[base:])
			idx, w := v.idx[g*v.planes:(g+1)*v.planes], v.w[g*v.planes:(g+1)*v.planes]
			w = w[:len(idx)]
			sum := r
			for p := range idx {
				x := win.ConcatPermute(zero, archsimd.LoadUint8x64(&idx[p])).AsInt16x32()
				sum = sum.Add(x.DotProductPairs(archsimd.LoadInt16x32(&w[p])))
			}
			sum.ShiftAllRight(shift).AsUint32x16().TruncateToUint8().StoreSlice(dst[n:])
			n += groupLen
		}
		f.from(dst, src, f, n)
		return
	}
	low := archsimd.BroadcastUint16x32(0x00FF).AsUint8x64()
	for g, base := range v.base {
		lo := archsimd.LoadUint8x64SlicePart(src[base:])
		hi := archsimd.LoadUint8x64SlicePart(src[min(int(base)+64, len(src)):])
		idx, w := v.idx[g*v.planes:(g+1)*v.planes], v.w[g*v.planes:(g+1)*v.planes]
		w = w[:len(idx)]
		sum := r
		for p := range idx {
			x := lo.ConcatPermute(hi, archsimd.LoadUint8x64(&idx[p])).And(low).AsInt16x32()
			sum = sum.Add(x.DotProductPairs(archsimd.LoadInt16x32(&w[p])))
		}
		sum.ShiftAllRight(shift).AsUint32x16().TruncateToUint8().StoreSlice(dst[n:])
		n += groupLen
	}
	f.from(dst, src, f, n)
}

// vAreaAVX512: 32 outputs per step. Rows are widened to 16 bits and
// interleaved in pairs, so one multiply-add applies two taps; the pack that
// narrows the two halves restores the pixel order.
func vAreaAVX512(dst []byte, rows [maxFusedTaps][]byte, w [maxFusedTaps]int, taps int) {
	if taps <= 4 {
		vArea4AVX512(dst, rows, w)
		return
	}
	n := len(dst)
	pairs := (taps + 1) / 2
	var wp [maxFusedTaps / 2]archsimd.Int16x32
	for p := range pairs {
		wp[p] = archsimd.BroadcastInt32x16(int32(w[2*p]) | int32(w[2*p+1])<<16).AsInt16x32()
		rows[2*p], rows[2*p+1] = rows[2*p][:n], rows[2*p+1][:n]
	}
	round := archsimd.BroadcastInt32x16(areaOne / 2)
	m := n &^ 31
	for i := 0; i < m; i += 32 {
		lo, hi := round, round
		for p := range pairs {
			a := archsimd.LoadUint8x32Slice(rows[2*p][i:]).ExtendToUint16().AsInt16x32()
			b := archsimd.LoadUint8x32Slice(rows[2*p+1][i:]).ExtendToUint16().AsInt16x32()
			lo = lo.Add(a.InterleaveLoGrouped(b).DotProductPairs(wp[p]))
			hi = hi.Add(a.InterleaveHiGrouped(b).DotProductPairs(wp[p]))
		}
		lo, hi = lo.ShiftAllRight(areaBits), hi.ShiftAllRight(areaBits)
		lo.SaturateToUint16ConcatGrouped(hi).TruncateToUint8().StoreSlice(dst[i:])
	}
	vAreaFrom(dst, rows, w, taps, m)
}

// vArea4AVX512 is vAreaAVX512 unrolled for at most four taps.
func vArea4AVX512(dst []byte, rows [maxFusedTaps][]byte, w [maxFusedTaps]int) {
	n := len(dst)
	r0, r1, r2, r3 := rows[0][:n], rows[1][:n], rows[2][:n], rows[3][:n]
	w01 := archsimd.BroadcastInt32x16(int32(w[0]) | int32(w[1])<<16).AsInt16x32()
	w23 := archsimd.BroadcastInt32x16(int32(w[2]) | int32(w[3])<<16).AsInt16x32()
	round := archsimd.BroadcastInt32x16(areaOne / 2)
	m := n &^ 31
	for i := 0; i < m; i += 32 {
		a := archsimd.LoadUint8x32Slice(r0[i:]).ExtendToUint16().AsInt16x32()
		b := archsimd.LoadUint8x32Slice(r1[i:]).ExtendToUint16().AsInt16x32()
		c := archsimd.LoadUint8x32Slice(r2[i:]).ExtendToUint16().AsInt16x32()
		d := archsimd.LoadUint8x32Slice(r3[i:]).ExtendToUint16().AsInt16x32()
		lo := a.InterleaveLoGrouped(b).DotProductPairs(w01).Add(c.InterleaveLoGrouped(d).DotProductPairs(w23))
		hi := a.InterleaveHiGrouped(b).DotProductPairs(w01).Add(c.InterleaveHiGrouped(d).DotProductPairs(w23))
		lo, hi = lo.Add(round).ShiftAllRight(areaBits), hi.Add(round).ShiftAllRight(areaBits)
		lo.SaturateToUint16ConcatGrouped(hi).TruncateToUint8().StoreSlice(dst[i:])
	}
	vAreaFrom(dst, rows, w, 4, m)
}
