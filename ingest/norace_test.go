//go:build !race

package ingest

// raceDetector reports a build with the race detector, which slows the
// Go side of the media path several times over.
const raceDetector = false
