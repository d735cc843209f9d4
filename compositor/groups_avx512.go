//go:build goexperiment.simd && amd64

package compositor

// groupLen is how many horizontal outputs one vector step computes.
const groupLen = 16

// zeroLane is a two-table permute index that selects byte 0 of the second
// table.
const zeroLane = 64

// windowLen is the most source bytes one group may read: two 64-byte
// vectors that a two-table byte permute indexes as one.
const windowLen = 128

// vtable is a horizontal filter in the form a byte-permuting vector kernel
// wants, for the filter's leading whole groups of groupLen outputs. Group g
// reads a window of at most windowLen source bytes from base[g]. Its taps
// come in pair planes: plane p of group g, idx[g·planes+p], places taps 2p
// and 2p+1 of each output j as the low bytes of 16-bit lanes 2j and 2j+1
// (the high bytes are masked to zero, or, in a narrow table whose windows
// all fit 64 bytes, index a zero vector); w holds the matching weights. A
// kernel multiplies lanes by weights, adds pairs, sums the planes, rounds
// and narrows by bits: the portable kernels' integer formula, so the same
// bytes.
type vtable struct {
	narrow bool // every window fits 64 bytes: odd index bytes are zeroLane
	bits   uint // weights are in units of 2^-bits
	planes int
	base   []int32
	idx    [][64]uint8
	w      [][32]int16
}

// groups is the number of whole groups the table covers.
func (v *vtable) groups() int { return len(v.base) }

// newVtable builds the table for a bilinear or area filter f. It stops at the first group whose window exceeds windowLen bytes; kernels
// finish the remaining outputs with portable code.
func newVtable(f *filter) *vtable {
	D, taps := f.outputs(), f.taps
	at, weight := f.first, f.weightOf
	v := &vtable{planes: (taps + 1) / 2, narrow: true, bits: f.bits()}
	for g := 0; (g+1)*groupLen <= D; g++ {
		first := g * groupLen
		base := at(first)
		if at(first+groupLen-1)+taps-base > windowLen {
			break
		}
		v.narrow = v.narrow && at(first+groupLen-1)+taps-base <= 64
		v.base = append(v.base, int32(base))
		idx, w := make([][64]uint8, v.planes), make([][32]int16, v.planes)
		for j := range groupLen {
			for k := range taps {
				lane := 2*j + k%2
				idx[k/2][2*lane] = uint8(at(first+j) + k - base)
				w[k/2][lane] = int16(weight(first+j, k))
			}
		}
		v.idx, v.w = append(v.idx, idx...), append(v.w, w...)
	}
	if v.narrow {
		for i := range v.idx {
			for b := 1; b < 64; b += 2 {
				v.idx[i][b] = zeroLane
			}
		}
	}
	return v
}
