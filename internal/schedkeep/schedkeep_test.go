package schedkeep

import (
	"runtime"
	"testing"
	"time"
)

// The keeper takes one more processor and gives it back; while it runs,
// collections (which stop the world) complete, timers fire and goroutines
// run on every other processor; a second Start is a no-op.
func TestKeeper(t *testing.T) {
	if !supported {
		t.Skip("the keeper runs on Linux only")
	}
	procs := runtime.GOMAXPROCS(0)
	stop := Start()
	if got := runtime.GOMAXPROCS(0); got != procs+1 {
		t.Fatalf("GOMAXPROCS %d while keeping, want %d", got, procs+1)
	}
	if again := Start(); runtime.GOMAXPROCS(0) != procs+1 {
		t.Fatal("a second Start took another processor")
	} else {
		again()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("20 collections and sleeps did not complete in 30 s with the keeper running")
	}
	// Busy goroutines on every other processor all finish.
	results := make(chan int, procs)
	for range procs {
		go func() {
			n := 0
			for j := range 5_000_000 {
				n += j & 1
			}
			results <- n
		}()
	}
	for range procs {
		select {
		case <-results:
		case <-time.After(30 * time.Second):
			t.Fatal("busy goroutines did not finish with the keeper running")
		}
	}
	stop()
	stop()
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Fatalf("GOMAXPROCS %d after stop, want %d", got, procs)
	}
	// It starts again after a stop.
	Start()()
}
