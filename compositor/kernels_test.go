package compositor

import (
	"math/rand/v2"
	"testing"
)

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// The kernels in use (portable, or vector with GOEXPERIMENT=simd) agree
// with the formulas on random data, every length, every alignment.
func TestKernelsMatchFormulas(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
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
			box2x2(dst[:n], a, b)
			for i := range n {
				want := byte((int(a[2*i]) + int(a[2*i+1]) + int(b[2*i]) + int(b[2*i+1]) + 2) >> 2)
				if dst[i] != want {
					t.Fatalf("%s box2x2 n=%d [%d] = %d, want %d", implementation, n, i, dst[i], want)
				}
			}
			if dst[n] != guard {
				t.Fatalf("box2x2 wrote past its end")
			}
			hHalf(dst[:n], a)
			for i := range n {
				if want := byte((int(a[2*i]) + int(a[2*i+1]) + 1) >> 1); dst[i] != want {
					t.Fatalf("%s hHalf n=%d [%d] = %d, want %d", implementation, n, i, dst[i], want)
				}
			}
			w1 := r.IntN(257)
			vBilinear(dst[:n], a, b, 256-w1, w1)
			for i := range n {
				if want := byte((int(a[i])*(256-w1) + int(b[i])*w1 + 128) >> 8); dst[i] != want {
					t.Fatalf("%s vBilinear n=%d w1=%d [%d] = %d, want %d", implementation, n, w1, i, dst[i], want)
				}
			}
			if dst[n] != guard {
				t.Fatalf("a kernel wrote past its end")
			}
			acc := make([]uint32, n)
			w := r.IntN(areaOne / 2)
			vAreaAcc(acc, a, w)
			vAreaAcc(acc, b, areaOne-w)
			areaFinish(dst[:n], acc)
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
