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
