package schedkeep

import "syscall"

const supported = true

// waitSignal blocks until the thread gets a signal: ppoll on no file
// descriptors without a timeout, made as a raw system call, which the Go
// scheduler does not see.
func waitSignal() {
	_, _, _ = syscall.RawSyscall6(syscall.SYS_PPOLL, 0, 0, 0, 0, 0, 0)
}
