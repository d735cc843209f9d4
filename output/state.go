package output

import (
	"log/slog"
	"sync/atomic"

	"github.com/tessera-media/tessera/contract"
)

// StateFunc receives a destination's state changes, in order, from the
// destination's own goroutine. err explains RECONNECTING and FAILED.
type StateFunc func(s contract.State, err error)

// stateCell holds a destination's state; a change is logged and reported
// to the destination's StateFunc. It may be set from several goroutines.
type stateCell struct {
	v      atomic.Value // contract.State
	logger *slog.Logger
	notify StateFunc
}

func (c *stateCell) init(logger *slog.Logger, notify StateFunc) {
	c.v.Store(contract.StateStarting)
	c.logger, c.notify = logger, notify
}

func (c *stateCell) get() contract.State { return c.v.Load().(contract.State) }

// set changes the state and reports whether it changed.
func (c *stateCell) set(s contract.State, err error) bool {
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
