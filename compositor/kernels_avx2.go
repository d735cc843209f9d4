//go:build goexperiment.simd && amd64

package compositor

import "simd/archsimd"

// avx2Kernels is the vector set for CPUs with AVX2 (AMD since Zen, Intel
// since Haswell). Its kernels use 256-bit vectors and AVX2 instructions
// only, and compute the very same integer formulas as the portable set,
// so their output is byte-identical (kernels_test.go and the Compose
// reference test check it). Tails shorter than a vector run the portable
// code. AVX2 has no byte narrowing move: narrow packs two vectors of
// 16-bit results into one of bytes.
func avx2Kernels() *kernels {
	return &kernels{
		name:       "avx2",
		box2x2:     box2x2AVX2,
		box4x4:     box4x4AVX2,
		vBilinear:  vBilinearAVX2,
		vArea:      vAreaAVX2,
		vAreaAcc:   vAreaAccAVX2,
		areaFinish: areaFinishAVX2,
		hHalf:      hHalfAVX2,
		hResample:  hResampleAVX2,
		table:      func(f *filter) { f.vec = newLaneTable(f) },
	}
}

var (
	// evenOdd gathers, in each 128-bit lane, the even bytes then the odd
	// ones: the low then the high bytes of the lane's 16-bit values.
	evenOdd = [32]int8{
		0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
		0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
	}
	// inOrder and interleaved are narrow's final dword permutes: for a and
	// b each in output order, and for a and b each holding two packed
	// 8-value vectors (SaturateToUint16ConcatGrouped of s0, s1 and of
	// s2, s3).
	inOrder = [8]uint32{0, 1, 4, 5, 2, 3, 6, 7}
	// quadBytes gathers, in each 128-bit lane, the low bytes then the
	// second bytes of the lane's four 32-bit values (zero elsewhere).
	quadBytes = [32]int8{
		0, 4, 8, 12, 1, 5, 9, 13, -1, -1, -1, -1, -1, -1, -1, -1,
		0, 4, 8, 12, 1, 5, 9, 13, -1, -1, -1, -1, -1, -1, -1, -1,
	}
	interleaved = [8]uint32{0, 4, 1, 5, 2, 6, 3, 7}
)

// narrow packs 32 values below 256, a's 16 then b's, into bytes: a | b<<8
// holds a[i] and b[i] in one 16-bit lane, a per-lane byte shuffle (eo, from
// evenOdd) separates them, and the dword permute order puts the four-byte
// pieces in place.
func narrow(a, b archsimd.Uint16x16, eo archsimd.Int8x32, order archsimd.Uint32x8) archsimd.Uint8x32 {
	return a.Or(b.ShiftAllLeft(8)).AsUint8x32().PermuteOrZeroGrouped(eo).AsUint32x8().Permute(order).AsUint8x32()
}

// box2x2AVX2: 32 outputs per step from 64 bytes of each row.
func box2x2AVX2(dst, r0, r1 []byte) {
	ones := archsimd.BroadcastInt8x32(1)
	two := archsimd.BroadcastInt16x16(2)
	eo, order := archsimd.LoadInt8x32(&evenOdd), archsimd.LoadUint32x8(&inOrder)
	n := len(dst) &^ 31
	for i := 0; i < n; i += 32 {
		a := archsimd.LoadUint8x32Slice(r0[2*i:]).DotProductPairsSaturated(ones) // a[2j]+a[2j+1]
		b := archsimd.LoadUint8x32Slice(r1[2*i:]).DotProductPairsSaturated(ones)
		c := archsimd.LoadUint8x32Slice(r0[2*i+32:]).DotProductPairsSaturated(ones)
		d := archsimd.LoadUint8x32Slice(r1[2*i+32:]).DotProductPairsSaturated(ones)
		lo := a.Add(b).Add(two).ShiftAllRight(2).AsUint16x16()
		hi := c.Add(d).Add(two).ShiftAllRight(2).AsUint16x16()
		narrow(lo, hi, eo, order).StoreSlice(dst[i:])
	}
	box2x2Portable(dst[n:], r0[2*n:], r1[2*n:])
}

// box4x4AVX2: 16 outputs per step from 64 bytes of each row, eight from
// each half (box4Quads); the second half's results move to the second
// byte of each 32-bit lane, a per-lane byte shuffle (quadBytes) gathers
// each lane's eight, and the dword permute interleaved puts them in order.
func box4x4AVX2(dst, r0, r1, r2, r3 []byte) {
	gather, order := archsimd.LoadInt8x32(&quadBytes), archsimd.LoadUint32x8(&interleaved)
	n := len(dst) &^ 15
	for i := 0; i < n; i += 16 {
		p := box4Quads(r0, r1, r2, r3, 4*i)
		q := box4Quads(r0, r1, r2, r3, 4*i+32)
		p.Or(q.ShiftAllLeft(8)).AsUint8x32().PermuteOrZeroGrouped(gather).AsUint32x8().Permute(order).AsUint8x32().GetLo().StoreSlice(dst[i:])
	}
	box4x4Portable(dst[n:], r0[4*n:], r1[4*n:], r2[4*n:], r3[4*n:])
}

// box4Quads computes box4x4's eight outputs from the 32 columns at x, in
// order, one per 32-bit lane: the even and the odd bytes in 16-bit lanes
// give the vertical boxes of the even and the odd columns, their sum the
// column pairs' sums in order, a multiply-add by ones the quads'.
func box4Quads(r0, r1, r2, r3 []byte, x int) archsimd.Uint32x8 {
	low := archsimd.BroadcastUint16x16(0xFF)
	two := archsimd.BroadcastUint16x16(2)
	a := archsimd.LoadUint8x32Slice(r0[x:]).AsUint16x16()
	b := archsimd.LoadUint8x32Slice(r1[x:]).AsUint16x16()
	c := archsimd.LoadUint8x32Slice(r2[x:]).AsUint16x16()
	d := archsimd.LoadUint8x32Slice(r3[x:]).AsUint16x16()
	even := a.And(low).Add(b.And(low)).Add(c.And(low)).Add(d.And(low)).Add(two).ShiftAllRight(2)
	odd := a.ShiftAllRight(8).Add(b.ShiftAllRight(8)).Add(c.ShiftAllRight(8)).Add(d.ShiftAllRight(8)).Add(two).ShiftAllRight(2)
	q := even.Add(odd).AsInt16x16().DotProductPairs(archsimd.BroadcastInt16x16(1))
	return q.Add(archsimd.BroadcastInt32x8(2)).ShiftAllRight(2).AsUint32x8()
}

// hHalfAVX2: 32 outputs per step from 64 bytes.
func hHalfAVX2(dst, src []byte) {
	ones := archsimd.BroadcastInt8x32(1)
	one := archsimd.BroadcastInt16x16(1)
	eo, order := archsimd.LoadInt8x32(&evenOdd), archsimd.LoadUint32x8(&inOrder)
	n := len(dst) &^ 31
	for i := 0; i < n; i += 32 {
		a := archsimd.LoadUint8x32Slice(src[2*i:]).DotProductPairsSaturated(ones)
		b := archsimd.LoadUint8x32Slice(src[2*i+32:]).DotProductPairsSaturated(ones)
		narrow(a.Add(one).ShiftAllRight(1).AsUint16x16(), b.Add(one).ShiftAllRight(1).AsUint16x16(), eo, order).StoreSlice(dst[i:])
	}
	hHalfPortable(dst[n:], src[2*n:])
}

// vBilinearAVX2: 32 outputs per step in 16-bit lanes.
func vBilinearAVX2(dst, r0, r1 []byte, w0, w1 int) {
	W0, W1 := archsimd.BroadcastUint16x16(uint16(w0)), archsimd.BroadcastUint16x16(uint16(w1))
	round := archsimd.BroadcastUint16x16(128)
	eo, order := archsimd.LoadInt8x32(&evenOdd), archsimd.LoadUint32x8(&inOrder)
	n := len(dst) &^ 31
	for i := 0; i < n; i += 32 {
		a := archsimd.LoadUint8x16Slice(r0[i:]).ExtendToUint16().Mul(W0)
		b := archsimd.LoadUint8x16Slice(r1[i:]).ExtendToUint16().Mul(W1)
		c := archsimd.LoadUint8x16Slice(r0[i+16:]).ExtendToUint16().Mul(W0)
		d := archsimd.LoadUint8x16Slice(r1[i+16:]).ExtendToUint16().Mul(W1)
		lo := a.Add(b).Add(round).ShiftAllRight(8)
		hi := c.Add(d).Add(round).ShiftAllRight(8)
		narrow(lo, hi, eo, order).StoreSlice(dst[i:])
	}
	vBilinearPortable(dst[n:], r0[n:], r1[n:], w0, w1)
}

// vAreaAccAVX2: 16 accumulators per step in 32-bit lanes.
func vAreaAccAVX2(acc []uint32, row []byte, w int) {
	W := archsimd.BroadcastUint32x8(uint32(w))
	n := len(acc) &^ 15
	for i := 0; i < n; i += 16 {
		v := archsimd.LoadUint8x16Slice(row[i:])
		lo := v.ExtendLo8ToUint32().Mul(W)
		hi := v.AsUint32x4().PermuteScalars(2, 3, 0, 1).AsUint8x16().ExtendLo8ToUint32().Mul(W)
		archsimd.LoadUint32x8Slice(acc[i:]).Add(lo).StoreSlice(acc[i:])
		archsimd.LoadUint32x8Slice(acc[i+8:]).Add(hi).StoreSlice(acc[i+8:])
	}
	vAreaAccPortable(acc[n:], row[n:], w)
}

// areaFinishAVX2: 32 sums per step, rounded, narrowed, cleared. Like the
// portable kernel it keeps the low byte of sums over 255 (weights that do
// not sum to areaOne).
func areaFinishAVX2(dst []byte, acc []uint32) {
	round, low := archsimd.BroadcastUint32x8(areaOne/2), archsimd.BroadcastUint32x8(0xFF)
	eo, order := archsimd.LoadInt8x32(&evenOdd), archsimd.LoadUint32x8(&interleaved)
	var zero archsimd.Uint32x8
	n := len(dst) &^ 31
	for i := 0; i < n; i += 32 {
		a := archsimd.LoadUint32x8Slice(acc[i:]).Add(round).ShiftAllRight(areaBits).And(low).AsInt32x8()
		b := archsimd.LoadUint32x8Slice(acc[i+8:]).Add(round).ShiftAllRight(areaBits).And(low).AsInt32x8()
		c := archsimd.LoadUint32x8Slice(acc[i+16:]).Add(round).ShiftAllRight(areaBits).And(low).AsInt32x8()
		d := archsimd.LoadUint32x8Slice(acc[i+24:]).Add(round).ShiftAllRight(areaBits).And(low).AsInt32x8()
		narrow(a.SaturateToUint16ConcatGrouped(b), c.SaturateToUint16ConcatGrouped(d), eo, order).StoreSlice(dst[i:])
		zero.StoreSlice(acc[i:])
		zero.StoreSlice(acc[i+8:])
		zero.StoreSlice(acc[i+16:])
		zero.StoreSlice(acc[i+24:])
	}
	areaFinishPortable(dst[n:], acc[n:])
}

// vAreaAVX2: 32 outputs per step. Rows are widened to 16 bits and
// interleaved in pairs, so one multiply-add applies two taps; the pack that
// narrows the two halves of each 16 restores the pixel order. The pairs
// are unrolled (two, and a third and fourth for more than four taps), with
// no loop over rows.
func vAreaAVX2(dst []byte, rows [maxFusedTaps][]byte, w [maxFusedTaps]int, taps int) {
	n := len(dst)
	r, wp := fusedRows(rows, taps, n), pairWeights(w)
	r0, r1, r2, r3, r4, r5, r6, r7 := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
	w01, w23 := archsimd.BroadcastInt32x8(wp[0]).AsInt16x16(), archsimd.BroadcastInt32x8(wp[1]).AsInt16x16()
	w45, w67 := archsimd.BroadcastInt32x8(wp[2]).AsInt16x16(), archsimd.BroadcastInt32x8(wp[3]).AsInt16x16()
	pairs := (taps + 1) / 2
	round := archsimd.BroadcastInt32x8(areaOne / 2)
	eo, order := archsimd.LoadInt8x32(&evenOdd), archsimd.LoadUint32x8(&inOrder)
	// sum16 computes 16 outputs from x on.
	sum16 := func(x int) archsimd.Uint16x16 {
		lo, hi := pair16(r0, r1, x, w01)
		l, h := pair16(r2, r3, x, w23)
		lo, hi = lo.Add(l), hi.Add(h)
		if pairs > 2 {
			l, h = pair16(r4, r5, x, w45)
			lo, hi = lo.Add(l), hi.Add(h)
		}
		if pairs > 3 {
			l, h = pair16(r6, r7, x, w67)
			lo, hi = lo.Add(l), hi.Add(h)
		}
		return lo.Add(round).ShiftAllRight(areaBits).SaturateToUint16ConcatGrouped(hi.Add(round).ShiftAllRight(areaBits))
	}
	m := n &^ 31
	for i := 0; i < m; i += 32 {
		narrow(sum16(i), sum16(i+16), eo, order).StoreSlice(dst[i:])
	}
	if m < n && n >= 32 { // the last 32 outputs again: outputs are independent
		narrow(sum16(n-32), sum16(n-16), eo, order).StoreSlice(dst[n-32:])
		return
	}
	vAreaFrom(dst, r, w, taps, m)
}

// pair16 weighs rows a and b by the two 16-bit weights of each 32-bit lane
// of w for the 16 outputs from x: the sums of the low and high halves of
// each 128-bit lane, which a pack puts back in order.
func pair16(a, b []byte, x int, w archsimd.Int16x16) (lo, hi archsimd.Int32x8) {
	p := archsimd.LoadUint8x16Slice(a[x:]).ExtendToUint16().AsInt16x16()
	q := archsimd.LoadUint8x16Slice(b[x:]).ExtendToUint16().AsInt16x16()
	return p.InterleaveLoGrouped(q).DotProductPairs(w), p.InterleaveHiGrouped(q).DotProductPairs(w)
}

// hResampleAVX2 computes a horizontal bilinear or area filter from its
// lane table (lanes_avx2.go): 32 outputs per group, in blocks of four that
// each read one window of the source into one 128-bit lane, where byte
// shuffles place the taps and multiply-adds weigh them.
func hResampleAVX2(dst, src []byte, f *filter) {
	t, _ := f.vec.(*laneTable)
	if t == nil {
		f.from(dst, src, f, 0)
		return
	}
	r := archsimd.BroadcastInt32x8(1 << (t.bits - 1))
	eo := archsimd.LoadInt8x32(&evenOdd)
	shift := uint64(t.bits)
	per := t.planes * t.chunks
	for g, first := range t.first {
		b := &t.base[g]
		rec := t.rec[g*per : (g+1)*per]
		var s0, s1, s2, s3 archsimd.Int32x8
		if t.chunks == 1 {
			w0, w1, w2, w3 := laneWindows(src, b[0], b[4]), laneWindows(src, b[1], b[5]), laneWindows(src, b[2], b[6]), laneWindows(src, b[3], b[7])
			s0, s1, s2, s3 = r, r, r, r
			for p := range rec {
				q := &rec[p]
				s0 = s0.Add(w0.PermuteOrZeroGrouped(archsimd.LoadInt8x32(&q.idx[0])).AsInt16x16().DotProductPairs(archsimd.LoadInt16x16(&q.w[0])))
				s1 = s1.Add(w1.PermuteOrZeroGrouped(archsimd.LoadInt8x32(&q.idx[1])).AsInt16x16().DotProductPairs(archsimd.LoadInt16x16(&q.w[1])))
				s2 = s2.Add(w2.PermuteOrZeroGrouped(archsimd.LoadInt8x32(&q.idx[2])).AsInt16x16().DotProductPairs(archsimd.LoadInt16x16(&q.w[2])))
				s3 = s3.Add(w3.PermuteOrZeroGrouped(archsimd.LoadInt8x32(&q.idx[3])).AsInt16x16().DotProductPairs(archsimd.LoadInt16x16(&q.w[3])))
			}
		} else {
			s0, s1, s2, s3 = t.sum(src, r, b[0], b[4], rec, 0), t.sum(src, r, b[1], b[5], rec, 1), t.sum(src, r, b[2], b[6], rec, 2), t.sum(src, r, b[3], b[7], rec, 3)
		}
		a := s0.ShiftAllRight(shift).SaturateToUint16ConcatGrouped(s1.ShiftAllRight(shift))
		c := s2.ShiftAllRight(shift).SaturateToUint16ConcatGrouped(s3.ShiftAllRight(shift))
		// The table's block order makes the dwords come out in order.
		a.Or(c.ShiftAllLeft(8)).AsUint8x32().PermuteOrZeroGrouped(eo).StoreSlice(dst[first:])
	}
}

// laneWindows loads the 16 source bytes from lo into the low lane and those
// from hi into the high lane.
func laneWindows(src []byte, lo, hi int32) archsimd.Uint8x32 {
	var z archsimd.Uint8x32
	return z.SetLo(archsimd.LoadUint8x16((*[16]byte)(src[lo:]))).SetHi(archsimd.LoadUint8x16((*[16]byte)(src[hi:])))
}

// sum returns vector v's sums (rounding r included) of a group whose
// windows span several chunks, for the blocks whose windows start at lo
// (low lane) and hi (high lane).
func (t *laneTable) sum(src []byte, r archsimd.Int32x8, lo, hi int32, rec []laneRecord, v int) archsimd.Int32x8 {
	if t.chunks == 2 { // both chunks' windows in registers
		a, b := laneWindows(src, lo, hi), laneWindows(src, lo+16, hi+16)
		for p := range t.planes {
			q0, q1 := &rec[2*p], &rec[2*p+1]
			x := a.PermuteOrZeroGrouped(archsimd.LoadInt8x32(&q0.idx[v])).Or(b.PermuteOrZeroGrouped(archsimd.LoadInt8x32(&q1.idx[v])))
			r = r.Add(x.AsInt16x16().DotProductPairs(archsimd.LoadInt16x16(&q0.w[v])))
		}
		return r
	}
	for p := range t.planes {
		var x archsimd.Uint8x32
		for c := range t.chunks {
			o := int32(16 * c)
			x = x.Or(laneWindows(src, lo+o, hi+o).PermuteOrZeroGrouped(archsimd.LoadInt8x32(&rec[p*t.chunks+c].idx[v])))
		}
		r = r.Add(x.AsInt16x16().DotProductPairs(archsimd.LoadInt16x16(&rec[p*t.chunks].w[v])))
	}
	return r
}
