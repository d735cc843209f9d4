package control

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
)

// fakePipeline stands in for the worker: it reports what the test tells it.
type fakePipeline struct {
	mu      sync.Mutex
	r       contract.Reporter
	stopped bool
	resumed int
	// resumeErr is what Resume returns.
	resumeErr error
	layouts   []layout.Config // given by SetLayout
}

func (f *fakePipeline) reporter() contract.Reporter {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r
}

// Resume notes that a participant recording was resumed.
func (f *fakePipeline) Resume(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resumed++
	return f.resumeErr
}

// SetLayout notes the layout.
func (f *fakePipeline) SetLayout(l layout.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.layouts = append(f.layouts, l)
	return nil
}

func (f *fakePipeline) Stop(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	return nil
}

type recorder struct {
	mu     sync.Mutex
	events []string
	states []contract.State
}

func (r *recorder) event(name, dest, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if dest != "" {
		name += ":" + dest
	}
	r.events = append(r.events, name)
}

func (r *recorder) change(s CompositionStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 || r.states[len(r.states)-1] != s.State {
		r.states = append(r.states, s.State)
	}
}

func (r *recorder) snapshot() ([]string, []contract.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events), slices.Clone(r.states)
}

const lifecycleStage = "arn:aws:ivs:us-east-1:123456789012:stage/LifeCycle0001"

// testStage opens a stage on a real ingest server (loopback).
func testStage(t *testing.T) (*ingest.Stage, string, *ingest.TokenKey) {
	t.Helper()
	key, err := ingest.NewTokenKey()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ingest.New(ingest.Config{Key: key, Loopback: true, LoopbackOnly: true, Registerer: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.Close()
	})
	st, err := srv.OpenStage(lifecycleStage, ingest.StageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return st, hs.URL + "/whip", key
}

func publish(t *testing.T, whip string, key *ingest.TokenKey, id string) *publisher.Publisher {
	t.Helper()
	now := time.Now()
	tok, err := key.Sign(ingest.Claims{ParticipantID: id, StageARN: lifecycleStage, Topic: "LifeCycle0001",
		Capabilities: ingest.Capabilities{AllowPublish: true}, Version: ingest.TokenVersion, IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p, err := publisher.Start(ctx, publisher.Config{WHIP: whip, Token: tok, NoAudio: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

type lifecycleRun struct {
	c    *composition
	rec  *recorder
	fake *fakePipeline
	gone chan struct{}
}

func startLifecycle(t *testing.T, stage *ingest.Stage, to Timeouts, startErr error) *lifecycleRun {
	t.Helper()
	spec := contract.CompositionSpec{ARN: "arn:aws:ivs:us-east-1:123456789012:composition/c1", ID: "c1", StageARN: lifecycleStage,
		Destinations: []contract.DestinationSpec{{ID: "d1"}, {ID: "d2"}}}
	to.Retention = max(to.Retention, 50*time.Millisecond)
	c := newComposition(spec, stage, to.withDefaults(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	run := &lifecycleRun{c: c, rec: &recorder{}, fake: &fakePipeline{}, gone: make(chan struct{})}
	c.events, c.onChange = run.rec.event, run.rec.change
	c.onGone = func() { close(run.gone) }
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		select {
		case <-run.gone:
		case <-time.After(10 * time.Second):
			t.Error("composition goroutine did not end")
		}
	})
	go c.run(ctx, func(ctx context.Context, spec contract.CompositionSpec, r contract.Reporter) (contract.Pipeline, error) {
		if startErr != nil {
			return nil, startErr
		}
		run.fake.mu.Lock()
		run.fake.r = r
		run.fake.mu.Unlock()
		return run.fake, nil
	})
	return run
}

func (r *lifecycleRun) waitEnd(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-r.c.done:
	case <-time.After(d):
		t.Fatalf("composition still %s after %v", r.c.Status().State, d)
	}
}

// StopComposition: STARTING → ACTIVE → STOPPING → STOPPED, destinations
// start and end, Session Start/End and Destination events, then the
// composition disappears after the retention period.
func TestLifecycleStop(t *testing.T) {
	stage, whip, key := testStage(t)
	publish(t, whip, key, "p1")
	run := startLifecycle(t, stage, Timeouts{}, nil)
	testsrv.WaitFor(t, 10*time.Second, "the pipeline to start", func() bool { return run.fake.reporter() != nil })
	run.fake.reporter().Destination("d1", contract.StateActive, "")
	run.fake.reporter().Destination("d2", contract.StateActive, "")
	run.fake.reporter().Active()
	run.fake.reporter().Destination("d2", contract.StateReconnecting, "connection reset")
	run.fake.reporter().Destination("d2", contract.StateActive, "")
	run.c.stop("StopComposition")
	run.waitEnd(t, 5*time.Second)
	events, states := run.rec.snapshot()
	if want := []contract.State{contract.StateStarting, contract.StateActive, contract.StateStopping, contract.StateStopped}; !slices.Equal(states, want) {
		t.Errorf("states %v, want %v", states, want)
	}
	want := []string{"Destination Start:d1", "Destination Start:d2", "Session Start", "Destination Reconnecting:d2",
		"Destination End:d1", "Destination End:d2", "Session End"}
	slices.Sort(want[4:6])
	got := slices.Clone(events)
	if len(got) == len(want) {
		slices.Sort(got[4:6])
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", events, want)
	}
	if s := run.c.Status(); s.EndTime.IsZero() || s.Destinations["d1"].State != contract.StateStopped || s.Destinations["d1"].StartTime.IsZero() {
		t.Errorf("status %+v", s)
	}
	run.fake.mu.Lock()
	stopped := run.fake.stopped
	run.fake.mu.Unlock()
	if !stopped {
		t.Error("pipeline not stopped")
	}
	select {
	case <-run.gone:
	case <-time.After(5 * time.Second):
		t.Fatal("not removed after the retention period")
	}
}

// Nobody publishes after start: the composition stops after NoPublisher.
func TestLifecycleNoPublisher(t *testing.T) {
	stage, _, _ := testStage(t)
	start := time.Now()
	run := startLifecycle(t, stage, Timeouts{NoPublisher: 300 * time.Millisecond, Idle: time.Hour}, nil)
	run.waitEnd(t, 5*time.Second)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("stopped after %v, before the timeout", d)
	}
	if _, states := run.rec.snapshot(); states[len(states)-1] != contract.StateStopped {
		t.Errorf("states %v", states)
	}
}

// The last publisher leaves: the composition stops Idle later, not before.
func TestLifecycleIdleAfterLastPublisher(t *testing.T) {
	stage, whip, key := testStage(t)
	p := publish(t, whip, key, "p1")
	run := startLifecycle(t, stage, Timeouts{NoPublisher: 200 * time.Millisecond, Idle: 500 * time.Millisecond}, nil)
	testsrv.WaitFor(t, 10*time.Second, "the participant to publish video", func() bool { return len(stage.Roster()) == 1 && stage.Roster()[0].Video })
	time.Sleep(400 * time.Millisecond) // past NoPublisher: still running, somebody publishes
	if st := run.c.Status().State; st != contract.StateStarting {
		t.Fatalf("state %s while a participant publishes", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	left := time.Now()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	run.waitEnd(t, 10*time.Second)
	if d := time.Since(left); d < 450*time.Millisecond {
		t.Errorf("stopped %v after the last publisher left, want ≥ 500 ms", d)
	}
}

// Every destination failed: the composition fails; one failing destination
// alone does not stop it.
func TestLifecycleAllDestinationsFailed(t *testing.T) {
	stage, whip, key := testStage(t)
	publish(t, whip, key, "p1")
	run := startLifecycle(t, stage, Timeouts{}, nil)
	testsrv.WaitFor(t, 10*time.Second, "the pipeline to start", func() bool { return run.fake.reporter() != nil })
	run.fake.reporter().Active()
	run.fake.reporter().Destination("d1", contract.StateFailed, "gave up")
	time.Sleep(100 * time.Millisecond)
	if st := run.c.Status().State; st != contract.StateActive {
		t.Fatalf("state %s with one destination left", st)
	}
	run.fake.reporter().Destination("d2", contract.StateFailed, "gave up")
	run.waitEnd(t, 5*time.Second)
	events, states := run.rec.snapshot()
	if states[len(states)-1] != contract.StateFailed || events[len(events)-1] != EventSessionFailure {
		t.Errorf("states %v events %v", states, events)
	}
}

// The maximum duration ends a composition; a pipeline that cannot start
// fails it.
func TestLifecycleMaxDurationAndStartFailure(t *testing.T) {
	stage, whip, key := testStage(t)
	publish(t, whip, key, "p1")
	run := startLifecycle(t, stage, Timeouts{MaxDuration: 300 * time.Millisecond}, nil)
	run.waitEnd(t, 5*time.Second)
	if s := run.c.Status(); s.State != contract.StateStopped {
		t.Errorf("after the maximum duration: %s", s.State)
	}
	failed := startLifecycle(t, stage, Timeouts{}, errors.New("no encoder"))
	failed.waitEnd(t, 5*time.Second)
	events, _ := failed.rec.snapshot()
	if s := failed.c.Status(); s.State != contract.StateFailed || s.Destinations["d1"].State != contract.StateFailed || !slices.Contains(events, EventSessionFailure) {
		t.Errorf("start failure: %+v, events %v", s, events)
	}
}
