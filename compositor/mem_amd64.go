package compositor

import "golang.org/x/sys/cpu"

// prefetchLines asks the memory system for every cache line of b and
// returns at once (PREFETCHT0): unlike loads, prefetches do not hold up
// the instructions after them, so the fetch overlaps the kernels' work.
//
//go:noescape
func prefetchLines(b []byte)

// copyRep copies len(dst) bytes of src (at least as long) with REP MOVSB.
//
//go:noescape
func copyRep(dst, src []byte)

// repThreshold is the size from which copyPlane uses REP MOVSB: on CPUs
// with ERMS it moves a whole plane (hundreds of KiB) about a third faster
// than memmove's vector loop (24 µs against 37 µs for 1280×720 bytes from
// memory on an AMD EPYC), and no faster row by row.
const repThreshold = 64 << 10

var useRep = cpu.X86.HasERMS

// copyPlane copies src into dst (len(dst) bytes): a run of whole rows.
func copyPlane(dst, src []byte) {
	if useRep && len(dst) >= repThreshold {
		copyRep(dst, src[:len(dst)])
		return
	}
	copy(dst, src)
}
