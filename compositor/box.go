package compositor

// An area filter of ratio exactly 4:1 weighs every sample 4096/16384, so
// its formula (Σ 4096·aₖ + 8192) >> 14 is the box (a₀+a₁+a₂+a₃+2) >> 2,
// which the portable kernels sum in 16-bit lanes without multiplying.

// boxWeight is every weight of a 4:1 area filter.
const boxWeight = areaOne / 4

// isBox4 reports whether four weights are those of a 4:1 box.
func isBox4(w []uint64) bool {
	return len(w) == 4 && w[0] == boxWeight && w[1] == boxWeight && w[2] == boxWeight && w[3] == boxWeight
}

// vBox4 averages four rows, eight pixels at a time, and returns how many
// pixels it wrote.
func vBox4(dst, r0, r1, r2, r3 []byte) int {
	n := len(dst) &^ 7
	r0, r1, r2, r3 = r0[:n:n], r1[:n:n], r2[:n:n], r3[:n:n]
	m := maskLo8
	for i := 0; i+8 <= n; i += 8 {
		a, b, c, d := load8(r0, i), load8(r1, i), load8(r2, i), load8(r3, i)
		even := a&m + b&m + c&m + d&m + ones2
		odd := a>>8&m + b>>8&m + c>>8&m + d>>8&m + ones2
		store8(dst, i, even>>2&m|odd<<6&^m)
	}
	return n
}

// isHBox4 reports whether an area filter is exactly 4:1 (output i reads
// src[4i:4i+4] with equal weights).
func isHBox4(f *filter) bool {
	if f.taps != 4 {
		return false
	}
	for i, at := range f.index {
		if int(at) != 4*i {
			return false
		}
	}
	for _, w := range f.weight {
		if w != boxWeight {
			return false
		}
	}
	return true
}

// hBox4Portable computes outputs [n, len(dst)) of a 4:1 area filter:
// dst[i] = (src[4i]+src[4i+1]+src[4i+2]+src[4i+3]+2) >> 2, two outputs per
// 8-byte load.
func hBox4Portable(dst, src []byte, _ *filter, n int) {
	dst, src = dst[n:], src[4*n:4*len(dst)]
	m, m16 := maskLo8, maskLanes16
	i := 0
	for ; i+2 <= len(dst); i += 2 {
		x := load8(src, 4*i)
		p := x&m + x>>8&m      // pair sums in 16-bit lanes
		q := p&m16 + p>>16&m16 // quad sums in 32-bit lanes
		q = (q + 2<<32 + 2) >> 2
		dst[i], dst[i+1] = byte(q), byte(q>>32)
	}
	for ; i < len(dst); i++ {
		s := src[4*i : 4*i+4 : 4*i+4]
		dst[i] = byte((uint(s[0]) + uint(s[1]) + uint(s[2]) + uint(s[3]) + 2) >> 2)
	}
}

// box4x4Portable shrinks four source rows 4:1 both ways into dst: output i
// is the 4:1 box of the vertical 4:1 boxes of columns 4i to 4i+3,
// (Σ ((a+b+c+d+2) >> 2) + 2) >> 2 — the bytes of the vertical then the
// horizontal area pass, without the row between them. Per 8-byte load of
// each row: the even and the odd bytes, in 16-bit lanes, give the even and
// the odd columns' vertical boxes; their sum is the column pairs' sums,
// and adding neighbouring lanes the quads'.
func box4x4Portable(dst, r0, r1, r2, r3 []byte) {
	n := len(dst)
	r0, r1, r2, r3 = r0[:4*n], r1[:4*n], r2[:4*n], r3[:4*n]
	m, m16 := maskLo8, maskLanes16
	i := 0
	for ; i+2 <= n; i += 2 {
		a, b, c, d := load8(r0, 4*i), load8(r1, 4*i), load8(r2, 4*i), load8(r3, 4*i)
		even := (a&m + b&m + c&m + d&m + ones2) >> 2 & m
		odd := (a>>8&m + b>>8&m + c>>8&m + d>>8&m + ones2) >> 2 & m
		p := even + odd
		q := (p&m16 + p>>16&m16 + 2<<32 + 2) >> 2
		dst[i], dst[i+1] = byte(q), byte(q>>32)
	}
	for ; i < n; i++ {
		var v uint
		for x := 4 * i; x < 4*i+4; x++ {
			v += (uint(r0[x]) + uint(r1[x]) + uint(r2[x]) + uint(r3[x]) + 2) >> 2
		}
		dst[i] = byte((v + 2) >> 2)
	}
}
