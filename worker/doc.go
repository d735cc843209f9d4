// Package worker runs compositions: [Worker.Start] is a
// [contract.PipelineFactory], the media side the control plane starts for
// each composition. For each composition it follows the stage's roster in
// ingest, lays the participants out (layout.Arrange, re-planned live when
// the roster, attributes or video sizes change, or the layout itself:
// [contract.Pipeline]'s SetLayout, shown from the next tick on, the clock
// undisturbed), composes a canvas per tick
// of a frame clock at the encoder configuration's rate from each
// participant's newest picture captured at or before the tick minus a
// fixed delay, mixes their audio on the same clock, encodes once per
// encoder configuration and fans the packets out to the destinations
// (RTMP(S) channels, HLS recordings). A composition's first canvas is
// composed and encoded before its frame clock starts, so outputs start at
// timestamp 0 without a hole; a clock that falls behind composes the ticks
// it owes back to back, and skips ticks only when more than 150 ms (and
// two frames) behind.
//
// Contract: Start returns once every encoder and destination is set up (or
// an error, with nothing left running); from then on destination states and
// the first output are reported through the [contract.Reporter], a
// destination's failure never stops the others, and Stop finalizes every
// recording before it returns. [Worker.Recover], at start-up, finalizes the
// recordings a crash interrupted and uploads what the spools held;
// [Worker.FinalizeInterrupted] finalizes from storage alone those whose work
// files are not on this server. The
// worker knows nothing of the API: it imports contract, not control.
package worker
