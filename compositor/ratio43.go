package compositor

import "encoding/binary"

// A bilinear filter that shrinks by exactly 4:3 (1280 → 960, 1920 → 1440)
// repeats every three outputs: output 3m+j reads src[4m+j] and
// src[4m+j+1] with the weights of phase j. Its portable kernel computes
// twelve outputs from sixteen source bytes at once: the bytes at each
// position c of four periods sit in the 16-bit lanes of one uint64 Sc, and
// phase j is Sj·w0ⱼ + Sj₊₁·w1ⱼ, four outputs per multiply pair (a lane
// holds at most 255·256 + 128 < 2^16, so lanes never carry).

// phases43 is a 4:3 bilinear filter's weights per phase.
type phases43 struct {
	w0, w1 [3]uint64
}

// newPhases43 returns the phases of a bilinear filter and how many of its
// leading outputs (a multiple of 12) follow them, reading 16 whole source
// bytes per 12 outputs within S; 0 when the filter is not 4:3.
func newPhases43(S int, pairs []tap2) (phases43, int) {
	var ph phases43
	if len(pairs) < 12 {
		return ph, 0
	}
	for j, p := range pairs[:3] {
		ph.w0[j], ph.w1[j] = uint64(p.w0), uint64(p.w1)
	}
	n := 0
	for ; n+12 <= len(pairs) && 4*n/3+16 <= S; n += 12 {
		for i := n; i < n+12; i++ {
			m, j := i/3, i%3
			if p := pairs[i]; int(p.at) != 4*m+j || uint64(p.w0) != ph.w0[j] || uint64(p.w1) != ph.w1[j] {
				return ph, n
			}
		}
	}
	return ph, n
}

// hBlend43Portable computes outputs [n, len(dst)) of a 4:3 bilinear filter:
// its periodic prefix twelve outputs at a time, the rest with hBlendPortable.
func hBlend43Portable(dst, src []byte, f *filter, n int) {
	if n == 0 {
		blend43(dst[:f.n43], src, &f.ph43)
		n = f.n43
	}
	hBlendPortable(dst, src, f, n)
}

// blend43 computes len(dst) (a multiple of 12) outputs of the phases from
// src[:len(dst)/3*4].
func blend43(dst, src []byte, ph *phases43) {
	const round = 0x0080008000800080
	w00, w01, w02, w10, w11, w12 := ph.w0[0], ph.w0[1], ph.w0[2], ph.w1[0], ph.w1[1], ph.w1[2]
	l32, h32, m := maskLanes32, maskLanes32<<16, maskLo8
	src = src[:len(dst)/12*16]
	for i, j := 0, 0; i+12 <= len(dst) && j+16 <= len(src); i, j = i+12, j+16 {
		x := src[j : j+16 : j+16]
		// Byte c of periods 0, 2, 1, 3 in 16-bit lanes: periods 0 and 1
		// from the word at c, 2 and 3 from the word at c+6 (c+8 shifted
		// for the last, which would pass the block).
		x8 := load8(x, 8)
		s0 := load8(x, 0)&l32 | load8(x, 6)&h32
		s1 := load8(x, 1)&l32 | load8(x, 7)&h32
		s2 := load8(x, 2)&l32 | x8&h32
		s3 := load8(x, 3)&l32 | x8>>8&h32
		o0 := (s0*w00 + s1*w10 + round) >> 8 & m
		o1 := (s1*w01 + s2*w11 + round) >> 8 & m
		o2 := (s2*w02 + s3*w12 + round) >> 8 & m
		t := o0 | o1<<8 // per period: phases 0 and 1
		lo := t&0xFFFF | o2&0xFF<<16 | t>>32&0xFFFF<<24 | o2>>32&0xFF<<40 | t>>16&0xFFFF<<48
		hi := o2>>16&0xFF | t>>48<<8 | o2>>48&0xFF<<24
		store8(dst, i, lo)
		binary.LittleEndian.PutUint32(dst[i+8:i+12:i+12], uint32(hi))
	}
}
