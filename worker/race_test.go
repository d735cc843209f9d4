//go:build race

package worker

// raceDetector reports a build with the race detector, which slows the
// Go side of the media path (the compositor above all) several times
// over.
const raceDetector = true
