package output

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
