package ingest

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// offsetWindow is how long an observed minimum of (arrival − sender time)
// stays valid. Minimum tracking removes network jitter; letting it expire
// follows slow drift between the sender's clock and ours.
const offsetWindow = 10 * time.Second

// minOffset tracks a windowed minimum of arrival − sender time: the
// sender's clock mapped onto the server clock with the smallest delay seen
// recently. It keeps the minimum of the current and the previous window so
// the estimate never jumps when a window turns over.
type minOffset struct {
	have       bool
	cur, prev  time.Duration
	windowFrom time.Duration
}

func (m *minOffset) observe(d, now time.Duration) time.Duration {
	switch {
	case !m.have:
		m.have, m.cur, m.prev, m.windowFrom = true, d, d, now
	case now-m.windowFrom >= offsetWindow:
		m.prev, m.cur, m.windowFrom = m.cur, d, now
	default:
		m.cur = min(m.cur, d)
	}
	return min(m.cur, m.prev)
}

// senderClock is one participant's clock as seen through its RTCP sender
// reports: every track of the participant maps its RTP time to the
// sender's NTP wall clock, and one offset (shared by the tracks) maps that
// onto the server clock. Audio and video of a participant therefore line
// up exactly as the sender captured them, and different participants line
// up within the difference of their network delays.
type senderClock struct {
	mu     sync.Mutex
	offset minOffset
}

func (c *senderClock) observe(d, now time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset.observe(d, now)
}

// trackClock maps one RTP stream's timestamps to the server clock. Until
// the first sender report it uses the stream's own RTP time (so the first
// frames are timed by arrival); from then on the sender's NTP time.
type trackClock struct {
	rate   int64
	sender *senderClock

	haveTS bool
	lastTS uint32
	ext    int64 // unwrapped lastTS

	haveSR bool
	srRTP  int64         // unwrapped RTP time of the last sender report
	srNTP  time.Duration // its NTP time
	local  minOffset     // before any sender report
}

func newTrackClock(rate uint32, sender *senderClock) *trackClock {
	return &trackClock{rate: int64(rate), sender: sender}
}

// unwrap extends a 32-bit RTP timestamp to 64 bits around the last one.
func (c *trackClock) unwrap(ts uint32) int64 {
	if !c.haveTS {
		c.haveTS, c.lastTS, c.ext = true, ts, int64(ts)
		return c.ext
	}
	e := c.ext + int64(int32(ts-c.lastTS))
	if e > c.ext {
		c.lastTS, c.ext = ts, e
	}
	return e
}

func (c *trackClock) rtpDuration(ticks int64) time.Duration {
	return time.Duration(ticks * int64(time.Second) / c.rate)
}

// senderReport takes the RTP ↔ NTP pair of an RTCP sender report.
func (c *trackClock) senderReport(sr *rtcp.SenderReport) {
	c.srRTP = c.unwrap(sr.RTPTime)
	c.srNTP = ntpDuration(sr.NTPTime)
	c.haveSR = true
}

// capture returns the server-clock time at which the sample with RTP
// timestamp ts was captured, given that it arrived at now.
func (c *trackClock) capture(ts uint32, now time.Duration) time.Duration {
	e := c.unwrap(ts)
	if !c.haveSR {
		t := c.rtpDuration(e)
		return t + c.local.observe(now-t, now)
	}
	t := c.srNTP + c.rtpDuration(e-c.srRTP)
	return t + c.sender.observe(now-t, now)
}

// ntpDuration converts a 64-bit NTP timestamp to time since the NTP epoch.
func ntpDuration(ntp uint64) time.Duration {
	sec := int64(ntp >> 32)
	frac := int64(ntp & 0xffffffff)
	return time.Duration(sec)*time.Second + time.Duration(frac*int64(time.Second)>>32)
}
