package control

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/layout"
)

// Timeouts are the lifecycle durations (REFERENCE: 60 s, 60 s, 24 h, 5 min).
type Timeouts struct {
	// Idle: stop this long after the last publisher left.
	Idle time.Duration
	// NoPublisher: stop this long after start when nobody published.
	NoPublisher time.Duration
	// MaxDuration: stop at this age.
	MaxDuration time.Duration
	// Retention: ended compositions stay visible this long.
	Retention time.Duration
	// StopTimeout bounds a pipeline's Stop.
	StopTimeout time.Duration
	// SessionEnd: a stage session ends this long after its last
	// participant left (sessions.go).
	SessionEnd time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.Idle, time.Minute)
	def(&t.NoPublisher, time.Minute)
	def(&t.MaxDuration, 24*time.Hour)
	def(&t.Retention, 5*time.Minute)
	def(&t.StopTimeout, 30*time.Second)
	def(&t.SessionEnd, DefaultSessionEnd)
	return t
}

// DestinationStatus is a destination's observable state.
type DestinationStatus struct {
	State     contract.State
	StartTime time.Time
	EndTime   time.Time
}

// CompositionStatus is a composition's observable state.
type CompositionStatus struct {
	State        contract.State
	StartTime    time.Time
	EndTime      time.Time
	Destinations map[string]DestinationStatus
}

// roster is what a composition follows of its stage (an *ingest.Stage):
// who publishes, and when that changes.
type roster interface {
	Roster() []ingest.ParticipantInfo
	Watch() (changes <-chan struct{}, stop func())
}

// composition drives one composition through its lifecycle: STARTING →
// ACTIVE → STOPPING → STOPPED, or FAILED; it stops on request, when the
// stage has had no publisher for the idle timeouts, when every destination
// failed, and at the maximum duration. Every change goes to onChange (the
// store) and as events to the notifier.
type composition struct {
	spec     contract.CompositionSpec
	stage    roster // nil when the stage is not open
	timeouts Timeouts
	log      *slog.Logger
	events   func(name, destination, reason string)
	onChange func(CompositionStatus)
	onGone   func() // after the retention period

	// saveMu orders the saves of the status: each writes the status as it
	// is when its turn comes, so the last save holds the latest state.
	saveMu sync.Mutex

	mu      sync.Mutex
	status  CompositionStatus
	failure string // set by contract.Reporter.Failed

	// layoutMu orders layout changes (setLayout) and guards the fields
	// below.
	layoutMu sync.Mutex
	pipe     contract.Pipeline // nil until the pipeline started
	layout   *layout.Config    // the latest layout set, nil if none

	stopReq chan string   // a stop request's reason
	poke    chan struct{} // a reporter changed something
	done    chan struct{} // closed when the composition ended
}

func newComposition(spec contract.CompositionSpec, stage roster, t Timeouts, log *slog.Logger) *composition {
	c := &composition{spec: spec, stage: stage, timeouts: t, log: log,
		stopReq: make(chan string, 1), poke: make(chan struct{}, 1), done: make(chan struct{})}
	c.status = CompositionStatus{State: contract.StateStarting, StartTime: time.Now().UTC(), Destinations: map[string]DestinationStatus{}}
	for _, d := range spec.Destinations {
		c.status.Destinations[d.ID] = DestinationStatus{State: contract.StateStarting}
	}
	return c
}

// Status returns a copy of the current status.
func (c *composition) Status() CompositionStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.copyStatus()
}

func (c *composition) copyStatus() CompositionStatus {
	s := c.status
	s.Destinations = make(map[string]DestinationStatus, len(c.status.Destinations))
	for k, v := range c.status.Destinations {
		s.Destinations[k] = v
	}
	return s
}

// stop asks the composition to stop (idempotent). A composition STARTING or
// ACTIVE is STOPPING, and saved so, when stop returns: whoever asked sees
// the change at once, while the pipeline winds down in the background.
func (c *composition) stop(reason string) {
	c.mu.Lock()
	live := c.status.State == contract.StateStarting || c.status.State == contract.StateActive
	if live {
		c.status.State = contract.StateStopping
	}
	c.mu.Unlock()
	if live {
		c.changed()
	}
	select {
	case c.stopReq <- reason:
	default:
	}
}

// Active implements contract.Reporter.
func (c *composition) Active() {
	c.mu.Lock()
	changed := c.status.State == contract.StateStarting
	if changed {
		c.status.State = contract.StateActive
	}
	c.mu.Unlock()
	if changed {
		c.changed()
		c.events(EventSessionStart, "", "")
	}
}

// Destination implements contract.Reporter.
func (c *composition) Destination(id string, state contract.State, reason string) {
	now := time.Now().UTC()
	c.mu.Lock()
	d, ok := c.status.Destinations[id]
	if !ok || d.State == state {
		c.mu.Unlock()
		return
	}
	prev := d.State
	d.State = state
	switch state {
	case contract.StateActive:
		if d.StartTime.IsZero() {
			d.StartTime = now
		}
	case contract.StateStopped, contract.StateFailed:
		d.EndTime = now
	}
	c.status.Destinations[id] = d
	c.mu.Unlock()
	c.changed()
	switch state {
	case contract.StateActive:
		if prev != contract.StateReconnecting {
			c.events(EventDestinationStart, id, "")
		}
	case contract.StateReconnecting:
		c.events(EventDestinationReconnecting, id, reason)
	case contract.StateFailed:
		c.events(EventDestinationFailure, id, reason)
	case contract.StateStopped:
		c.events(EventDestinationEnd, id, "")
	}
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

// Failed implements contract.Reporter.
func (c *composition) Failed(reason string) {
	c.mu.Lock()
	if c.failure == "" {
		c.failure = reason
	}
	c.mu.Unlock()
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

func (c *composition) changed() {
	if c.onChange != nil {
		c.saveMu.Lock()
		defer c.saveMu.Unlock()
		c.onChange(c.Status())
	}
}

// running reports whether the composition is STARTING or ACTIVE (not yet
// asked to stop, not ended).
func (c *composition) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status.State == contract.StateStarting || c.status.State == contract.StateActive
}

func (c *composition) setState(state contract.State) {
	c.mu.Lock()
	if c.status.State == state {
		c.mu.Unlock()
		return
	}
	c.status.State = state
	if state.Final() {
		c.status.EndTime = time.Now().UTC()
	}
	c.mu.Unlock()
	c.changed()
}

// publishers counts the stage's participants publishing audio or video.
func (c *composition) publishers() int {
	if c.stage == nil {
		return 0
	}
	n := 0
	for _, p := range c.stage.Roster() {
		if p.Video || p.Audio {
			n++
		}
	}
	return n
}

// run drives the composition until it ended, then waits out the retention
// period. start builds the pipeline.
func (c *composition) run(ctx context.Context, start contract.PipelineFactory) {
	defer func() {
		if c.onGone != nil {
			select {
			case <-time.After(c.timeouts.Retention):
			case <-ctx.Done():
			}
			c.onGone()
		}
	}()
	defer close(c.done)

	p, err := start(ctx, c.spec, c)
	if err != nil {
		c.log.Error("composition failed to start", "err", err)
		c.finishDestinations(contract.StateFailed)
		c.setState(contract.StateFailed)
		c.events(EventSessionFailure, "", err.Error())
		return
	}
	c.started(p)

	var changes <-chan struct{}
	if c.stage != nil {
		ch, unwatch := c.stage.Watch()
		defer unwatch()
		changes = ch
	}
	maxAge := time.NewTimer(c.timeouts.MaxDuration)
	defer maxAge.Stop()
	idle := time.NewTimer(c.timeouts.NoPublisher)
	defer idle.Stop()
	idleArmed, everPublished := true, false
	check := func() {
		if n := c.publishers(); n > 0 {
			everPublished = true
			if idleArmed {
				idle.Stop()
				idleArmed = false
			}
		} else if !idleArmed {
			d := c.timeouts.Idle
			if !everPublished {
				d = c.timeouts.NoPublisher
			}
			idle.Reset(d)
			idleArmed = true
		}
	}
	check()

	reason, final := "", contract.StateStopped
loop:
	for {
		select {
		case reason = <-c.stopReq:
			break loop
		case <-ctx.Done():
			reason = "server shutting down"
			break loop
		case <-changes:
			check()
		case <-idle.C:
			if everPublished {
				reason = "no publisher for the idle timeout"
			} else {
				reason = "nobody published after start"
			}
			break loop
		case <-maxAge.C:
			reason = "maximum duration reached"
			break loop
		case <-c.poke:
			c.mu.Lock()
			failure := c.failure
			allFailed := len(c.status.Destinations) > 0
			for _, d := range c.status.Destinations {
				if d.State != contract.StateFailed {
					allFailed = false
				}
			}
			c.mu.Unlock()
			if failure != "" {
				reason, final = failure, contract.StateFailed
				break loop
			}
			if allFailed {
				reason, final = "every destination failed", contract.StateFailed
				break loop
			}
		}
	}
	c.log.Info("composition stopping", "reason", reason)
	c.setState(contract.StateStopping)
	sctx, cancel := context.WithTimeout(context.Background(), c.timeouts.StopTimeout)
	err = p.Stop(sctx)
	cancel()
	if err != nil {
		c.log.Error("pipeline stop", "err", err)
		final = contract.StateFailed
		reason = "stopping failed: " + err.Error()
	}
	if final == contract.StateStopped {
		c.finishDestinations(contract.StateStopped)
	} else {
		c.finishDestinations(contract.StateFailed)
	}
	c.setState(final)
	if final == contract.StateFailed {
		c.events(EventSessionFailure, "", reason)
	} else {
		c.events(EventSessionEnd, "", reason)
	}
}

// finishDestinations moves every destination not yet ended to state.
func (c *composition) finishDestinations(state contract.State) {
	c.mu.Lock()
	var ids []string
	for id, d := range c.status.Destinations {
		if !d.State.Final() {
			ids = append(ids, id)
		}
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.Destination(id, state, "composition ended")
	}
}
