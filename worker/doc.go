// Package worker runs compositions: it is the control plane's
// PipelineFactory. For each composition it follows the stage's roster,
// lays the participants out (layout.Arrange, re-planned live when the
// roster, attributes or video sizes change), composes a canvas per tick of
// a frame clock at the encoder configuration's rate from each
// participant's newest picture captured at or before the tick minus a
// fixed delay, mixes their audio on the same clock, encodes once per
// encoder configuration and fans the packets out to the destinations
// (RTMP(S) channels, HLS recordings). Destination states and the first
// output are reported to the control plane; a destination's failure never
// stops the others.
package worker
