package ingest

import (
	"math"
	"sync"
	"time"
)

// lagWindow is how long a lag counts: the answer covers the current
// window and the previous one, so a composition's delay follows a network
// that got worse within a window and one that got better within one to
// two (10–20 s).
const lagWindow = 10 * time.Second

// Lag is counted in a histogram of lagBuckets buckets of lagBucket each;
// longer lags count in the last one.
const (
	lagBucket  = 2 * time.Millisecond
	lagBuckets = 500 // up to 1 s
)

// The shares of a participant's media a composition's delay must cover.
// Pictures: all but the slowest 1 % — keyframes (one picture in 30–60)
// are covered, while a burst of a few late pictures (the machine busy for
// a moment, a lost packet resent) does not hold the delay up for the next
// 20 s; such a picture is shown a tick late, or not at all. Sound: all
// but the slowest 0.1 % (one audio frame in 10–20 s): a late audio frame
// is a gap in the mix, which is heard.
const (
	videoLagQuantile = 0.99
	audioLagQuantile = 0.999
)

// lagMeter tracks how long a participant's media of one kind took recently
// from capture to being ready for compositions: a picture decoded, or an
// audio frame's last sample decoded (server clock). It keeps a histogram
// of the current and of the previous window.
type lagMeter struct {
	mu        sync.Mutex
	cur, prev lagHistogram
	from      time.Duration // start of the current window
	have      bool
}

// lagHistogram counts lags by bucket.
type lagHistogram struct {
	n      uint32
	counts [lagBuckets]uint32
}

// observe records lag d seen at now.
func (m *lagMeter) observe(d, now time.Duration) {
	b := min(int(max(d, 0)/lagBucket), lagBuckets-1)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case !m.have:
		m.have, m.from = true, now
	case now-m.from >= 2*lagWindow:
		m.prev, m.cur, m.from = lagHistogram{}, lagHistogram{}, now
	case now-m.from >= lagWindow:
		m.prev, m.cur, m.from = m.cur, lagHistogram{}, now
	}
	m.cur.counts[b]++
	m.cur.n++
}

// value returns the quantile q (0–1) of the lags seen in the current and the
// previous window as of now (rounded up to a bucket's end); ok is false
// when nothing was seen for two windows.
func (m *lagMeter) value(now time.Duration, q float64) (d time.Duration, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.have || now-m.from >= 2*lagWindow {
		return 0, false
	}
	withPrev := now-m.from < lagWindow
	n := m.cur.n
	if withPrev {
		n += m.prev.n
	}
	if n == 0 {
		return 0, false
	}
	// The bucket holding the k-th fastest, k = ⌈q·n⌉.
	k := uint32(math.Ceil(float64(n) * q))
	var seen uint32
	for b := range lagBuckets {
		seen += m.cur.counts[b]
		if withPrev {
			seen += m.prev.counts[b]
		}
		if seen >= k {
			return time.Duration(b+1) * lagBucket, true
		}
	}
	return lagBuckets * lagBucket, true
}
