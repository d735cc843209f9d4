package compositor

import (
	"math"
	"testing"
)

func TestFilterKinds(t *testing.T) {
	for _, tt := range []struct {
		S, D int
		kind filterKind
		half bool
	}{
		{640, 640, kindCopy, false},
		{1280, 640, kindBilinear, true},
		{1280, 960, kindBilinear, false}, // 4:3
		{640, 1280, kindBilinear, false}, // upscaling
		{1281, 640, kindArea, false},     // just over 2:1
		{1920, 474, kindArea, false},
		{1, 9, kindArea, false}, // one source sample
	} {
		f := newFilter(tt.S, tt.D)
		if f.kind != tt.kind || f.half != tt.half {
			t.Errorf("newFilter(%d, %d) = kind %d half %v, want %d %v", tt.S, tt.D, f.kind, f.half, tt.kind, tt.half)
		}
	}
}

func TestFilterTables(t *testing.T) {
	for S := 1; S <= 130; S++ {
		for D := 1; D <= 130; D++ {
			f := newFilter(S, D)
			r := float64(S) / float64(D)
			switch f.kind {
			case kindBilinear:
				for i, p := range f.pairs {
					if p.w0+p.w1 != 256 || p.at < 0 || int(p.at)+1 >= S {
						t.Fatalf("S=%d D=%d out %d: %+v", S, D, i, p)
					}
					// The sampled position matches the centre mapping, clamped.
					want := math.Min(math.Max((float64(i)+0.5)*r-0.5, 0), float64(S-1))
					got := float64(p.at) + float64(p.w1)/256
					if math.Abs(got-want) > 1.0/512+1e-9 {
						t.Fatalf("S=%d D=%d out %d samples %.4f, want %.4f", S, D, i, got, want)
					}
				}
			case kindArea:
				for i := range D {
					sum := 0
					for k := range f.taps {
						j := int(f.index[i]) + k
						w := int(f.weight[i*f.taps+k])
						sum += w
						if j < 0 || j >= S {
							t.Fatalf("S=%d D=%d out %d reads %d", S, D, i, j)
						}
						lo, hi := float64(i)*r, float64(i+1)*r
						cover := math.Max(0, math.Min(hi, float64(j+1))-math.Max(lo, float64(j)))
						if math.Abs(float64(w)-cover/r*areaOne) > 1 {
							t.Fatalf("S=%d D=%d out %d tap %d weight %d, coverage %.1f", S, D, i, j, w, cover/r*areaOne)
						}
					}
					if sum != areaOne {
						t.Fatalf("S=%d D=%d out %d weights sum to %d", S, D, i, sum)
					}
				}
			case kindCopy:
				if S != D {
					t.Fatalf("copy for %d → %d", S, D)
				}
			}
		}
	}
}
