package compositor

import "encoding/binary"

// The portable horizontal area kernels read each output's source samples
// with few loads and weigh them with few multiplies, by packing two
// products into one 64-bit multiply: for bytes b and c in two lanes of v
// (v = b + c·2^s) and weights packed as P = wc + wb·2^s, the lane at bit s
// of v·P is b·wb + c·wc. An area output's whole sum is below
// 255·16384 < 2^22, so with lanes 24 or more bits apart the products' sums
// at bit s never carry into each other: filters of 5 or 6 taps pair bytes
// j and j+3 (s = 24, three multiplies), of 7 or 8 bytes j and j+4 (s = 32,
// four). The arithmetic units are what these kernels wait for, not the
// loads: a byte or a pair costs a load rather than shifts where it can.
// Bilinear pairs use 16-bit lanes the same way: their sums stay below 2^16.

// windowTaps is the most taps one window holds: one 8-byte load.
const windowTaps = 8

// window6Taps is the most taps a window6 holds.
const window6Taps = 6

// window6 is one area output of at most window6Taps taps for
// hWindowPortable: it reads x = src[at:at+6], and w[j] weighs bytes j and
// j+3 (zero past the filter's taps), which the 32-bit word at x[j] masked
// with 0xFF0000FF holds at bits 0 and 24: w[j] = weight[j+3] | weight[j]<<24.
// Summed over j, the products hold the output's sum at bit 24, below it
// the sum of the crossed products byte j·weight[j+3] (< 2^22), and from
// bit 48 only the other crossed products.
type window6 struct {
	at int32
	w  [3]uint64
}

// newWindows6 packs the outputs of an area filter of at most window6Taps
// taps.
func newWindows6(S int, index []int32, weight []int16, taps int) []window6 {
	return packWindows(S, window6Taps, index, weight, taps, func(at int32, w *[windowTaps]uint64) window6 {
		return window6{at: at, w: [3]uint64{w[3] | w[0]<<24, w[4] | w[1]<<24, w[5] | w[2]<<24}}
	})
}

// windows6 computes dst[i] from wins[i]. The sum sits at bits 24–45; after
// the rounding shift what lies from bit 48 is from bit 10, outside the
// byte.
func windows6(dst, src []byte, wins []window6) {
	wins = wins[:len(dst)]
	for i := range wins {
		p := &wins[i]
		at := int(p.at)
		x := src[at : at+6 : at+6]
		s := uint64(binary.LittleEndian.Uint32(x)&0xFF0000FF)*p.w[0] +
			uint64(binary.LittleEndian.Uint32(x[1:])&0xFF0000FF)*p.w[1] +
			uint64(binary.LittleEndian.Uint32(x[2:])&0xFF0000FF)*p.w[2]
		dst[i] = byte((s>>24 + areaOne/2) >> areaBits)
	}
}

// window is one area output for hWindowPortable: it reads x =
// src[at:at+8], and w[j] weighs bytes j and j+4 (zero past the filter's
// taps) where they sit in x or x>>16: bytes 0 and 1 of each 32-bit lane, so
// w[0] and w[2] are weight[j+4]<<8 | weight[j]<<40 and w[1] and w[3]
// weight[j+4] | weight[j]<<32. Every product then puts its pair's sum at
// bit 40, above low parts that add up to less than 2^32.
type window struct {
	at int32
	w  [4]uint64
}

// newWindows packs the outputs of an area filter of at most windowTaps
// taps.
func newWindows(S int, index []int32, weight []int16, taps int) []window {
	return packWindows(S, windowTaps, index, weight, taps, func(at int32, w *[windowTaps]uint64) window {
		return window{at: at, w: [4]uint64{w[4]<<8 | w[0]<<40, w[5] | w[1]<<32, w[6]<<8 | w[2]<<40, w[7] | w[3]<<32}}
	})
}

// packWindows packs, with pack, the outputs of an area filter of at most
// windowTaps taps whose windows of width bytes fit in S source samples (a
// prefix: index only grows); pack gets an output's weights, zero past its
// taps.
func packWindows[T any](S, width int, index []int32, weight []int16, taps int, pack func(at int32, w *[windowTaps]uint64) T) []T {
	var ws []T
	for i, at := range index {
		if int(at)+width > S {
			break
		}
		var w [windowTaps]uint64
		for k, v := range weight[i*taps : (i+1)*taps] {
			w[k] = uint64(v)
		}
		ws = append(ws, pack(at, &w))
	}
	return ws
}

// hWindowPortable computes outputs [n, len(dst)) of an area filter of at
// most windowTaps taps: from its windows (one load and three or four
// multiplies per output), then with hAreaPortable for the last outputs,
// whose windows would pass the end of the source.
func hWindowPortable(dst, src []byte, f *filter, n int) {
	switch {
	case n < len(f.wins6):
		windows6(dst[n:len(f.wins6)], src, f.wins6[n:])
		n = len(f.wins6)
	case n < len(f.wins):
		windows(dst[n:len(f.wins)], src, f.wins[n:])
		n = len(f.wins)
	}
	hAreaPortable(dst, src, f, n)
}

// windows computes dst[i] from wins[i].
func windows(dst, src []byte, wins []window) {
	wins = wins[:len(dst)]
	l32, b32 := maskLanes32, maskBytes32
	for i := range wins {
		p := &wins[i]
		x := load8(src, int(p.at))
		y := x >> 16
		s := x&l32*p.w[0] + x&b32*p.w[1] + y&l32*p.w[2] + y&b32*p.w[3]
		dst[i] = byte((s>>40 + areaOne/2) >> areaBits)
	}
}

// blend is one bilinear output for hBlendPortable: src[at]·w0 + src[at+1]·w1
// with w = w1 | w0<<16.
type blend struct {
	at int32
	w  uint32
}

// newBlends packs a bilinear filter's pairs.
func newBlends(pairs []tap2) []blend {
	bs := make([]blend, len(pairs))
	for i, p := range pairs {
		bs[i] = blend{at: p.at, w: uint32(p.w1) | uint32(p.w0)<<16}
	}
	return bs
}

// hBlendPortable computes outputs [n, len(dst)) of a bilinear filter:
// dst[i] = (src[at]·w0 + src[at+1]·w1 + 128) >> 8, one load and one
// multiply per output.
func hBlendPortable(dst, src []byte, f *filter, n int) {
	blends := f.blend[n:]
	dst = dst[n:][:len(blends)]
	for i, b := range blends {
		y := uint64(binary.LittleEndian.Uint16(src[b.at:]))
		v := y&0xFF | y&0xFF00<<8 // src[at] | src[at+1]<<16
		dst[i] = byte((v*uint64(b.w) + 128<<16) >> 24)
	}
}
