package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tessera-media/tessera/contract"
)

// recordingLog is a recordingSink that keeps what it is told, with the
// (synctest) time of each event.
type recordingLog struct {
	mu     sync.Mutex
	states []string // "STATE prefix"
	events []string // "Event Name prefix"
	at     []time.Time
}

func (l *recordingLog) recordingState(_ recordingKey, _, state, _, prefix string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = append(l.states, state+" "+prefix)
}

func (l *recordingLog) recordingEvent(_ recordingKey, _, name, _, prefix string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events, l.at = append(l.events, name+" "+prefix), append(l.at, time.Now())
}

func (l *recordingLog) snapshot() (states, events []string, at []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.states), slices.Clone(l.events), slices.Clone(l.at)
}

// fakeRecorder is a ParticipantRecorderFactory whose recordings report
// ACTIVE from the start; with hold set, each start waits for it.
type fakeRecorder struct {
	mu        sync.Mutex
	pipes     []*fakePipeline
	hold      chan struct{}
	err       error
	resumeErr error
}

func (f *fakeRecorder) record(ctx context.Context, spec contract.ParticipantRecordingSpec, r contract.Reporter) (contract.ParticipantRecording, error) {
	if f.hold != nil {
		<-f.hold
	}
	if f.err != nil {
		return nil, f.err
	}
	p := &fakePipeline{r: r, resumeErr: f.resumeErr}
	f.mu.Lock()
	f.pipes = append(f.pipes, p)
	f.mu.Unlock()
	r.Destination(spec.ParticipantID, contract.StateActive, "")
	return p, nil
}

func (f *fakeRecorder) started() []*fakePipeline {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pipes)
}

func (p *fakePipeline) state() (stopped bool, resumed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped, p.resumed
}

var recKey = recordingKey{"arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGhIjKl", "p1"}

// recordingTable is a table in the current synctest bubble; its plan has
// the given window and storage configuration.
func recordingTable(t *testing.T, f *fakeRecorder) (*participantRecordings, *recordingLog, *sync.WaitGroup) {
	log, wg := &recordingLog{}, &sync.WaitGroup{}
	tab := newParticipantRecordings(f.record, log, quietLogger(), wg, nil)
	t.Cleanup(func() { tab.close(); wg.Wait() })
	return tab, log, wg
}

func plan(window time.Duration, storage string) func() (recordingPlan, bool) {
	return func() (recordingPlan, bool) {
		return recordingPlan{spec: contract.ParticipantRecordingSpec{Bucket: "b", Prefix: "AbCdEfGhIjKl/st-1/p1"}, storage: storage, window: window}, true
	}
}

// reconnect publishes with a reconnect window of 10 s, stops, and
// publishes again after gap in that session on that storage configuration;
// it returns when each publish started.
func reconnect(tab *participantRecordings, gap time.Duration, session, storage string) (first, second time.Time) {
	first = time.Now()
	tab.start(recKey, "st-1", first, plan(10*time.Second, "sto"))
	synctest.Wait()
	tab.stopped(recKey, "st-1")
	time.Sleep(gap)
	second = time.Now()
	tab.start(recKey, session, second, plan(10*time.Second, storage))
	synctest.Wait()
	return first, second
}

// expect checks the states the participant record showed and the events
// sent, in order, all of the recording started at.
func (l *recordingLog) expect(t *testing.T, at time.Time, states, events []string) {
	t.Helper()
	got, gotEvents, _ := l.snapshot()
	p := " " + prefixAt(at)
	with := func(s []string) []string {
		out := []string{}
		for _, v := range s {
			out = append(out, v+p)
		}
		return out
	}
	equal(t, "states", got, with(states))
	equal(t, "events", gotEvents, with(events))
}

// prefixAt is the prefix of a recording started at.
func prefixAt(at time.Time) string {
	return "AbCdEfGhIjKl/st-1/p1/" + at.UTC().Format(recordingTimeLayout)
}

// sameSet compares in any order: events of two recordings are concurrent.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	equal(t, what, slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// A publish that stops while its recording starts: the recording is
// stopped as soon as the recorder returns, never left running.
func TestParticipantRecordingStopWhileStarting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRecorder{hold: make(chan struct{})}
		tab, log, _ := recordingTable(t, f)
		at := time.Now()
		if !tab.start(recKey, "st-1", at, plan(0, "sto")) {
			t.Fatal("not recorded")
		}
		tab.stopped(recKey, "st-1")
		close(f.hold)
		synctest.Wait()
		pipes := f.started()
		if len(pipes) != 1 {
			t.Fatalf("%d recordings started", len(pipes))
		}
		if stopped, _ := pipes[0].state(); !stopped {
			t.Error("the recording runs after its publish stopped")
		}
		log.expect(t, at, []string{"STARTING", "STOPPING", "STOPPED"}, []string{"Recording Start", "Recording End"})
	})
}

// With a reconnect window, a publish again within it resumes the
// recording (same prefix, ACTIVE again, no new recording); the recording
// ends exactly the window after the last publish stopped.
func TestParticipantRecordingReconnectWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRecorder{}
		tab, log, _ := recordingTable(t, f)
		at, _ := reconnect(tab, 9*time.Second, "st-1", "sto")
		time.Sleep(time.Minute) // a publish keeps its recording whatever the window
		tab.stopped(recKey, "st-1")
		stop := time.Now()
		time.Sleep(10*time.Second - time.Millisecond)
		if pipes := f.started(); len(pipes) != 1 {
			t.Fatalf("%d recordings started, want 1 (resumed)", len(pipes))
		} else if stopped, resumed := pipes[0].state(); stopped || resumed != 1 {
			t.Fatalf("within the window: stopped %v, resumed %d times; want running, resumed once", stopped, resumed)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if stopped, _ := f.started()[0].state(); !stopped {
			t.Fatal("still running after the window")
		}
		log.expect(t, at, []string{"STARTING", "ACTIVE", "STOPPING", "ACTIVE", "STOPPING", "STOPPED"}, []string{"Recording Start", "Recording End"})
		if _, _, times := log.snapshot(); len(times) == 2 && !times[1].Equal(stop.Add(10*time.Second)) {
			t.Errorf("Recording End %v after the publish stopped, want the window (10s)", times[1].Sub(stop))
		}
	})
}

// After the window, or on another storage configuration, or in another
// session, a publish starts a new recording; the old one was finalized.
func TestParticipantRecordingNewAfterWindow(t *testing.T) {
	for _, c := range []struct {
		name           string
		wait           time.Duration
		session, store string
	}{
		{"window over", 11 * time.Second, "st-1", "sto"},
		{"another storage configuration", time.Second, "st-1", "sto2"},
		{"another session", time.Second, "st-2", "sto"},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeRecorder{}
				tab, log, _ := recordingTable(t, f)
				at, again := reconnect(tab, c.wait, c.session, c.store)
				pipes := f.started()
				if len(pipes) != 2 {
					t.Fatalf("%d recordings started, want 2", len(pipes))
				}
				if stopped, resumed := pipes[0].state(); !stopped || resumed != 0 {
					t.Errorf("first recording: stopped %v, resumed %d; want stopped, never resumed", stopped, resumed)
				}
				if stopped, _ := pipes[1].state(); stopped {
					t.Error("second recording stopped")
				}
				_, events, _ := log.snapshot()
				sameSet(t, "events", events, []string{"Recording Start " + prefixAt(at), "Recording End " + prefixAt(at), "Recording Start " + prefixAt(again)})
			})
		})
	}
}

// A Resume that fails: counted, the old recording finalized, a new one
// started with its own prefix.
func TestParticipantRecordingResumeFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRecorder{resumeErr: errors.New("no")}
		tab, log, _ := recordingTable(t, f)
		at, _ := reconnect(tab, 2*time.Second, "st-1", "sto")
		pipes := f.started()
		if len(pipes) != 2 {
			t.Fatalf("%d recordings started, want 2", len(pipes))
		}
		if stopped, resumed := pipes[0].state(); !stopped || resumed != 1 {
			t.Errorf("first recording: stopped %v, resumed %d; want stopped after one Resume", stopped, resumed)
		}
		states, events, _ := log.snapshot()
		sameSet(t, "events", events, []string{"Recording Start " + prefixAt(at), "Recording End " + prefixAt(at), "Recording Start " + prefixAt(time.Now())})
		if last := states[len(states)-1]; last != "ACTIVE "+prefixAt(time.Now()) {
			t.Errorf("participant shows %q, want the new recording ACTIVE", last)
		}
		if n := testutil.ToFloat64(tab.resumes); n != 1 {
			t.Errorf("resume failures counted %v, want 1", n)
		}
	})
}

// A recorder that fails: FAILED, Recording Start Failure, nothing left in
// the table.
func TestParticipantRecordingStartFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRecorder{err: errors.New("bucket missing")}
		tab, log, _ := recordingTable(t, f)
		at := time.Now()
		tab.start(recKey, "st-1", at, plan(0, "sto"))
		synctest.Wait()
		log.expect(t, at, []string{"STARTING", "FAILED"}, []string{"Recording Start Failure"})
		tab.withStage(recKey.stage, func(recording bool) {
			if recording {
				t.Error("a failed recording is still in the table")
			}
		})
	})
}

// A recording the recorder reports FAILED on its own ends FAILED (Recording
// End Failure) and is stopped all the same.
func TestParticipantRecordingFailsWhileActive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRecorder{}
		tab, log, _ := recordingTable(t, f)
		at := time.Now()
		tab.start(recKey, "st-1", at, plan(0, "sto"))
		synctest.Wait()
		f.started()[0].reporter().Destination("p1", contract.StateFailed, "storage refuses")
		synctest.Wait()
		if stopped, _ := f.started()[0].state(); !stopped {
			t.Error("a failed recording was not stopped")
		}
		log.expect(t, at, []string{"STARTING", "ACTIVE", "FAILED"}, []string{"Recording Start", "Recording End Failure"})
	})
}

// Stage deletion and close finalize at once, reconnect window or not, and
// close starts no more.
func TestParticipantRecordingFinishedAtOnce(t *testing.T) {
	for _, close := range []bool{false, true} {
		t.Run(fmt.Sprint("close=", close), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeRecorder{}
				tab, log, _ := recordingTable(t, f)
				other := recordingKey{"arn:aws:ivs:us-east-1:123456789012:stage/Other0000001", "p1"}
				tab.start(other, "st-1", time.Now(), plan(time.Minute, "sto"))
				synctest.Wait()
				tab.start(recKey, "st-1", time.Now(), plan(time.Minute, "sto"))
				synctest.Wait()
				tab.stopped(recKey, "st-1") // in its window
				if close {
					tab.close()
				} else {
					tab.finishStage(recKey.stage)
				}
				synctest.Wait()
				pipes := f.started()
				if stopped, _ := pipes[1].state(); !stopped {
					t.Error("the stage's recording was not finalized at once")
				}
				if stopped, _ := pipes[0].state(); stopped != close {
					t.Errorf("the other stage's recording stopped: %v, want %v", stopped, close)
				}
				if _, events, _ := log.snapshot(); !slices.Contains(events, "Recording End "+prefixAt(time.Now())) {
					t.Errorf("events %q: no Recording End", events)
				}
				if close && tab.start(recKey, "st-1", time.Now(), plan(0, "sto")) {
					t.Error("a recording started after close")
				}
			})
		})
	}
}

// A publish that stops and comes back, within the window, while its
// recording starts: the recording is resumed once the recorder returns.
func TestParticipantRecordingReconnectWhileStarting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRecorder{hold: make(chan struct{})}
		tab, log, _ := recordingTable(t, f)
		at := time.Now()
		tab.start(recKey, "st-1", at, plan(10*time.Second, "sto"))
		tab.stopped(recKey, "st-1")
		time.Sleep(time.Second)
		tab.start(recKey, "st-1", time.Now(), plan(10*time.Second, "sto"))
		close(f.hold)
		synctest.Wait()
		time.Sleep(time.Minute)
		pipes := f.started()
		if len(pipes) != 1 {
			t.Fatalf("%d recordings started, want 1", len(pipes))
		}
		if stopped, resumed := pipes[0].state(); stopped || resumed != 1 {
			t.Errorf("stopped %v, resumed %d; want running, resumed once", stopped, resumed)
		}
		log.expect(t, at, []string{"STARTING", "STOPPING", "STARTING", "ACTIVE"}, []string{"Recording Start"})
	})
}
