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
	v.box4x4 = box4x4AVX512
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

// box4x4AVX512: 16 outputs per step from 64 bytes of each row, as
// box4x4Portable computes them: the even and the odd bytes in 16-bit
// lanes give the vertical boxes of the even and the odd columns, their
// sum the column pairs' sums in order, a multiply-add by ones the quads'.
func box4x4AVX512(dst, r0, r1, r2, r3 []byte) {
	low := archsimd.BroadcastUint16x32(0xFF)
	two := archsimd.BroadcastUint16x32(2)
	ones := archsimd.BroadcastInt16x32(1)
	two32 := archsimd.BroadcastInt32x16(2)
	n := len(dst) &^ 15
	for i := 0; i < n; i += 16 {
		a := archsimd.LoadUint8x64Slice(r0[4*i:]).AsUint16x32()
		b := archsimd.LoadUint8x64Slice(r1[4*i:]).AsUint16x32()
		c := archsimd.LoadUint8x64Slice(r2[4*i:]).AsUint16x32()
		d := archsimd.LoadUint8x64Slice(r3[4*i:]).AsUint16x32()
		even := a.And(low).Add(b.And(low)).Add(c.And(low)).Add(d.And(low)).Add(two).ShiftAllRight(2)
		odd := a.ShiftAllRight(8).Add(b.ShiftAllRight(8)).Add(c.ShiftAllRight(8)).Add(d.ShiftAllRight(8)).Add(two).ShiftAllRight(2)
		q := even.Add(odd).AsInt16x32().DotProductPairs(ones)
		q.Add(two32).ShiftAllRight(2).AsUint32x16().TruncateToUint8().StoreSlice(dst[i:])
	}
	box4x4Portable(dst[n:], r0[4*n:], r1[4*n:], r2[4*n:], r3[4*n:])
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
// narrows the two halves restores the pixel order. The pairs are unrolled
// (two, and a third and fourth for more than four taps), with no loop over
// rows.
func vAreaAVX512(dst []byte, rows [maxFusedTaps][]byte, w [maxFusedTaps]int, taps int) {
	n := len(dst)
	r, wp := fusedRows(rows, taps, n), pairWeights(w)
	r0, r1, r2, r3, r4, r5, r6, r7 := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
	w01, w23 := archsimd.BroadcastInt32x16(wp[0]).AsInt16x32(), archsimd.BroadcastInt32x16(wp[1]).AsInt16x32()
	w45, w67 := archsimd.BroadcastInt32x16(wp[2]).AsInt16x32(), archsimd.BroadcastInt32x16(wp[3]).AsInt16x32()
	pairs := (taps + 1) / 2
	round := archsimd.BroadcastInt32x16(areaOne / 2)
	// sum32 writes the 32 outputs from x on.
	sum32 := func(x int) {
		lo, hi := pair32(r0, r1, x, w01)
		l, h := pair32(r2, r3, x, w23)
		lo, hi = lo.Add(l), hi.Add(h)
		if pairs > 2 {
			l, h = pair32(r4, r5, x, w45)
			lo, hi = lo.Add(l), hi.Add(h)
		}
		if pairs > 3 {
			l, h = pair32(r6, r7, x, w67)
			lo, hi = lo.Add(l), hi.Add(h)
		}
		lo, hi = lo.Add(round).ShiftAllRight(areaBits), hi.Add(round).ShiftAllRight(areaBits)
		lo.SaturateToUint16ConcatGrouped(hi).TruncateToUint8().StoreSlice(dst[x:])
	}
	m := n &^ 31
	for i := 0; i < m; i += 32 {
		sum32(i)
	}
	if m < n && n >= 32 { // the last 32 outputs again: outputs are independent
		sum32(n - 32)
		return
	}
	vAreaFrom(dst, r, w, taps, m)
}

// pair32 weighs rows a and b by the two 16-bit weights of each 32-bit lane
// of w for the 32 outputs from x: the sums of the low and high halves of
// each 128-bit lane, which a pack puts back in order.
func pair32(a, b []byte, x int, w archsimd.Int16x32) (lo, hi archsimd.Int32x16) {
	p := archsimd.LoadUint8x32Slice(a[x:]).ExtendToUint16().AsInt16x32()
	q := archsimd.LoadUint8x32Slice(b[x:]).ExtendToUint16().AsInt16x32()
	return p.InterleaveLoGrouped(q).DotProductPairs(w), p.InterleaveHiGrouped(q).DotProductPairs(w)
}
