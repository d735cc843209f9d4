package testsrv

import (
	"testing"
	"time"
)

// WaitFor polls cond every 10 ms until it holds, and fails the test if it
// still does not after d; what names the condition in that failure.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
