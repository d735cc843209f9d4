package compositor

import "encoding/binary"

// The portable horizontal kernels read each output's source samples with
// one load and weigh them with few multiplies, by packing two products into
// one 64-bit multiply: for bytes b and c in the two 32-bit lanes of v
// (v = b + c·2^32) and weights packed as P = wc + wb·2^32, the high lane of
// v·P is b·wb + c·wc. Area sums stay below 2^22 and the low lanes' products
// below 2^22, so four such products add up without carrying into each
// other. Bilinear pairs use 16-bit lanes the same way: their sums stay below
// 2^16.

// windowTaps is the most taps one window holds: one 8-byte load.
const windowTaps = 8

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

// newWindows packs the outputs of an area filter of at most windowTaps taps
// whose 8-byte window fits in S source samples (a prefix: index only grows).
func newWindows(S int, index []int32, weight []int16, taps int) []window {
	var ws []window
	for i, at := range index {
		if int(at)+windowTaps > S {
			break
		}
		var w [windowTaps]uint64
		for k, v := range weight[i*taps : (i+1)*taps] {
			w[k] = uint64(v)
		}
		ws = append(ws, window{at: at, w: [4]uint64{w[4]<<8 | w[0]<<40, w[5] | w[1]<<32, w[6]<<8 | w[2]<<40, w[7] | w[3]<<32}})
	}
	return ws
}

// hWindowPortable computes outputs [n, len(dst)) of an area filter of at
// most windowTaps taps: one load and four multiplies per output, and
// hAreaPortable for the last outputs, whose windows would pass the end of
// the source.
func hWindowPortable(dst, src []byte, f *filter, n int) {
	if n < len(f.wins) {
		windows(dst[n:len(f.wins)], src, f.wins[n:])
		n = len(f.wins)
	}
	hAreaPortable(dst, src, f, n)
}

// windows computes dst[i] from wins[i].
func windows(dst, src []byte, wins []window) {
	wins = wins[:len(dst)]
	for i := range wins {
		p := &wins[i]
		x := binary.LittleEndian.Uint64(src[p.at:])
		y := x >> 16
		s := x&lanes32*p.w[0] + x&bytes32*p.w[1] + y&lanes32*p.w[2] + y&bytes32*p.w[3]
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
