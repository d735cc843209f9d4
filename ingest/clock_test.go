package ingest

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// toNTP converts time since the NTP epoch into the 64-bit NTP format.
func toNTP(d time.Duration) uint64 {
	sec := uint64(d / time.Second)
	frac := uint64(d%time.Second) << 32 / uint64(time.Second)
	return sec<<32 | frac
}

// Audio and video of one sender, with different RTP offsets, rates and
// network delays, map the same capture instant to the same server time
// once sender reports arrived.
func TestClockLipSync(t *testing.T) {
	var sender senderClock
	video := newTrackClock(90000, &sender)
	audio := newTrackClock(48000, &sender)
	const vBase, aBase = 123456789, 987654
	ntpEpoch := 3_900_000_000 * time.Second // the sender's wall clock at capture 0
	serverAt := 5 * time.Second             // the server clock at capture 0 (+ delay)
	vTS := func(c time.Duration) uint32 { return uint32(vBase + int64(c)*90000/int64(time.Second)) }
	aTS := func(c time.Duration) uint32 { return uint32(aBase + int64(c)*48000/int64(time.Second)) }
	video.senderReport(&rtcp.SenderReport{NTPTime: toNTP(ntpEpoch), RTPTime: vTS(0)})
	audio.senderReport(&rtcp.SenderReport{NTPTime: toNTP(ntpEpoch), RTPTime: aTS(0)})

	jitter := []time.Duration{3, 9, 1, 14, 2, 7} // ms, on top of 20 ms of delay
	var vLast, aLast time.Duration
	for i := range 60 {
		c := time.Duration(i) * 20 * time.Millisecond
		d := 20*time.Millisecond + jitter[i%len(jitter)]*time.Millisecond
		vLast = video.capture(vTS(c), serverAt+c+d+2*time.Millisecond) // video a little later
		aLast = audio.capture(aTS(c), serverAt+c+d)
	}
	if diff := vLast - aLast; diff < -time.Millisecond || diff > time.Millisecond {
		t.Errorf("same capture instant: video %v, audio %v (diff %v)", vLast, aLast, diff)
	}
	// The mapping uses the smallest delay seen: 21 ms.
	want := serverAt + 59*20*time.Millisecond + 21*time.Millisecond
	if d := aLast - want; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("mapped %v, want %v", aLast, want)
	}
}

// Before any sender report a track is timed by its own RTP clock and the
// arrival times; timestamps wrap without a jump.
func TestClockBeforeSRAndWrap(t *testing.T) {
	var sender senderClock
	c := newTrackClock(90000, &sender)
	start := uint32(0xffffffff - 3000*5)
	var prev time.Duration
	for i := range 20 {
		ts := start + uint32(i*3000)
		got := c.capture(ts, time.Second+time.Duration(i)*33333*time.Microsecond)
		if i > 0 {
			if d := got - prev; d < 33*time.Millisecond || d > 34*time.Millisecond {
				t.Fatalf("frame %d: step %v across the wrap, want 33.3 ms", i, d)
			}
		}
		prev = got
	}
}
