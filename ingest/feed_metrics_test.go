package ingest

import (
	"testing"
	"time"
)

// Next counts as late exactly the pictures a reader skips because they
// arrived after the read that was due to show them: not pictures it skips
// because a newer one was due at the same read, not a late picture it
// still shows, and none after Reset.
func TestVideoFeedNextLate(t *testing.T) {
	var v VideoFeed
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	pub := func(pts int) {
		f := v.get(16, 16)
		f.PTS = ms(pts)
		v.publish(f)
	}
	var c Cursor
	read := func(at int, wantPTS int, wantLate int) {
		t.Helper()
		f, late := v.Next(&c, ms(at))
		if f == nil || f.PTS != ms(wantPTS) || late != wantLate {
			var got time.Duration
			if f != nil {
				got = f.PTS
			}
			t.Fatalf("Next(%d ms) = picture %v, %d late; want %d ms, %d late", at, got, late, wantPTS, wantLate)
		}
		f.Release()
	}
	if f, late := v.Next(&c, ms(0)); f != nil || late != 0 {
		t.Fatal("empty feed returned a picture")
	}
	// On time: every picture arrives before the read that shows it.
	for i := range 4 {
		pub(33 * i)
		read(33*i+1, 33*i, 0)
	}
	// 99 ms is shown at the read for 100 ms. 120 ms arrives only after the
	// read for 133 ms (which shows 99 again), and 140 ms before the read
	// for 166 ms: 120 was due at 133 and is never shown.
	read(133, 99, 0)
	pub(120)
	pub(140)
	read(166, 140, 1)
	// Faster than the reader: 170, 180 and 190 all arrive before the read
	// for 200; 170 and 180 are superseded, not late.
	pub(170)
	pub(180)
	pub(190)
	read(200, 190, 0)
	// Late but shown: 195 arrives after the read for 200 and nothing newer
	// before the next read, which shows it.
	pub(195)
	read(233, 195, 0)
	// Two late pictures skipped at once.
	read(266, 195, 0)
	pub(240)
	pub(260)
	pub(280)
	read(300, 280, 2)
	// After Reset nothing counts as late.
	c.Reset()
	pub(290)
	pub(310)
	read(333, 310, 0)
	// A reader that fell more than the ring behind counts only what it
	// can see.
	read(366, 310, 0)
	for i := range 2 * feedDepth {
		pub(320 + i)
	}
	read(400, 320+2*feedDepth-1, feedDepth-1)
}

// Next, like At, allocates nothing in the steady state.
func TestVideoFeedNextAllocs(t *testing.T) {
	var v VideoFeed
	var c Cursor
	pts := time.Duration(0)
	step := func() {
		f := v.get(320, 180)
		pts += 33 * time.Millisecond
		f.PTS = pts
		v.publish(f)
		r, _ := v.Next(&c, pts-50*time.Millisecond)
		r.Release()
	}
	for range 20 {
		step()
	}
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}
