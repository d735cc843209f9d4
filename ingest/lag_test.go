package ingest

import (
	"testing"
	"time"
)

// The lag meter answers a quantile of the current and previous window's
// lags, rounded up to its bucket, forgets a window after the next one, and
// answers nothing once nothing was seen for two windows.
func TestLagMeter(t *testing.T) {
	ms := time.Millisecond
	var m lagMeter
	if _, ok := m.value(0, 0.99); ok {
		t.Fatal("a value before any lag")
	}
	// 990 pictures at 10–11 ms and 10 slow ones (a burst) at 300 ms.
	for i := range 1000 {
		d := 10*ms + time.Duration(i%2)*ms
		if i%100 == 50 {
			d = 300 * ms
		}
		m.observe(d, time.Duration(i)*5*ms)
	}
	now := 5 * time.Second
	if d, ok := m.value(now, 0.99); !ok || d != 12*ms {
		t.Errorf("p99 of 990 at 10–11 ms and 10 at 300 ms: %v %v, want 12ms (the bucket of 11 ms)", d, ok)
	}
	if d, _ := m.value(now, 0.999); d != 302*ms {
		t.Errorf("p99.9: %v, want 302ms (the bucket of the slow ones)", d)
	}
	if d, _ := m.value(now, 1); d != 302*ms {
		t.Errorf("max: %v, want 302ms", d)
	}
	// A new window: the old one still counts in full…
	m.observe(4*ms, lagWindow+time.Second)
	if d, _ := m.value(lagWindow+2*time.Second, 1); d != 302*ms {
		t.Errorf("max in the next window: %v, want the previous window's 302ms", d)
	}
	// …until the current one is a window old.
	if d, ok := m.value(2*lagWindow+time.Second, 1); !ok || d != 6*ms {
		t.Errorf("a window later: %v %v, want the last window's 6ms", d, ok)
	}
	if _, ok := m.value(3*lagWindow+time.Second, 1); ok {
		t.Error("a value two windows after the last lag")
	}
	// Long lags count in the last bucket; negative ones as 0.
	m.observe(5*time.Second, 4*lagWindow)
	m.observe(-3*ms, 4*lagWindow)
	if d, _ := m.value(4*lagWindow, 1); d != lagBuckets*lagBucket {
		t.Errorf("a 5 s lag: %v, want %v", d, lagBuckets*lagBucket)
	}
	if d, _ := m.value(4*lagWindow, 0.5); d != lagBucket {
		t.Errorf("a negative lag: %v, want %v", d, lagBucket)
	}
}
