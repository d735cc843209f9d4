package compositor

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tessera-media/tessera/layout"
)

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// The portable set is always there, last; a name that is not a set is
// refused.
func TestKernelSets(t *testing.T) {
	names := KernelSets()
	if names[len(names)-1] != "portable" {
		t.Fatalf("KernelSets() = %v: portable is not last", names)
	}
	for _, name := range names {
		c := New(layout.Size{W: 64, H: 64}, Options{Kernels: name})
		if c.Kernels() != name {
			t.Errorf("Options.Kernels %q runs %q", name, c.Kernels())
		}
		c.Close()
	}
	if c := New(layout.Size{W: 64, H: 64}, Options{}); c.Kernels() != names[0] {
		t.Errorf("the default set is %q, want the fastest, %q", c.Kernels(), names[0])
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `"mmx" is not available`) {
			t.Errorf("New with an unknown set: panic %v", r)
		}
	}()
	New(layout.Size{W: 64, H: 64}, Options{Kernels: "mmx"})
}

// Every kernel set this build and CPU can run (portable, and the vector
// sets with GOEXPERIMENT=simd) agrees with the formulas on random data,
// every length, every alignment.
func TestKernelsMatchFormulas(t *testing.T) {
	for _, k := range sets {
		t.Run(k.name, func(t *testing.T) { testKernelFormulas(t, k) })
	}
}

func testKernelFormulas(t *testing.T, k *kernels) {
	r := rand.New(rand.NewPCG(7, 8))
	implementation := k.name
	for n := 0; n <= 200; n++ {
		for range 4 {
			off := r.IntN(16)
			a, b := randomBytes(r, 2*n+off+32), randomBytes(r, 2*n+off+32)
			a, b = a[off:], b[off:]
			dst := make([]byte, n+8)
			guard := byte(r.IntN(256))
			for i := range dst {
				dst[i] = guard
			}
			k.box2x2(dst[:n], a, b)
			for i := range n {
				want := byte((int(a[2*i]) + int(a[2*i+1]) + int(b[2*i]) + int(b[2*i+1]) + 2) >> 2)
				if dst[i] != want {
					t.Fatalf("%s box2x2 n=%d [%d] = %d, want %d", implementation, n, i, dst[i], want)
				}
			}
			if dst[n] != guard {
				t.Fatalf("box2x2 wrote past its end")
			}
			rs := [4][]byte{}
			for j := range rs {
				rs[j] = randomBytes(r, 4*n+off+64)[off:]
			}
			k.box4x4(dst[:n], rs[0], rs[1], rs[2], rs[3])
			for i := range n {
				h := 0
				for x := 4 * i; x < 4*i+4; x++ {
					h += (int(rs[0][x]) + int(rs[1][x]) + int(rs[2][x]) + int(rs[3][x]) + 2) >> 2
				}
				if want := byte((h + 2) >> 2); dst[i] != want {
					t.Fatalf("%s box4x4 n=%d [%d] = %d, want %d", implementation, n, i, dst[i], want)
				}
			}
			if dst[n] != guard {
				t.Fatalf("box4x4 wrote past its end")
			}
			k.hHalf(dst[:n], a)
			for i := range n {
				if want := byte((int(a[2*i]) + int(a[2*i+1]) + 1) >> 1); dst[i] != want {
					t.Fatalf("%s hHalf n=%d [%d] = %d, want %d", implementation, n, i, dst[i], want)
				}
			}
			w1 := r.IntN(257)
			k.vBilinear(dst[:n], a, b, 256-w1, w1)
			for i := range n {
				if want := byte((int(a[i])*(256-w1) + int(b[i])*w1 + 128) >> 8); dst[i] != want {
					t.Fatalf("%s vBilinear n=%d w1=%d [%d] = %d, want %d", implementation, n, w1, i, dst[i], want)
				}
			}
			if dst[n] != guard {
				t.Fatalf("a kernel wrote past its end")
			}
			for taps := 1; taps <= maxFusedTaps; taps++ {
				var w [maxFusedTaps]int
				var rows [maxFusedTaps][]byte
				left := areaOne
				for t := range taps {
					w[t] = r.IntN(left + 1)
					if t == taps-1 {
						w[t] = left
					}
					left -= w[t]
					rows[t] = [][]byte{a, b}[t%2][t:]
				}
				for t := taps; t < maxFusedTaps; t++ {
					rows[t] = a
				}
				k.vArea(dst[:n], rows, w, taps)
				for i := range n {
					sum := 0
					for t := range taps {
						sum += int(rows[t][i]) * w[t]
					}
					if want := byte((sum + 8192) >> 14); dst[i] != want {
						t.Fatalf("%s vArea taps=%d n=%d [%d] = %d, want %d", implementation, taps, n, i, dst[i], want)
					}
				}
				if dst[n] != guard {
					t.Fatalf("vArea wrote past its end")
				}
			}
			acc := make([]uint32, n)
			w := r.IntN(areaOne / 2)
			k.vAreaAcc(acc, a, w)
			k.vAreaAcc(acc, b, areaOne-w)
			k.areaFinish(dst[:n], acc)
			for i := range n {
				if want := byte((int(a[i])*w + int(b[i])*(areaOne-w) + 8192) >> 14); dst[i] != want {
					t.Fatalf("%s vArea n=%d [%d] = %d, want %d", implementation, n, i, dst[i], want)
				}
				if acc[i] != 0 {
					t.Fatal("areaFinish left the accumulator dirty")
				}
			}
		}
	}
}

// The horizontal filters of every kernel set agree with the formulas for
// random spans of every ratio class (upscaling, bilinear below 2:1, area
// with any number of taps), on rows at every offset, and write nothing past
// their end.
func TestHorizontalKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, k := range sets {
		grouped := 0
		for range 600 {
			D := 1 + r.IntN(300)
			S := 1 + r.IntN(10*D)
			f := newFilter(S, D)
			if f.kind == kindCopy || f.half {
				continue
			}
			if k.table != nil {
				k.table(&f)
			}
			groups := 0
			if f.vec != nil {
				groups = f.vec.groups()
			}
			off := r.IntN(64)
			src := randomBytes(r, S+off)[off:]
			dst := make([]byte, D+1)
			dst[D] = 0xA5
			k.hResample(dst[:D], src, &f)
			want := make([]byte, D)
			for i := range D {
				if f.kind == kindBilinear {
					p := f.pairs[i]
					want[i] = byte((int(src[p.at])*int(p.w0) + int(src[p.at+1])*int(p.w1) + 128) >> 8)
					continue
				}
				sum := 0
				for t, w := range f.weight[i*f.taps : (i+1)*f.taps] {
					sum += int(src[int(f.index[i])+t]) * int(w)
				}
				want[i] = byte((sum + areaOne/2) >> areaBits)
			}
			grouped += groups
			if !bytes.Equal(dst[:D], want) {
				t.Fatalf("%s: S=%d D=%d (%d vector groups): rows differ", k.name, S, D, groups)
			}
			if dst[D] != 0xA5 {
				t.Fatalf("%s: S=%d D=%d wrote past its end", k.name, S, D)
			}
		}
		if k.table != nil && grouped == 0 {
			t.Fatalf("%s: no case had vector groups", k.name)
		}
	}
}
