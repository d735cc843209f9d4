package output

import (
	"testing"
	"time"
)

func TestCutBefore(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		target, keyint time.Duration
		want           []time.Duration // segment lengths for keyframes over 12 s
	}{
		{2 * s, 2 * s, []time.Duration{2 * s, 2 * s, 2 * s, 2 * s, 2 * s}},
		{5 * s, 2 * s, []time.Duration{4 * s, 4 * s}},
		{6 * s, 2 * s, []time.Duration{6 * s}},
		{10 * s, 2 * s, []time.Duration{10 * s}},
		{3 * s, 2 * s, []time.Duration{2 * s, 2 * s, 2 * s, 2 * s, 2 * s}},
		{2 * s, 1 * s, []time.Duration{2 * s, 2 * s, 2 * s, 2 * s, 2 * s}},
	} {
		var got []time.Duration
		start := time.Duration(0)
		for k := c.keyint; k <= 12*s; k += c.keyint {
			if cutBefore(start, k, c.target, c.keyint) && k < 12*s {
				got = append(got, k-start)
				start = k
			}
		}
		if len(got) < len(c.want) {
			t.Errorf("target %v keyint %v: segments %v, want %v…", c.target, c.keyint, got, c.want)
			continue
		}
		for i, w := range c.want {
			if got[i] != w || got[i] > c.target {
				t.Errorf("target %v keyint %v: segments %v, want %v…", c.target, c.keyint, got, c.want)
				break
			}
		}
	}
	if cutBefore(time.Second, time.Second, 2*time.Second, 2*time.Second) {
		t.Error("cut before the segment's own first keyframe")
	}
}
