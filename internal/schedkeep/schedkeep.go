// Package schedkeep keeps the Go scheduler from ever having every
// processor idle, so that its monitor thread (sysmon) stops waking every
// 20 µs.
//
// When all of the scheduler's processors (Ps) are idle, sysmon sleeps
// until the next goroutine enters a system call or a cgo call; it then
// polls every 20 µs for at least a millisecond before it backs off. A
// media server is idle between packets many hundred times a second and
// makes a system call or a cgo call (a read, a decode) after each, so
// sysmon hardly ever backs off: tens of thousands of wake-ups a second.
// On a virtual machine, where a context switch is expensive, that is a
// fifth of the CPU of receiving and decoding six publishers.
//
// Start (on Linux; elsewhere it does nothing) adds one processor and parks
// a goroutine on it in ppoll(2) with nothing to poll, a raw
// system call the scheduler does not see: that processor counts as
// running, never idle, so sysmon never falls into that sleep and backs off
// to 10 ms between checks while nothing needs it. The goroutine wakes on
// the scheduler's preemption signal (sysmon's every 10 ms, and every
// stop-the-world) and yields at once, so garbage collection and the other
// goroutines are not held up; the added processor runs other goroutines
// only in those moments, so the process's parallelism stays what it was.
package schedkeep

import (
	"runtime"
	"sync"
	"time"
)

// nap is how long the keeper's goroutine sleeps after each signal before
// it blocks again. Short enough that the processor is rarely idle, so
// rarely is every processor idle at the moment sysmon looks.
const nap = 50 * time.Microsecond

var (
	mu      sync.Mutex
	running chan struct{} // closed by the stop function
)

// Start starts the keeper and returns the function that stops it (and
// gives the processor back). Only one keeper runs; Start while one runs
// returns a function that does nothing.
func Start() (stop func()) {
	if !supported {
		return func() {}
	}
	mu.Lock()
	defer mu.Unlock()
	if running != nil {
		return func() {}
	}
	done := make(chan struct{})
	running = done
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-done:
				return
			default:
			}
			// Until a signal: at the latest sysmon's preemption signal
			// 10 ms from now (this goroutine runs on, as far as the
			// scheduler knows).
			waitSignal()
			// Parked, not just yielded: a collection that wants this
			// goroutine's stack finds it waiting, instead of catching it
			// between yield and run again.
			time.Sleep(nap)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			close(done)
			running = nil
			mu.Unlock()
			<-exited
			runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) - 1)
		})
	}
}
