package worker

import (
	"testing"
	"time"
)

// The adaptive delay follows the lag plus its margin within its bounds:
// it grows at once, shrinks by at most delayStep a tick, and a fixed
// delay never moves.
func TestAVDelay(t *testing.T) {
	ms := time.Millisecond
	cfg := Config{MinDelay: 20 * ms, MaxDelay: 300 * ms}
	d := newAVDelay(cfg, 0)
	if d.cur != 20*ms {
		t.Fatalf("no lag: %v, want the minimum 20ms", d.cur)
	}
	if got := d.next(35 * ms); got != 45*ms {
		t.Errorf("lag 35ms: %v, want 45ms (lag + margin) at once", got)
	}
	if got := d.next(500 * ms); got != 300*ms {
		t.Errorf("lag 500ms: %v, want the maximum 300ms", got)
	}
	for i := 1; i <= 10; i++ {
		if got, want := d.next(5*ms), 300*ms-time.Duration(i)*delayStep; got != want {
			t.Fatalf("tick %d after the lag fell: %v, want %v", i, got, want)
		}
	}
	for range 1000 {
		d.next(5 * ms)
	}
	if d.cur != 20*ms {
		t.Errorf("after 1000 ticks of lag 5ms: %v, want the minimum", d.cur)
	}
	if got := d.next(12 * ms); got != 22*ms {
		t.Errorf("lag 12ms: %v, want 22ms", got)
	}
	fixed := newAVDelay(Config{Delay: 100 * ms, MinDelay: 20 * ms, MaxDelay: 300 * ms}, 0)
	for _, lag := range []time.Duration{0, 250 * ms, 5 * ms} {
		if got := fixed.next(lag); got != 100*ms {
			t.Errorf("fixed 100ms, lag %v: %v", lag, got)
		}
	}
}
