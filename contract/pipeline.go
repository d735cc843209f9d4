package contract

import (
	"context"

	"github.com/tessera-media/tessera/layout"
)

// PipelineFactory starts the media side of a composition. It returns once
// the pipeline runs (or failed to start); from then on the pipeline reports
// progress through r, from any goroutine, until Stop returned. ctx bounds
// the start only.
type PipelineFactory func(ctx context.Context, spec CompositionSpec, r Reporter) (Pipeline, error)

// Pipeline is the media side of a running composition.
type Pipeline interface {
	// SetLayout replaces the composition's layout (CompositionSpec.Layout,
	// validated, the API's defaults applied) while it runs: the next canvas
	// shows the new arrangement, with no pause and no gap in the output's
	// timestamps. It never blocks, and may be called from any goroutine,
	// also after Stop began (it then does nothing).
	SetLayout(layout.Config) error
	// Stop ends the composition cleanly within ctx: every destination is
	// stopped and every recording finalized in storage. It is called once.
	Stop(ctx context.Context) error
}

// Reporter receives a running pipeline's progress. Its methods are safe
// for concurrent use and never block for long.
type Reporter interface {
	// Active reports that output is flowing (the first encoded packet).
	Active()
	// Destination reports a destination's new state (by DestinationSpec.ID),
	// with a reason for RECONNECTING and FAILED.
	Destination(id string, state State, reason string)
	// Failed reports that the whole composition failed and must stop.
	Failed(reason string)
}
