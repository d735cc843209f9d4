package contract

// State is a composition's or a destination's state, named as the
// ivs-realtime API names CompositionState and DestinationState. A
// composition is never RECONNECTING; a destination goes STARTING → ACTIVE ⇄
// RECONNECTING → STOPPING → STOPPED, or FAILED from any state.
type State string

const (
	StateStarting     State = "STARTING"
	StateActive       State = "ACTIVE"
	StateReconnecting State = "RECONNECTING"
	StateStopping     State = "STOPPING"
	StateStopped      State = "STOPPED"
	StateFailed       State = "FAILED"
)

// Final reports whether s is an end state (STOPPED or FAILED).
func (s State) Final() bool { return s == StateStopped || s == StateFailed }
