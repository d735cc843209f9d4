package output

import (
	"log/slog"
	"sync/atomic"
)

// State is a destination's state, with the names of the ivs-realtime API's
// DestinationState.
type State string

const (
	StateStarting     State = "STARTING"
	StateActive       State = "ACTIVE"
	StateReconnecting State = "RECONNECTING"
	StateStopping     State = "STOPPING"
	StateStopped      State = "STOPPED"
	StateFailed       State = "FAILED"
)

// Final reports whether the state is an end state.
func (s State) Final() bool { return s == StateStopped || s == StateFailed }

// StateFunc receives a destination's state changes, in order, from the
// destination's own goroutine. err explains RECONNECTING and FAILED.
type StateFunc func(s State, err error)

// stateCell holds a destination's state; a change is logged and reported
// to the destination's StateFunc. It may be set from several goroutines.
type stateCell struct {
	v      atomic.Value // State
	logger *slog.Logger
	notify StateFunc
}

func (c *stateCell) init(logger *slog.Logger, notify StateFunc) {
	c.v.Store(StateStarting)
	c.logger, c.notify = logger, notify
}

func (c *stateCell) get() State { return c.v.Load().(State) }

// set changes the state and reports whether it changed.
func (c *stateCell) set(s State, err error) bool {
	if old := c.v.Swap(s); old == s {
		return false
	}
	if err != nil {
		c.logger.Warn("destination state", "state", string(s), "err", err)
	} else {
		c.logger.Info("destination state", "state", string(s))
	}
	if c.notify != nil {
		c.notify(s, err)
	}
	return true
}
