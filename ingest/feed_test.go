package ingest

import (
	"testing"
	"time"
)

func TestVideoFeed(t *testing.T) {
	var v VideoFeed
	if v.Latest() != nil || v.At(time.Second) != nil {
		t.Fatal("empty feed returned a frame")
	}
	for i := range 10 {
		f := v.get(64, 32)
		f.PTS = time.Duration(i) * 100 * time.Millisecond
		f.Planes[0][0] = byte(i)
		v.publish(f)
	}
	// Holds the newest feedDepth frames (2..9).
	if f := v.Latest(); f.Planes[0][0] != 9 {
		t.Errorf("latest %d", f.Planes[0][0])
	} else {
		f.Release()
	}
	for _, tc := range []struct {
		at   time.Duration
		want byte
	}{{550 * time.Millisecond, 5}, {500 * time.Millisecond, 5}, {time.Hour, 9}, {0, 2}} {
		f := v.At(tc.at)
		if f.Planes[0][0] != tc.want {
			t.Errorf("At(%v) = frame %d, want %d", tc.at, f.Planes[0][0], tc.want)
		}
		f.Release()
	}
	// A held frame is not reused while a reader has it.
	held := v.At(500 * time.Millisecond)
	for i := 10; i < 30; i++ {
		f := v.get(64, 32)
		if f == held {
			t.Fatal("a frame held by a reader was handed to the decoder")
		}
		f.PTS = time.Duration(i) * 100 * time.Millisecond
		v.publish(f)
	}
	held.Release()
	// Out-of-order PTS is raised to keep the ring ordered.
	f := v.get(64, 32)
	f.PTS = 0
	v.publish(f)
	if f.PTS <= 29*100*time.Millisecond {
		t.Errorf("PTS %v not raised above the previous picture", f.PTS)
	}
}

// In the steady state, decode → publish → read → release allocates nothing.
func TestVideoFeedAllocs(t *testing.T) {
	var v VideoFeed
	pts := time.Duration(0)
	step := func() {
		f := v.get(320, 180)
		pts += 33 * time.Millisecond
		f.PTS = pts
		v.publish(f)
		r := v.At(pts - 50*time.Millisecond)
		r.Release()
	}
	for range 20 {
		step()
	}
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}
