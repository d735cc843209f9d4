//go:build goexperiment.simd && amd64

package compositor

const (
	laneGroup    = 32 // outputs per group of the AVX2 horizontal kernel
	laneBlock    = 4  // outputs per window: one 128-bit lane of 32-bit sums
	groupVectors = laneGroup / laneBlock / 2
	maxChunks    = 4 // 16-byte loads per window at most
)

// laneTable is a horizontal bilinear or area filter in the form the AVX2
// kernel wants. AVX2's byte shuffle selects only within a 128-bit lane, so
// outputs come in blocks of laneBlock that each read one window of
// chunks·16 source bytes into one lane; a group is laneGroup outputs, eight
// blocks in four vectors. Block b of a group (outputs first+4b to
// first+4b+3) is in vector b%4, lane b/4: packing vectors 0 and 1, and 2
// and 3, to 16 bits and those two to bytes then yields the outputs in
// order. Groups start every laneGroup outputs, and a last one ends at D
// (overlapping its predecessor: outputs do not depend on each other), so
// the table covers every output.
//
// Per group g, plane p (taps 2p and 2p+1) and chunk c, the record
// rec[(g·planes+p)·chunks+c] holds, per vector, byte indices that place
// each output's two taps in the low bytes of two 16-bit values (into the
// chunk's 16 bytes; -1 for zero: high bytes, taps outside the chunk, the
// padding tap of an odd count), and in chunk 0 their weights. A kernel ORs
// the chunks, multiplies, adds pairs, sums the planes, rounds and narrows
// by bits: the portable kernels' integer formula, so the same bytes.
type laneTable struct {
	bits   uint
	planes int
	chunks int
	first  []int
	base   [][2 * groupVectors]int32 // per group, per block: its window's first byte
	rec    []laneRecord
}

// laneRecord is one plane and chunk of a group.
type laneRecord struct {
	idx [groupVectors][32]int8
	w   [groupVectors][16]int16
}

func (t *laneTable) groups() int { return len(t.first) }

// newLaneTable builds the table for a bilinear or area filter f of S
// source samples, or returns nil when it has fewer than laneGroup outputs,
// or windows wider than maxChunks·16 bytes or than the source.
func newLaneTable(f *filter) vectorTable {
	D, S, taps := f.outputs(), f.srcLen, f.taps
	if D < laneGroup {
		return nil
	}
	t := &laneTable{bits: f.bits(), planes: (taps + 1) / 2}
	for first := 0; first < D; first += laneGroup {
		t.first = append(t.first, min(first, D-laneGroup))
	}
	for _, first := range t.first {
		for b := range 2 * groupVectors {
			o := first + laneBlock*b
			span := f.first(o+laneBlock-1) + taps - f.first(o)
			t.chunks = max(t.chunks, (span+15)/16)
		}
	}
	if t.chunks > maxChunks || 16*t.chunks > S {
		return nil
	}
	t.base = make([][2 * groupVectors]int32, len(t.first))
	t.rec = make([]laneRecord, len(t.first)*t.planes*t.chunks)
	for i := range t.rec {
		for v := range t.rec[i].idx {
			for j := range t.rec[i].idx[v] {
				t.rec[i].idx[v][j] = -1
			}
		}
	}
	for g, first := range t.first {
		for b := range 2 * groupVectors {
			v, lane := b%groupVectors, b/groupVectors
			o := first + laneBlock*b
			base := min(f.first(o), S-16*t.chunks)
			t.base[g][b] = int32(base)
			for j := range laneBlock {
				for k := range taps {
					at := f.first(o+j) + k - base
					p, e := k/2, 8*lane+2*j+k%2 // plane, 16-bit element
					r := (g*t.planes + p) * t.chunks
					t.rec[r+at/16].idx[v][2*e] = int8(at % 16)
					t.rec[r].w[v][e] = int16(f.weightOf(o+j, k))
				}
			}
		}
	}
	return t
}
