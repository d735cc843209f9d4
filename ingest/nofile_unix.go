//go:build unix

package ingest

import "syscall"

// openFileLimit returns the process's open-file limit (RLIMIT_NOFILE, the
// soft limit, which Go raises to the hard limit at start-up), or 0 when it
// cannot be read.
func openFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return uint64(l.Cur)
}
