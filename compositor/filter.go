package compositor

import "math"

// Fixed-point scales of the filters.
const (
	bilinearBits = 8                 // 2-tap weights are in units of 2^-8
	bilinearOne  = 1 << bilinearBits // and sum to this
	areaBits     = 14                // n-tap weights are in units of 2^-14
	areaOne      = 1 << areaBits     // and sum to this
)

// filterKind tells how one axis is resampled.
type filterKind uint8

const (
	kindCopy     filterKind = iota // same size: output i is sample i
	kindBilinear                   // two taps, weights /256 (also exact 2:1)
	kindArea                       // n taps, weights /16384
)

// filter maps D destination samples onto S source samples along one axis.
// Source indices are relative to the crop. Its tables, by kind:
//
//   - kindCopy: S == D, taps 1, no tables.
//   - kindBilinear: 2 ≤ S ≤ 2D, S ≠ D, taps 2. pairs has D entries; output
//     i reads src[at] and src[at+1] with 0 ≤ at and at+1 < S, and
//     w0 + w1 == 256. half is S == 2D, where pairs[i] is (2i, 128, 128).
//   - kindArea: S > 2D, or 1 == S < D. taps is S/D when D divides S, else
//     min(⌈S/D⌉+1, S). index has D entries and weight taps·D: output i
//     reads src[index[i]+k] with weight[i·taps+k] for k < taps, all inside
//     [0, S); the weights are ≥ 0 and sum to exactly 16384. quads is the
//     same, packed, when taps == 4; wins6 is the same in the portable
//     three-multiply window form when 4 < taps ≤ 6, wins in the
//     four-multiply form when 6 < taps ≤ 8 (windows.go); nil otherwise.
//
// The portable kernels' own tables: blend packs every bilinear pair
// (windows.go); ph43 and n43 are a 4:3 bilinear filter's phases and how
// many leading outputs follow them (ratio43.go). A 4:1 area filter is a box
// (box.go). newFilter picks from accordingly, once.
//
// For bilinear and area filters, from computes outputs [n, D) with the
// portable kernel for these tables, and vec, when the kernel set in use
// has built it (kernels.table), holds the filter in that set's vector form
// (none when half, which has kernels of its own).
type filter struct {
	srcLen int // S
	kind   filterKind
	taps   int
	half   bool
	pairs  []tap2
	index  []int32
	weight []int16
	quads  []tap4
	wins6  []window6
	wins   []window
	blend  []blend
	ph43   phases43
	n43    int
	vec    vectorTable
	from   func(dst, src []byte, f *filter, n int)
}

// vectorTable is a horizontal filter in the form a vector kernel set reads
// (groups_avx512.go, lanes_avx2.go): the outputs it covers, in groups.
type vectorTable interface{ groups() int }

// span returns the source samples [lo, hi) that output i reads.
func (f *filter) span(i int) (lo, hi int) {
	switch f.kind {
	case kindCopy:
		return i, i + 1
	case kindBilinear:
		return int(f.pairs[i].at), int(f.pairs[i].at) + 2
	}
	return int(f.index[i]), int(f.index[i]) + f.taps
}

// tap4 is one 4-tap area output: Σₖ src[at+k]·w[k], Σ w = 16384.
type tap4 struct {
	at int32
	w  [4]uint16
}

// tap2 is one bilinear output: src[at]·w0 + src[at+1]·w1, w0 + w1 = 256.
type tap2 struct {
	at     int32
	w0, w1 uint16
}

// newFilter builds the filter for S source and D destination samples.
func newFilter(S, D int) filter {
	var f filter
	switch {
	case S == D:
		f = filter{kind: kindCopy, taps: 1}
	case S == 1: // one source sample: every output is that sample
		f = areaFilter(S, D)
	case S <= 2*D:
		f = bilinearFilter(S, D)
	default:
		f = areaFilter(S, D)
	}
	f.srcLen = S
	return f
}

// bilinearFilter samples at the centre of each destination pixel:
// position (i + ½)·S/D − ½ in source pixels, clamped to the source.
func bilinearFilter(S, D int) filter {
	f := filter{kind: kindBilinear, taps: 2, half: S == 2*D, pairs: make([]tap2, D), from: hBlendPortable}
	r := float64(S) / float64(D)
	for i := range D {
		var i0, w1 int
		if f.half {
			i0, w1 = 2*i, bilinearOne/2
		} else {
			pos := (float64(i)+0.5)*r - 0.5
			i0 = int(math.Floor(pos))
			w1 = int(math.Round((pos - float64(i0)) * bilinearOne))
			if w1 == bilinearOne {
				i0, w1 = i0+1, 0
			}
			switch {
			case i0 < 0:
				i0, w1 = 0, 0
			case i0 >= S-1:
				i0, w1 = S-1, 0
			}
		}
		if i0 == S-1 && S > 1 { // keep the second tap inside the source
			i0, w1 = S-2, bilinearOne
		}
		f.pairs[i] = tap2{at: int32(i0), w0: uint16(bilinearOne - w1), w1: uint16(w1)}
	}
	f.blend = newBlends(f.pairs)
	if f.ph43, f.n43 = newPhases43(S, f.pairs); f.n43 > 0 {
		f.from = hBlend43Portable
	}
	return f
}

// areaFilter averages the source samples under each destination sample,
// weighted by coverage. Every output has the same number of taps (unused
// trailing taps weigh 0 and point inside the source).
func areaFilter(S, D int) filter {
	r := float64(S) / float64(D)
	taps := min(int(math.Ceil(r))+1, S)
	if S%D == 0 { // an integer ratio: every output covers exactly S/D samples
		taps = S / D
	}
	f := filter{kind: kindArea, taps: taps, index: make([]int32, D), weight: make([]int16, taps*D), from: hAreaPortable}
	w := make([]float64, taps)
	for i := range D {
		lo, hi := float64(i)*r, float64(i+1)*r
		first := int(math.Floor(lo))
		first = min(first, S-taps)
		first = max(first, 0)
		for k := range w {
			j := float64(first + k)
			w[k] = max(0, math.Min(hi, j+1)-math.Max(lo, j)) / r
		}
		f.index[i] = int32(first)
		quantize(w, f.weight[i*taps:(i+1)*taps])
	}
	switch {
	case isHBox4(&f):
		f.from = hBox4Portable
	case taps == 4:
		f.from = hArea4Portable
		f.quads = make([]tap4, D)
		for i := range D {
			q := &f.quads[i]
			q.at = f.index[i]
			for k := range 4 {
				q.w[k] = uint16(f.weight[4*i+k])
			}
		}
	case taps > 4 && taps <= window6Taps:
		f.from = hWindowPortable
		f.wins6 = newWindows6(S, f.index, f.weight, taps)
	case taps > window6Taps && taps <= windowTaps:
		f.from = hWindowPortable
		f.wins = newWindows(S, f.index, f.weight, taps)
	}
	return f
}

// quantize turns weights summing to 1 into 14-bit integers summing to
// exactly areaOne, each within 1 of its exact value: everything is rounded
// down, and the units left over go to the largest remainders.
func quantize(w []float64, out []int16) {
	left := areaOne
	for k, v := range w {
		out[k] = int16(math.Floor(v * areaOne))
		left -= int(out[k])
	}
	for ; left > 0; left-- {
		best, bestRem := 0, -1.0
		for k, v := range w {
			if rem := v*areaOne - float64(out[k]); rem > bestRem {
				best, bestRem = k, rem
			}
		}
		out[best]++
	}
}
