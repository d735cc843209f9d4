package compositor

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The 4:1 box paths of the portable kernels (vertical and horizontal) give
// the area formula's bytes, at every length and offset.
func TestPortableBox4(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for n := 0; n <= 100; n++ {
		off := r.IntN(16)
		var rows [maxFusedTaps][]byte
		for k := range 4 {
			rows[k] = randomBytes(r, n+off)[off:]
		}
		w := [maxFusedTaps]int{boxWeight, boxWeight, boxWeight, boxWeight}
		dst := make([]byte, n)
		vAreaPortable(dst, rows, w, 4)
		for i := range n {
			want := byte((int(rows[0][i]) + int(rows[1][i]) + int(rows[2][i]) + int(rows[3][i]) + 2) >> 2)
			if dst[i] != want {
				t.Fatalf("vertical box n=%d [%d] = %d, want %d", n, i, dst[i], want)
			}
		}
		if n == 0 {
			continue
		}
		f := newFilter(4*n, n)
		if !isHBox4(&f) {
			t.Fatalf("4:1 filter for D=%d is not a box", n)
		}
		src := randomBytes(r, 4*n+off)[off:]
		out := make([]byte, n+1)
		out[n] = 0xA5
		portable.hResample(out[:n], src, &f)
		want := make([]byte, n)
		for i := range want {
			want[i] = byte((int(src[4*i]) + int(src[4*i+1]) + int(src[4*i+2]) + int(src[4*i+3]) + 2) >> 2)
		}
		if !bytes.Equal(out[:n], want) || out[n] != 0xA5 {
			t.Fatalf("horizontal box D=%d differs or wrote past its end", n)
		}
	}
}

// The 4:3 bilinear kernel gives the bilinear formula's bytes for every
// width, from any starting output.
func TestPortableRatio43(t *testing.T) {
	if f := newFilter(1280, 960); f.n43 != 960 {
		t.Fatalf("1280 → 960: %d periodic outputs, want 960", f.n43)
	}
	r := rand.New(rand.NewPCG(33, 34))
	for D := 3; D <= 300; D += 3 {
		S := D / 3 * 4
		f := newFilter(S, D)
		off := r.IntN(16)
		src := randomBytes(r, S+off)[off:]
		want := make([]byte, D)
		for i, p := range f.pairs {
			want[i] = byte((int(src[p.at])*int(p.w0) + int(src[p.at+1])*int(p.w1) + 128) >> 8)
		}
		for _, n := range []int{0, min(16, D)} {
			got := make([]byte, D+1)
			got[D] = 0xA5
			copy(got[:n], want[:n])
			f.from(got[:D], src, &f, n)
			if !bytes.Equal(got[:D], want) || got[D] != 0xA5 {
				t.Fatalf("S=%d D=%d from %d (%d periodic): rows differ or written past the end", S, D, n, f.n43)
			}
		}
	}
}

// Equal vertical bilinear weights (the average) give the formula's bytes.
func TestPortableBilinearAverage(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for n := 0; n <= 100; n++ {
		a, b := randomBytes(r, n), randomBytes(r, n)
		dst := make([]byte, n)
		vBilinearPortable(dst, a, b, 128, 128)
		for i := range n {
			if want := byte((int(a[i])*128 + int(b[i])*128 + 128) >> 8); dst[i] != want {
				t.Fatalf("n=%d [%d] = %d, want %d", n, i, dst[i], want)
			}
		}
	}
}

// The four- and five-row vertical area kernels give the area formula's
// bytes with every weight of every 4- and 5-tap filter and with unequal
// weights, worst-case bytes included.
func TestPortableArea45(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	weights := [][5]int{{1000, 4000, 5000, 4384, 2000}, {3000, 3000, 4000, 3000, 3384}, {3000, 5000, 5000, 3384}}
	for _, sd := range [][2]int{{1080, 300}, {720, 203}, {1081, 310}, {100, 27}, {1080, 400}, {720, 250}, {101, 37}} {
		f := newFilter(sd[0], sd[1])
		if f.taps != 4 && f.taps != 5 {
			t.Fatalf("%v: %d taps, want 4 or 5", sd, f.taps)
		}
		for o := range sd[1] {
			var ws [5]int
			for k, v := range f.weight[f.taps*o : f.taps*o+f.taps] {
				ws[k] = int(v)
			}
			weights = append(weights, ws)
		}
	}
	for o, ws := range weights {
		n := 1 + r.IntN(80)
		var rows [maxFusedTaps][]byte
		var w [maxFusedTaps]int
		for k := range 5 {
			rows[k] = randomBytes(r, n)
			if o%3 == 0 {
				for i := range rows[k] {
					rows[k][i] = 255
				}
			}
			w[k] = ws[k]
		}
		dst := make([]byte, n)
		vAreaPortable(dst, rows, w, 5)
		for i := range n {
			sum := areaOne / 2
			for k := range 5 {
				sum += int(rows[k][i]) * w[k]
			}
			if want := byte(sum >> areaBits); dst[i] != want {
				t.Fatalf("weights %v: [%d] = %d, want %d", ws, i, dst[i], want)
			}
		}
	}
}

// The portable window kernels (three multiplies up to 6 taps, four up to
// 8) give the area formula's bytes with every weight of real filters, on
// random and all-255 rows at every offset, from any starting output.
func TestPortableWindows(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	sizes := [][2]int{{1278, 316}, {639, 158}, {1280, 360}, {640, 180}, {1274, 478}, {637, 239},
		{720, 202}, {1280, 427}, {1280, 400}, {90, 30}, {1280, 200}, {1280, 230}, {640, 97}, {20, 3}}
	for range 200 {
		D := 1 + r.IntN(200)
		sizes = append(sizes, [2]int{2*D + 1 + r.IntN(6*D), D})
	}
	six, eight := 0, 0
	for _, sd := range sizes {
		S, D := sd[0], sd[1]
		f := newFilter(S, D)
		if f.kind != kindArea || f.taps > windowTaps || isHBox4(&f) {
			continue
		}
		six += len(f.wins6)
		eight += len(f.wins)
		for rep := range 3 {
			off := r.IntN(16)
			src := randomBytes(r, S+off)[off:]
			if rep == 0 {
				for i := range src {
					src[i] = 255
				}
			}
			want := make([]byte, D)
			for i := range D {
				sum := areaOne / 2
				for k, w := range f.weight[i*f.taps : (i+1)*f.taps] {
					sum += int(src[int(f.index[i])+k]) * int(w)
				}
				want[i] = byte(sum >> areaBits)
			}
			for _, n := range []int{0, min(D, 1+r.IntN(8))} {
				got := make([]byte, D+1)
				got[D] = 0xA5
				copy(got[:n], want[:n])
				f.from(got[:D], src, &f, n)
				if !bytes.Equal(got[:D], want) || got[D] != 0xA5 {
					t.Fatalf("S=%d D=%d taps=%d from %d: rows differ or written past the end", S, D, f.taps, n)
				}
			}
		}
	}
	if six == 0 || eight == 0 {
		t.Fatalf("windows tested: %d of up to 6 taps, %d of up to 8", six, eight)
	}
}
