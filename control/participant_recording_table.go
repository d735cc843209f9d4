package control

import (
	"context"
	"log/slog"
	"path"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/contract"
)

// The table of running individual participant recordings, one per stage
// and participant id, and their lifecycle. A recording is registered, as
// STARTING, before its publish's event is done with: a stop that comes
// while the factory runs is never lost (the recording is stopped as soon
// as the factory returns). The factory's ACTIVE makes it ACTIVE. When the
// publish stops, a recording without a reconnect window is finalized at
// once (STOPPING, then STOPPED, or FAILED when storage did not get it);
// with one it waits STOPPING for the window: the same participant
// publishing again in the same session, on the same storage
// configuration, resumes it (same prefix, ACTIVE again), else it is
// finalized when the window ends. A failed Resume finalizes it and starts
// a new recording. Stage deletion and the server's Close finalize at once,
// windows or not. Every call into a recording runs on a goroutine of the
// table's WaitGroup, bounded in time; the table's lock is never held
// across one, so a recording's reporter may call in at any time. The sink
// is told under the lock: a participant record shows its recording's
// states, and the webhooks get its events, in the order they happened.

// Bounds of the calls into a recording.
const (
	recordingStartTimeout  = 30 * time.Second
	recordingResumeTimeout = 30 * time.Second
	recordingStopTimeout   = time.Minute
)

// Participant recording states (the API's ParticipantRecordingState).
const (
	recordingStarting = "STARTING"
	recordingActive   = "ACTIVE"
	recordingStopping = "STOPPING"
	recordingStopped  = "STOPPED"
	recordingFailed   = "FAILED"
	recordingDisabled = "DISABLED"
)

// recordingKey names a participant's recording.
type recordingKey struct{ stage, participant string }

// recordingPlan is what a stage's configuration makes of a participant's
// recording.
type recordingPlan struct {
	// spec's Prefix is <stageId>/<sessionId>/<participantId>; each
	// recording adds its start time.
	spec    contract.ParticipantRecordingSpec
	storage string        // the storage configuration's ARN
	window  time.Duration // recordingReconnectWindowSeconds
}

// recordingSink receives what the participant records and the webhooks
// show of the recordings: the Server, or a test's.
type recordingSink interface {
	// recordingState sets the participant record's recording fields.
	recordingState(k recordingKey, session, state, bucket, prefix string)
	// recordingEvent sends an IVS Participant Recording State Change.
	recordingEvent(k recordingKey, session, name, bucket, prefix string)
}

// participantRecordings is the table.
type participantRecordings struct {
	factory contract.ParticipantRecorderFactory
	sink    recordingSink
	log     *slog.Logger
	wg      *sync.WaitGroup
	resumes prometheus.Counter // Resume failures

	// ctx bounds every call into a recording; abort cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	m      map[recordingKey]*participantRecording // from its start to its end
	closed bool
}

// participantRecording is one recording; its fields are guarded by the
// table's lock.
type participantRecording struct {
	key     recordingKey
	session string
	plan    recordingPlan
	prefix  string
	pipe    contract.ParticipantRecording // nil while the factory runs

	publishing bool        // the participant publishes
	gap        bool        // a publish ended since the recording last took the participant's media
	resuming   bool        // a Resume runs
	timer      *time.Timer // the reconnect window, while it runs
	finishing  bool        // stopped, or to be stopped when the call into it returns
	active     bool        // reported ACTIVE (Recording Start sent)
	ended      bool        // STOPPED or FAILED
	shown      string      // the state the participant record shows
}

func newParticipantRecordings(f contract.ParticipantRecorderFactory, sink recordingSink, log *slog.Logger, wg *sync.WaitGroup, reg prometheus.Registerer) *participantRecordings {
	t := &participantRecordings{factory: f, sink: sink, log: log, wg: wg, m: map[recordingKey]*participantRecording{},
		resumes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "participant_recording",
			Name: "resume_failures_total", Help: "Participant recordings that could not be resumed after a reconnect: a new recording started instead."})}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	if reg != nil {
		reg.MustRegister(t.resumes)
	}
	return t
}

// start records a participant that began publishing at, with the plan
// resolve makes of its stage's configuration (resolved under the table's
// lock: withStage holds it too). It resumes the participant's recording in its
// reconnect window when it can. It returns whether the participant is
// recorded.
func (t *participantRecordings) start(k recordingKey, session string, at time.Time, resolve func() (recordingPlan, bool)) bool {
	if t.factory == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	old := t.m[k]
	if old != nil && old.publishing && !old.finishing {
		return true // this publish is recorded already
	}
	plan, ok := resolve()
	if old != nil {
		if ok && !old.finishing && !old.ended && old.session == session && old.plan.storage == plan.storage {
			t.resume(old)
			return true
		}
		t.finish(old)
	}
	if ok {
		t.begin(k, session, plan, at)
	}
	return ok
}

// stopped is a participant's publish ending: its recording is finalized,
// at once or when its reconnect window ends.
func (t *participantRecordings) stopped(k recordingKey, session string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.m[k]
	if r == nil || r.session != session || !r.publishing || r.finishing {
		return
	}
	r.publishing, r.gap = false, true
	if r.plan.window <= 0 {
		t.finish(r)
		return
	}
	t.set(r, recordingStopping)
	var tm *time.Timer
	tm = time.AfterFunc(r.plan.window, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if r.timer == tm {
			r.timer = nil
			t.finish(r)
		}
	})
	r.timer = tm
}

// finishStage finalizes a stage's recordings now (the stage is deleted).
func (t *participantRecordings) finishStage(stage string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, r := range t.m {
		if k.stage == stage {
			t.finish(r)
		}
	}
}

// withStage runs fn with whether a recording of the stage runs; none
// starts or ends before fn returned.
func (t *participantRecordings) withStage(stage string, fn func(recording bool)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	recording := false
	for k := range t.m {
		recording = recording || k.stage == stage
	}
	fn(recording)
}

// close finalizes every recording and starts no more; the calls it makes
// run on the table's WaitGroup.
func (t *participantRecordings) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for _, r := range t.m {
		t.finish(r)
	}
}

// abort cancels the calls into recordings still running.
func (t *participantRecordings) abort() { t.cancel() }

// begin starts a new recording of k; the caller holds the lock.
func (t *participantRecordings) begin(k recordingKey, session string, plan recordingPlan, at time.Time) {
	spec := plan.spec
	spec.Prefix = path.Join(spec.Prefix, at.UTC().Format(recordingTimeLayout))
	r := &participantRecording{key: k, session: session, plan: plan, prefix: spec.Prefix, publishing: true}
	t.m[k] = r
	t.set(r, recordingStarting)
	var pipe contract.ParticipantRecording
	t.call(recordingStartTimeout, func(ctx context.Context) (err error) {
		pipe, err = t.factory(ctx, spec, &recordingReporter{t: t, r: r})
		return err
	}, func(err error) {
		if err != nil {
			t.log.Warn("participant recording did not start", "stage", k.stage, "participant", k.participant, "err", err)
			t.end(r, recordingFailed, EventRecordingStartFailure)
			return
		}
		r.pipe = pipe
		t.proceed(r)
	})
}

// call runs fn on the table's WaitGroup, bounded by timeout, and then done
// with its error under the lock.
func (t *participantRecordings) call(timeout time.Duration, fn func(context.Context) error, done func(error)) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		ctx, cancel := context.WithTimeout(t.ctx, timeout)
		err := fn(ctx)
		cancel()
		t.mu.Lock()
		defer t.mu.Unlock()
		done(err)
	}()
}

// proceed makes a recording's next call, if one is due, once the last one
// returned; the caller holds the lock.
func (t *participantRecordings) proceed(r *participantRecording) {
	switch {
	case r.finishing:
		t.stop(r)
	case r.publishing && r.gap:
		t.callResume(r)
	case r.publishing && r.active:
		t.set(r, recordingActive)
	}
}

// resume takes up a recording in its reconnect window with the
// participant's new publish; the caller holds the lock.
func (t *participantRecordings) resume(r *participantRecording) {
	r.publishing = true
	r.closeWindow()
	if !r.active {
		t.set(r, recordingStarting)
	}
	if r.pipe != nil && !r.resuming { // else Resume follows the call running
		t.callResume(r)
	}
}

// callResume calls Resume; a failure finalizes the recording and starts a
// new one. The caller holds the lock.
func (t *participantRecordings) callResume(r *participantRecording) {
	r.gap, r.resuming = false, true
	t.call(recordingResumeTimeout, r.pipe.Resume, func(err error) {
		r.resuming = false
		if err == nil || r.finishing {
			t.proceed(r)
			return
		}
		t.log.Warn("participant recording not resumed; a new one starts", "stage", r.key.stage, "participant", r.key.participant, "err", err)
		t.resumes.Inc()
		t.finish(r)
		if cur := t.m[r.key]; r.publishing && !t.closed && (cur == nil || cur == r) {
			t.begin(r.key, r.session, r.plan, time.Now())
		}
	})
}

// finish finalizes a recording: it is stopped now, or as soon as the call
// into it returns. The caller holds the lock.
func (t *participantRecordings) finish(r *participantRecording) {
	if r.finishing {
		return
	}
	r.finishing = true
	r.closeWindow()
	if !r.ended {
		t.set(r, recordingStopping)
	}
	if r.pipe != nil && !r.resuming {
		t.stop(r)
	}
}

// stop calls Stop; the caller holds the lock.
func (t *participantRecordings) stop(r *participantRecording) {
	t.call(recordingStopTimeout, r.pipe.Stop, func(err error) {
		if err != nil {
			t.log.Warn("finalizing a participant recording", "stage", r.key.stage, "participant", r.key.participant, "err", err)
			t.end(r, recordingFailed, EventRecordingEndFailure)
			return
		}
		t.end(r, recordingStopped, EventRecordingEnd)
	})
}

// activate is the recording's ACTIVE: Recording Start, once.
func (t *participantRecordings) activate(r *participantRecording) {
	if r.ended || r.active {
		return
	}
	r.active = true
	t.sink.recordingEvent(r.key, r.session, EventRecordingStart, r.plan.spec.Bucket, r.prefix)
	if r.publishing && !r.gap && !r.resuming && !r.finishing {
		t.set(r, recordingActive)
	}
}

// end records a recording's last state, once, and sends its event; the
// recording leaves the table (one that failed on its own is stopped
// still). The caller holds the lock.
func (t *participantRecordings) end(r *participantRecording, state, event string) {
	if r.ended {
		return
	}
	t.set(r, state)
	r.ended = true
	t.sink.recordingEvent(r.key, r.session, event, r.plan.spec.Bucket, r.prefix)
	t.finish(r)
	if t.m[r.key] == r {
		delete(t.m, r.key)
	}
}

// set shows a recording's state on its participant's record, unless a
// newer recording of the participant has it.
func (t *participantRecordings) set(r *participantRecording, state string) {
	if t.m[r.key] == r && !r.ended && r.shown != state {
		r.shown = state
		t.sink.recordingState(r.key, r.session, state, r.plan.spec.Bucket, r.prefix)
	}
}

// closeWindow stops the reconnect window's timer, if it runs.
func (r *participantRecording) closeWindow() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

// recordingReporter is a recording's contract.Reporter: ACTIVE once storage
// has its first segment, and a final STOPPED or FAILED (while its Stop
// runs, or before if it fails on its own).
type recordingReporter struct {
	t *participantRecordings
	r *participantRecording
}

func (rep *recordingReporter) Active() {}

func (rep *recordingReporter) Destination(_ string, state contract.State, _ string) {
	rep.t.mu.Lock()
	defer rep.t.mu.Unlock()
	switch state {
	case contract.StateActive:
		rep.t.activate(rep.r)
	case contract.StateStopped:
		rep.t.end(rep.r, recordingStopped, EventRecordingEnd)
	case contract.StateFailed:
		rep.t.end(rep.r, recordingFailed, EventRecordingEndFailure)
	}
}

func (rep *recordingReporter) Failed(reason string) {
	rep.Destination("", contract.StateFailed, reason)
}
