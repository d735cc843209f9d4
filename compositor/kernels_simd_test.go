//go:build goexperiment.simd && amd64

package compositor

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"simd/archsimd"
	"slices"
	"testing"
)

// The vector kernels give the portable kernels' bytes on random rows of
// every length and alignment, with every weight.
func TestSIMDMatchesPortable(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("this CPU has no AVX-512: the portable kernels are in use")
	}
	if vector == nil || vector.name != "avx512" {
		t.Fatal("AVX-512 present but no avx512 kernel set")
	}
	if archsimd.X86.AVX512VBMI() && fmt.Sprintf("%p", vector.hResample) == fmt.Sprintf("%p", portable.hResample) {
		t.Fatal("AVX512-VBMI present but the horizontal filters are portable")
	}
	r := rand.New(rand.NewPCG(21, 22))
	for n := 0; n <= 300; n++ {
		off := r.IntN(64)
		a, b := randomBytes(r, 2*n+off+1), randomBytes(r, 2*n+off+1)
		a, b = a[off:], b[off:]
		got, want := make([]byte, n), make([]byte, n)
		box2x2AVX512(got, a, b)
		box2x2Portable(want, a, b)
		if !bytes.Equal(got, want) {
			t.Fatalf("box2x2 n=%d differs", n)
		}
		hHalfAVX512(got, a)
		hHalfPortable(want, a)
		if !bytes.Equal(got, want) {
			t.Fatalf("hHalf n=%d differs", n)
		}
		for _, w1 := range []int{0, 1, 77, 128, 200, 255, 256} {
			vBilinearAVX512(got, a, b, 256-w1, w1)
			vBilinearPortable(want, a, b, 256-w1, w1)
			if !bytes.Equal(got, want) {
				t.Fatalf("vBilinear n=%d w1=%d differs", n, w1)
			}
		}
		accA, accB := make([]uint32, n), make([]uint32, n)
		for k := range 5 {
			w := r.IntN(areaOne)
			vAreaAccAVX512(accA, a[k%2:], w)
			vAreaAccPortable(accB, a[k%2:], w)
		}
		if !slices.Equal(accA, accB) {
			t.Fatalf("vAreaAcc n=%d differs", n)
		}
		areaFinishAVX512(got, accA)
		areaFinishPortable(want, accB)
		if !bytes.Equal(got, want) || !slices.Equal(accA, accB) {
			t.Fatalf("areaFinish n=%d differs", n)
		}
	}
}
