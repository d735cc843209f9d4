package control

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// An interrupted recording whose finalization fails (storage down) is
// tried again 1 s, 2 s, 4 s later until it succeeds; the next follows;
// Close stops the retries.
func TestFinalizeInterruptedRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls []string
		var at []time.Duration
		start := time.Now()
		s := &Server{log: quietLogger(), cfg: Config{FinalizeRecordings: func(ctx context.Context, comp, dest, bucket, prefix string, ended time.Time) error {
			calls = append(calls, comp)
			at = append(at, time.Since(start))
			if comp == "c1" && len(calls) < 4 {
				return errors.New("storage is down")
			}
			return nil
		}}}
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.wg.Add(1)
		go s.finalizeInterrupted([]interruptedRecording{{composition: "c1"}, {composition: "c2"}})
		s.wg.Wait()
		want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second, 7 * time.Second}
		if len(calls) != 5 || calls[4] != "c2" {
			t.Fatalf("calls %v", calls)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Errorf("attempt %d at %v, want %v (all: %v)", i, at[i], want[i], at)
			}
		}

		// Failing for ever: Close ends it.
		s.cfg.FinalizeRecordings = func(context.Context, string, string, string, string, time.Time) error { return errors.New("down") }
		s.wg.Add(1)
		go s.finalizeInterrupted([]interruptedRecording{{composition: "c3"}})
		time.Sleep(10 * time.Minute)
		s.cancel()
		s.wg.Wait()
	})
}
