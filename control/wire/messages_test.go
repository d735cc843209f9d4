package wire

import "testing"

func TestJavaFloat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		bits int
		want string
	}{
		{0, 64, "0.0"}, {1, 64, "1.0"}, {60, 64, "60.0"}, {0.5, 32, "0.5"}, {29.97, 32, "29.97"},
		{1e7, 64, "1.0E7"}, {1.5e-4, 64, "1.5E-4"}, {9999999, 64, "9999999.0"}, {0.001, 64, "0.001"},
		{-2.5, 64, "-2.5"}, {1e39, 32, "Infinity"}, {-1e39, 32, "-Infinity"},
	} {
		if got := javaFloat(c.v, c.bits); got != c.want {
			t.Errorf("javaFloat(%v, %d) = %s, want %s", c.v, c.bits, got, c.want)
		}
	}
}
