//go:build !amd64

package compositor

// prefetchLines does nothing where there is no prefetch instruction here:
// the hardware prefetchers alone bring the rows in.
func prefetchLines([]byte) {}
