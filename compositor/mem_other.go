//go:build !amd64

package compositor

// prefetchLines does nothing where there is no prefetch instruction here:
// the hardware prefetchers alone bring the rows in.
func prefetchLines([]byte) {}

// copyPlane copies src into dst (len(dst) bytes): a run of whole rows.
func copyPlane(dst, src []byte) { copy(dst, src) }
