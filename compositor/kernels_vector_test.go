//go:build goexperiment.simd && amd64

package compositor

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"simd/archsimd"
	"slices"
	"testing"

	"github.com/tessera-media/tessera/layout"
)

// A GOEXPERIMENT=simd build offers every vector set the CPU can run,
// fastest first.
func TestVectorSets(t *testing.T) {
	var want []string
	if archsimd.X86.AVX512() {
		want = append(want, "avx512")
	}
	if archsimd.X86.AVX2() {
		want = append(want, "avx2")
	}
	want = append(want, "portable")
	if got := KernelSets(); !slices.Equal(got, want) {
		t.Fatalf("KernelSets() = %v, want %v", got, want)
	}
	if archsimd.X86.AVX512VBMI() && fmt.Sprintf("%p", sets[0].hResample) == fmt.Sprintf("%p", portable.hResample) {
		t.Fatal("AVX512-VBMI present but the horizontal filters are portable")
	}
	for _, name := range []string{"avx2", "avx512"} {
		if !slices.Contains(want, name) {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("New with the unavailable set %q did not panic", name)
					}
				}()
				New(layout.Size{W: 64, H: 64}, Options{Kernels: name})
			}()
		}
	}
}

// The vector kernels give the portable kernels' bytes on random rows of
// every length and alignment, with every weight.
func TestVectorMatchesPortable(t *testing.T) {
	for _, k := range sets {
		if k == &portable {
			continue
		}
		t.Run(k.name, func(t *testing.T) { testMatchesPortable(t, k) })
	}
}

func testMatchesPortable(t *testing.T, k *kernels) {
	r := rand.New(rand.NewPCG(21, 22))
	for n := 0; n <= 300; n++ {
		off := r.IntN(64)
		a, b := randomBytes(r, 2*n+off+1), randomBytes(r, 2*n+off+1)
		a, b = a[off:], b[off:]
		got, want := make([]byte, n), make([]byte, n)
		k.box2x2(got, a, b)
		box2x2Portable(want, a, b)
		if !bytes.Equal(got, want) {
			t.Fatalf("box2x2 n=%d differs", n)
		}
		rs := [4][]byte{}
		for j := range rs {
			rs[j] = randomBytes(r, 4*n+off+1)[off:]
		}
		k.box4x4(got, rs[0], rs[1], rs[2], rs[3])
		box4x4Portable(want, rs[0], rs[1], rs[2], rs[3])
		if !bytes.Equal(got, want) {
			t.Fatalf("box4x4 n=%d differs", n)
		}
		k.hHalf(got, a)
		hHalfPortable(want, a)
		if !bytes.Equal(got, want) {
			t.Fatalf("hHalf n=%d differs", n)
		}
		for _, w1 := range []int{0, 1, 77, 128, 200, 255, 256} {
			k.vBilinear(got, a, b, 256-w1, w1)
			vBilinearPortable(want, a, b, 256-w1, w1)
			if !bytes.Equal(got, want) {
				t.Fatalf("vBilinear n=%d w1=%d differs", n, w1)
			}
		}
		accA, accB := make([]uint32, n), make([]uint32, n)
		for k2 := range 5 {
			w := r.IntN(areaOne)
			k.vAreaAcc(accA, a[k2%2:], w)
			vAreaAccPortable(accB, a[k2%2:], w)
		}
		if !slices.Equal(accA, accB) {
			t.Fatalf("vAreaAcc n=%d differs", n)
		}
		k.areaFinish(got, accA)
		areaFinishPortable(want, accB)
		if !bytes.Equal(got, want) || !slices.Equal(accA, accB) {
			t.Fatalf("areaFinish n=%d differs", n)
		}
	}
}

// The AVX2 horizontal kernel reads windows of one to maxChunks 16-byte
// chunks, and leaves wider ones and short rows to the portable kernels.
func TestLaneTableChunks(t *testing.T) {
	if !archsimd.X86.AVX2() {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ S, D, chunks int }{
		{1000, 1280, 1}, {1280, 720, 1}, {1280, 360, 1}, {1280, 200, 2}, {1280, 120, 3}, {1280, 90, 4}, {1280, 64, 0}, {40, 31, 0},
	} {
		f := newFilter(c.S, c.D)
		f.vec = newLaneTable(&f)
		chunks := 0
		if lt, _ := f.vec.(*laneTable); lt != nil {
			chunks = lt.chunks
		}
		if chunks != c.chunks {
			t.Errorf("S=%d D=%d: %d chunks, want %d", c.S, c.D, chunks, c.chunks)
		}
		src := randomBytes(r, c.S)
		got, want := make([]byte, c.D), make([]byte, c.D)
		hResampleAVX2(got, src, &f)
		f.from(want, src, &f, 0)
		if !bytes.Equal(got, want) {
			t.Errorf("S=%d D=%d: rows differ", c.S, c.D)
		}
	}
}
