package control

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
)

// fakeRoster is a stage whose publishers the test sets.
type fakeRoster struct {
	mu       sync.Mutex
	list     []ingest.ParticipantInfo
	watchers []chan struct{}
}

func (r *fakeRoster) Roster() []ingest.ParticipantInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ingest.ParticipantInfo(nil), r.list...)
}

func (r *fakeRoster) Watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	r.mu.Lock()
	r.watchers = append(r.watchers, ch)
	r.mu.Unlock()
	return ch, func() {}
}

// publishing sets whether one participant publishes video.
func (r *fakeRoster) publishing(on bool) {
	r.mu.Lock()
	r.list = nil
	if on {
		r.list = []ingest.ParticipantInfo{{ID: "p1", MediaState: ingest.MediaState{Video: true}}}
	}
	for _, ch := range r.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	r.mu.Unlock()
}

// runOnClock runs a composition with the default timeouts in the current
// synctest bubble; it returns the composition and a channel closed when it
// is gone after the retention period.
func runOnClock(t *testing.T, stage roster) (*composition, chan struct{}) {
	spec := contract.CompositionSpec{ARN: "arn:aws:ivs:us-east-1:123456789012:composition/c1", ID: "c1", StageARN: lifecycleStage,
		Destinations: []contract.DestinationSpec{{ID: "d1"}}}
	c := newComposition(spec, stage, Timeouts{}.withDefaults(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec, gone := &recorder{}, make(chan struct{})
	c.events, c.onChange, c.onGone = rec.event, rec.change, func() { close(gone) }
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.run(ctx, func(context.Context, contract.CompositionSpec, contract.Reporter) (contract.Pipeline, error) {
		return &fakePipeline{}, nil
	})
	return c, gone
}

// The lifecycle's defaults, on synctest's clock: nobody publishes → STOPPED
// exactly 60 s after the start, gone 5 minutes later; the last publisher
// leaves → STOPPED exactly 60 s later; somebody keeps publishing → STOPPED
// at exactly 24 hours.
func TestLifecycleDefaultTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c, gone := runOnClock(t, &fakeRoster{})
		<-c.done
		if s := c.Status(); s.State != contract.StateStopped || s.EndTime.Sub(start) != time.Minute {
			t.Errorf("nobody published: %s after %v, want STOPPED after 1m", s.State, s.EndTime.Sub(start))
		}
		<-gone
		if d := time.Since(start); d != 6*time.Minute {
			t.Errorf("gone %v after the start, want 6m (1m + 5m retention)", d)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		stage := &fakeRoster{}
		stage.publishing(true)
		c, _ := runOnClock(t, stage)
		time.Sleep(10 * time.Minute)
		if s := c.Status(); s.State != contract.StateStarting {
			t.Fatalf("%s while a participant publishes", s.State)
		}
		left := time.Now()
		stage.publishing(false)
		<-c.done
		if s := c.Status(); s.State != contract.StateStopped || s.EndTime.Sub(left) != time.Minute {
			t.Errorf("last publisher left: %s after %v, want STOPPED after 1m", s.State, s.EndTime.Sub(left))
		}
	})
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		stage := &fakeRoster{}
		stage.publishing(true)
		c, _ := runOnClock(t, stage)
		<-c.done
		if s := c.Status(); s.State != contract.StateStopped || s.EndTime.Sub(start) != 24*time.Hour {
			t.Errorf("always publishing: %s after %v, want STOPPED after 24h", s.State, s.EndTime.Sub(start))
		}
	})
}
