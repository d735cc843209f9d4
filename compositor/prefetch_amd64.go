package compositor

// prefetchLines asks the memory system for every cache line of b and
// returns at once (PREFETCHT0): unlike loads, prefetches do not hold up
// the instructions after them, so the fetch overlaps the kernels' work.
//
//go:noescape
func prefetchLines(b []byte)
