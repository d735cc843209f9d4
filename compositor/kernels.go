package compositor

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// kernels is one implementation of the row kernels. The portable set is
// here; a build with GOEXPERIMENT=simd also has vector sets (kernels_avx2.go,
// kernels_avx512.go) for the CPUs that can run them, and they produce the
// same bytes. Kernels write exactly len(dst) outputs and read only what
// that needs.
type kernels struct {
	name       string
	box2x2     func(dst, r0, r1 []byte)
	box4x4     func(dst, r0, r1, r2, r3 []byte)
	vBilinear  func(dst, r0, r1 []byte, w0, w1 int)
	vArea      func(dst []byte, rows [maxFusedTaps][]byte, w [maxFusedTaps]int, taps int)
	vAreaAcc   func(acc []uint32, row []byte, w int)
	areaFinish func(dst []byte, acc []uint32)
	hHalf      func(dst, src []byte)
	hResample  func(dst, src []byte, f *filter) // bilinear or area
	// table builds f.vec, the form of a horizontal bilinear or area filter
	// that this set's hResample reads (nil: it reads the portable tables).
	table func(f *filter)
}

var portable = kernels{
	name:       "portable",
	box2x2:     box2x2Portable,
	box4x4:     box4x4Portable,
	vBilinear:  vBilinearPortable,
	vArea:      vAreaPortable,
	vAreaAcc:   vAreaAccPortable,
	areaFinish: areaFinishPortable,
	hHalf:      hHalfPortable,
	hResample:  hResamplePortable,
}

// sets is every kernel set this build and CPU can run, fastest first; the
// portable set is always there, last.
var sets = append(vectorSets(), &portable)

// KernelSets names the kernel sets this build and CPU can run, fastest
// first: "avx512" (AVX-512 F, CD, BW, DQ, VL; its horizontal filters also
// need AVX512-VBMI) and "avx2" in a GOEXPERIMENT=simd build on amd64 CPUs
// that have them, then "portable". Every set gives the same bytes.
func KernelSets() []string {
	names := make([]string, len(sets))
	for i, k := range sets {
		names[i] = k.name
	}
	return names
}

// kernelSet returns the set named name, or the fastest for "". It panics
// on a name KernelSets does not list.
func kernelSet(name string) *kernels {
	if name == "" {
		return sets[0]
	}
	for _, k := range sets {
		if k.name == name {
			return k
		}
	}
	panic(fmt.Sprintf("compositor: kernel set %q is not available in this build on this CPU (available: %s)",
		name, strings.Join(KernelSets(), ", ")))
}

const (
	lo8   = 0x00FF00FF00FF00FF // the low byte of each 16-bit lane
	ones2 = 0x0002000200020002
	ones1 = 0x0001000100010001
)

// The masks again, as variables. A kernel reads the ones it uses into
// locals before its loop, where they stay in registers (or are reloaded
// from the stack); a constant operand costs a 64-bit immediate move at
// every use.
var (
	maskLo8     uint64 = lo8
	maskLanes16 uint64 = 0x0000FFFF0000FFFF
	maskLow7    uint64 = 0x7F7F7F7F7F7F7F7F // the low 7 bits of each byte
	maskLanes32 uint64 = lanes32
	maskBytes32 uint64 = bytes32
)

// load8 returns the eight bytes of r at i as a little-endian word. Slicing
// with a capacity keeps the slice non-empty, so the compiler needs no
// pointer masking; in a loop over i+8 <= n on rows sliced [:n:n], a step
// keeps one bounds check for all its loads.
func load8(r []byte, i int) uint64 { return binary.LittleEndian.Uint64(r[i : i+8 : i+8]) }

// store8 writes v to the eight bytes of r at i, little-endian.
func store8(r []byte, i int, v uint64) { binary.LittleEndian.PutUint64(r[i:i+8:i+8], v) }

// pack4 gathers the four 16-bit lanes of v, each below 256, into 4 bytes;
// m16 is maskLanes16.
func pack4(v, m16 uint64) uint64 {
	v = (v | v>>8) & m16
	return uint64(uint32(v | v>>16))
}

// box2x2Portable halves both axes: dst[i] = (r0[2i]+r0[2i+1]+r1[2i]+r1[2i+1]+2) >> 2.
func box2x2Portable(dst, r0, r1 []byte) {
	n := len(dst)
	r0, r1 = r0[:2*n], r1[:2*n]
	m, m16 := maskLo8, maskLanes16
	i := 0
	for ; i+8 <= n; i += 8 {
		a0, a1 := load8(r0, 2*i), load8(r0, 2*i+8)
		b0, b1 := load8(r1, 2*i), load8(r1, 2*i+8)
		s0 := (a0&m + a0>>8&m + b0&m + b0>>8&m + ones2) >> 2
		s1 := (a1&m + a1>>8&m + b1&m + b1>>8&m + ones2) >> 2
		store8(dst, i, pack4(s0&m, m16)|pack4(s1&m, m16)<<32)
	}
	for ; i < n; i++ {
		dst[i] = byte((uint(r0[2*i]) + uint(r0[2*i+1]) + uint(r1[2*i]) + uint(r1[2*i+1]) + 2) >> 2)
	}
}

// vBilinearPortable blends two rows: dst[x] = (r0[x]·w0 + r1[x]·w1 + 128) >> 8
// with w0 + w1 = 256. Equal weights are the rounded-up average, which needs
// no multiply: (a+b+1) >> 1 = (a|b) − ((a^b) >> 1) bytewise.
func vBilinearPortable(dst, r0, r1 []byte, w0, w1 int) {
	n := len(dst)
	r0, r1 = r0[:n], r1[:n]
	i := 0
	if w0 == w1 {
		m7 := maskLow7
		for ; i+8 <= n; i += 8 {
			a, b := load8(r0, i), load8(r1, i)
			store8(dst, i, a|b-(a^b)>>1&m7)
		}
	}
	W0, W1 := uint64(w0), uint64(w1)
	m := maskLo8
	const round = 0x0080008000800080
	for ; i+8 <= n; i += 8 {
		a, b := load8(r0, i), load8(r1, i)
		// Each 16-bit lane: ≤ 255·256 + 128 < 2^16, so lanes never carry.
		even := (a&m*W0 + b&m*W1 + round) >> 8 & m
		odd := (a>>8&m*W0 + b>>8&m*W1 + round) &^ m
		store8(dst, i, even|odd)
	}
	for ; i < n; i++ {
		dst[i] = byte((uint(r0[i])*uint(w0) + uint(r1[i])*uint(w1) + 128) >> 8)
	}
}

// maxFusedTaps is the most taps vArea filters in one pass; filters with
// more accumulate row by row (vAreaAcc, areaFinish).
const maxFusedTaps = 8

// vAreaPortable is vertical area averaging in one pass over the first taps
// rows: dst[x] = (Σₖ rows[k][x]·w[k] + 8192) >> 14. Rows that weigh 0 are
// skipped; the others are summed eight pixels at a time in two 32-bit lanes
// per uint64 (a lane's sum is below 2^30, so lanes never carry), or as a
// box when the weights are a 4:1 filter's.
func vAreaPortable(dst []byte, rows [maxFusedTaps][]byte, w [maxFusedTaps]int, taps int) {
	n := len(dst)
	var rs [maxFusedTaps][]byte
	var ws [maxFusedTaps]uint64
	m := 0
	for k := range taps {
		if w[k] != 0 {
			rs[m], ws[m] = rows[k][:n], uint64(w[k])
			m++
		}
	}
	if m == 0 {
		clear(dst)
		return
	}
	i := 0
	switch {
	case isBox4(ws[:m]):
		i = vBox4(dst, rs[0], rs[1], rs[2], rs[3])
	case m <= 4:
		for k := m; k < 4; k++ {
			rs[k] = rs[0] // weight 0
		}
		i = vArea4(dst, rs[0], rs[1], rs[2], rs[3], ws[0], ws[1], ws[2], ws[3])
	case m == 5:
		i = vArea5(dst, &rs, &ws)
	default:
		i = vAreaN(dst, rs[:m], ws[:m])
	}
	for ; i < n; i++ {
		sum := uint64(areaOne / 2)
		for k, r := range rs[:m] {
			sum += uint64(r[i]) * ws[k]
		}
		dst[i] = byte(sum >> areaBits)
	}
}

const (
	lanes32   = 0x000000FF000000FF // the low byte of each 32-bit lane
	bytes32   = lanes32 << 8       // the second byte of each 32-bit lane
	areaRound = areaOne/2<<32 | areaOne/2
)

// The vertical area kernels split eight pixels x into four pairs without
// moving the odd ones down: x&lanes32 holds pixels 0 and 4, x&bytes32
// pixels 1 and 5 times 256 (sums stay below 2^30 per lane), and the same
// for x>>16. areaPack8 narrows the four lane sums, s1 and s3 the scaled
// ones, to eight bytes; l32 and b32 are maskLanes32 and maskBytes32.
func areaPack8(s0, s1, s2, s3, l32, b32 uint64) uint64 {
	return s0>>areaBits&l32 | s1>>areaBits&b32 | (s2>>areaBits&l32|s3>>areaBits&b32)<<16
}

// vArea4 sums four rows (unused ones repeat r0 with weight 0) eight pixels
// at a time and returns how many pixels it wrote.
func vArea4(dst, r0, r1, r2, r3 []byte, w0, w1, w2, w3 uint64) int {
	n := len(dst) &^ 7
	r0, r1, r2, r3 = r0[:n:n], r1[:n:n], r2[:n:n], r3[:n:n]
	l32, b32 := maskLanes32, maskBytes32
	for i := 0; i+8 <= n; i += 8 {
		a, b, c, d := load8(r0, i), load8(r1, i), load8(r2, i), load8(r3, i)
		s0 := a&l32*w0 + b&l32*w1 + c&l32*w2 + d&l32*w3 + areaRound
		s1 := a&b32*w0 + b&b32*w1 + c&b32*w2 + d&b32*w3 + areaRound<<8
		a, b, c, d = a>>16, b>>16, c>>16, d>>16
		s2 := a&l32*w0 + b&l32*w1 + c&l32*w2 + d&l32*w3 + areaRound
		s3 := a&b32*w0 + b&b32*w1 + c&b32*w2 + d&b32*w3 + areaRound<<8
		store8(dst, i, areaPack8(s0, s1, s2, s3, l32, b32))
	}
	return n
}

// vArea5 is vArea4 for five rows.
func vArea5(dst []byte, rows *[maxFusedTaps][]byte, w *[maxFusedTaps]uint64) int {
	n := len(dst) &^ 7
	r0, r1, r2, r3, r4 := rows[0][:n:n], rows[1][:n:n], rows[2][:n:n], rows[3][:n:n], rows[4][:n:n]
	w0, w1, w2, w3, w4 := w[0], w[1], w[2], w[3], w[4]
	l32, b32 := maskLanes32, maskBytes32
	for i := 0; i+8 <= n; i += 8 {
		a, b, c, d, e := load8(r0, i), load8(r1, i), load8(r2, i), load8(r3, i), load8(r4, i)
		s0 := a&l32*w0 + b&l32*w1 + c&l32*w2 + d&l32*w3 + e&l32*w4 + areaRound
		s1 := a&b32*w0 + b&b32*w1 + c&b32*w2 + d&b32*w3 + e&b32*w4 + areaRound<<8
		a, b, c, d, e = a>>16, b>>16, c>>16, d>>16, e>>16
		s2 := a&l32*w0 + b&l32*w1 + c&l32*w2 + d&l32*w3 + e&l32*w4 + areaRound
		s3 := a&b32*w0 + b&b32*w1 + c&b32*w2 + d&b32*w3 + e&b32*w4 + areaRound<<8
		store8(dst, i, areaPack8(s0, s1, s2, s3, l32, b32))
	}
	return n
}

// vAreaN is vArea4 for any number of rows.
func vAreaN(dst []byte, rows [][]byte, w []uint64) int {
	n := len(dst) &^ 7
	w = w[:len(rows)]
	l32, b32 := maskLanes32, maskBytes32
	for i := 0; i+8 <= n; i += 8 {
		s0, s1, s2, s3 := uint64(areaRound), uint64(areaRound<<8), uint64(areaRound), uint64(areaRound<<8)
		for k, r := range rows {
			a, wk := load8(r, i), w[k]
			s0 += a & l32 * wk
			s1 += a & b32 * wk
			s2 += a >> 16 & l32 * wk
			s3 += a >> 16 & b32 * wk
		}
		store8(dst, i, areaPack8(s0, s1, s2, s3, l32, b32))
	}
	return n
}

// vAreaAccPortable adds one weighted row to the accumulator: acc[x] += row[x]·w.
func vAreaAccPortable(acc []uint32, row []byte, w int) {
	row = row[:len(acc)]
	W := uint32(w)
	for i, v := range row {
		acc[i] += uint32(v) * W
	}
}

// areaFinishPortable rounds accumulated 14-bit sums to bytes and clears the accumulator.
func areaFinishPortable(dst []byte, acc []uint32) {
	acc = acc[:len(dst)]
	for i, v := range acc {
		dst[i] = byte((v + areaOne/2) >> areaBits)
		acc[i] = 0
	}
}

// hHalfPortable halves a row: dst[i] = (src[2i] + src[2i+1] + 1) >> 1.
func hHalfPortable(dst, src []byte) {
	n := len(dst)
	src = src[:2*n]
	m, m16 := maskLo8, maskLanes16
	i := 0
	for ; i+8 <= n; i += 8 {
		a, b := load8(src, 2*i), load8(src, 2*i+8)
		s0 := (a&m + a>>8&m + ones1) >> 1
		s1 := (b&m + b>>8&m + ones1) >> 1
		store8(dst, i, pack4(s0&m, m16)|pack4(s1&m, m16)<<32)
	}
	for ; i < n; i++ {
		dst[i] = byte((uint(src[2*i]) + uint(src[2*i+1]) + 1) >> 1)
	}
}

// hResamplePortable resamples a row horizontally with a bilinear or area
// filter.
func hResamplePortable(dst, src []byte, f *filter) { f.from(dst, src, f, 0) }

// hAreaPortable computes outputs [n, len(dst)) of an n-tap area filter:
// dst[i] = (Σₖ src[index[i]+k]·weight[i·taps+k] + 8192) >> 14.
func hAreaPortable(dst, src []byte, f *filter, n int) {
	taps := f.taps
	index, weight := f.index[n:], f.weight[n*taps:]
	dst = dst[n:][:len(index)]
	for i, j := range index {
		s := src[j : int(j)+taps]
		w := weight[i*taps : i*taps+taps]
		w = w[:len(s)]
		var sum uint
		for k, v := range s {
			sum += uint(v) * uint(w[k])
		}
		dst[i] = byte((sum + areaOne/2) >> areaBits)
	}
}

// hArea4Portable is hAreaPortable for exactly four taps, the common case of
// ratios in (2, 3]. Loading the four bytes one by one leaves the
// arithmetic units only the multiplies and adds, which makes it faster
// than a window here.
func hArea4Portable(dst, src []byte, f *filter, n int) {
	quads := f.quads[n:]
	dst = dst[n:][:len(quads)]
	for i, q := range quads {
		a := int(q.at)
		s := src[a : a+4 : a+4]
		dst[i] = byte((uint(s[0])*uint(q.w[0]) + uint(s[1])*uint(q.w[1]) +
			uint(s[2])*uint(q.w[2]) + uint(s[3])*uint(q.w[3]) + areaOne/2) >> areaBits)
	}
}
