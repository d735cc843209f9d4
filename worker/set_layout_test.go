package worker

import (
	"context"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// A running composition of two publishers (red, blue) switches grid → PiP
// → grid with SetLayout: every canvas, from the first that shows both
// participants, shows one arrangement or the other in full (never a blank
// or half-changed canvas); each switch shows within three canvases of the
// call and never reverts; the canvases step by exactly one frame interval
// across each switch (no tick lost, no pause) and the timestamps only move
// forward (the clock is not reset).
func TestSetLayoutSwitchesLive(t *testing.T) {
	ts := startStage(t)
	red, blue := media.RGBToYUV(200, 30, 30), media.RGBToYUV(30, 30, 200)
	colour := map[string]media.YUV{"a": red, "b": blue}
	ts.publish(t, "a", publisher.Config{Color: &red, NoAudio: true})
	ts.waitRoster(t, 1)
	ts.publish(t, "b", publisher.Config{Color: &blue, NoAudio: true})
	ts.waitRoster(t, 2)

	size := layout.Size{W: 320, H: 180}
	roster := ts.stage.Roster()
	ps := make([]layout.Participant, len(roster))
	for i, r := range roster {
		ps[i] = layout.Participant{ID: r.ID, UserID: r.UserID, Arrival: r.Arrival, Video: layout.Size{W: r.Width, H: r.Height}}
	}
	grid := layout.Config{}.WithDefaults()
	pip := layout.Config{Pip: &layout.PipConfig{}}.WithDefaults()
	// shows reports whether every tile of cfg's arrangement has its
	// participant's colour at its centre.
	shows := func(f *media.VideoFrame, cfg layout.Config) bool {
		slots := layout.Arrange(size, cfg, ps)
		for _, s := range slots {
			if !colourNear(f, s.Rect.X+s.Rect.W/2, s.Rect.Y+s.Rect.H/2, colour[s.Participant]) {
				return false
			}
		}
		return len(slots) == 2
	}

	pipe, tap, r := ts.startTapped(t, "5", size, 500_000, grid)
	// lastPTS waits until n more canvases are encoded and returns the
	// newest one's timestamp.
	lastPTS := func(n int) time.Duration {
		tap.mu.Lock()
		want := len(tap.packets) + n
		tap.mu.Unlock()
		var pts time.Duration
		testsrv.WaitFor(t, 20*time.Second, "canvases", func() bool {
			tap.mu.Lock()
			defer tap.mu.Unlock()
			if len(tap.packets) < want {
				return false
			}
			pts = tap.packets[len(tap.packets)-1].PTS
			return true
		})
		return pts
	}
	// Each switch: the layout, and the newest canvas's timestamp when
	// SetLayout was called.
	type change struct {
		cfg    layout.Config
		called time.Duration
	}
	changes := []change{{cfg: grid, called: -1}}
	for _, cfg := range []layout.Config{pip, grid} {
		called := lastPTS(30)
		if err := pipe.SetLayout(cfg); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, change{cfg, called})
	}
	lastPTS(30)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := pipe.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// After Stop, SetLayout does nothing (and does not block).
	if err := pipe.SetLayout(pip); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	failed := r.failed
	r.mu.Unlock()
	if failed != "" {
		t.Fatalf("composition failed: %s", failed)
	}

	const interval = time.Second / 30
	oneStep := func(from, to time.Duration) bool {
		d := to - from
		return d > interval-time.Millisecond && d < interval+time.Millisecond
	}
	var (
		canvases, cur   int
		prev            time.Duration = -1
		first                         = true
		switchedAt      []time.Duration
		blank, backward int
	)
	tap.canvases(t, func(f *media.VideoFrame) {
		canvases++
		if f.PTS <= prev {
			backward++
		}
		defer func() { prev = f.PTS }()
		if first {
			// The composition starts as the publishers' first pictures
			// arrive: from the first canvas showing them, every canvas
			// shows them.
			if !shows(f, grid) {
				return
			}
			first = false
			return
		}
		if shows(f, changes[cur].cfg) {
			return
		}
		if cur+1 < len(changes) && shows(f, changes[cur+1].cfg) {
			cur++
			switchedAt = append(switchedAt, f.PTS)
			if f.PTS <= changes[cur].called || f.PTS > changes[cur].called+3*interval {
				t.Errorf("switch %d called at canvas %v, shown from %v: want within three canvases", cur, changes[cur].called, f.PTS)
			}
			if !oneStep(prev, f.PTS) {
				t.Errorf("switch %d: canvas %v follows %v, want one frame (%v)", cur, f.PTS, prev, interval)
			}
			return
		}
		blank++
		if blank <= 3 {
			t.Errorf("canvas %v shows neither arrangement (after switch %d)", f.PTS, cur)
		}
	})
	t.Logf("%d canvases; switched at %v (called at %v, %v)", canvases, switchedAt, changes[1].called, changes[2].called)
	if first {
		t.Fatal("no canvas shows both participants in the grid")
	}
	if cur != 2 {
		t.Errorf("%d of 2 switches shown", cur)
	}
	if blank > 0 || backward > 0 {
		t.Errorf("%d canvases show neither arrangement, %d canvases' timestamps go backwards", blank, backward)
	}
}
