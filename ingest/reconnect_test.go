package ingest

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// rosterIDs returns the roster's participant ids in arrival order.
func rosterIDs(st *Stage) []string {
	var ids []string
	for _, r := range st.Roster() {
		ids = append(ids, r.ID)
	}
	return ids
}

// A participant that publishes again keeps its place in the arrival order:
// when its earlier session is still up (it is replaced in place: the
// roster never lacks the participant), and when it ended less than the
// reconnect window ago. Past the window, or with the window off, it is a
// new arrival. Either way its events are LEFT then JOINED, as IVS emits them.
func TestReconnectKeepsArrival(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window time.Duration
		want   []string // the roster after b left and published again
	}{
		{"window", 0, []string{"a", "b", "c"}},
		{"off", -1, []string{"a", "c", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, func(c *Config) { c.ReconnectWindow = tc.window })
			publish := func(id string) *publisher.Publisher {
				return startPublisher(t, publisher.Config{WHIP: ts.url + "/whip", Token: ts.token(t, id, nil), Name: id, NoAudio: true})
			}
			publish("a")
			b := publish("b")
			publish("c")
			if ids := rosterIDs(ts.stage); !slices.Equal(ids, []string{"a", "b", "c"}) {
				t.Fatalf("roster %v", ids)
			}

			// b publishes again while its first session is up: replaced in
			// place, whatever the window.
			var missing, samples atomic.Int64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				for {
					select {
					case <-stop:
						return
					default:
					}
					if !slices.Contains(rosterIDs(ts.stage), "b") {
						missing.Add(1)
					}
					samples.Add(1)
					time.Sleep(time.Millisecond)
				}
			}()
			b2 := publish("b")
			testsrv.WaitFor(t, 10*time.Second, "b's first session to end", func() bool {
				select {
				case <-b.Done():
					return true
				default:
					return false
				}
			})
			close(stop)
			<-sampled
			if ids := rosterIDs(ts.stage); !slices.Equal(ids, []string{"a", "b", "c"}) || missing.Load() != 0 {
				t.Errorf("after b replaced its session: roster %v, b missing from %d of %d samples", ids, missing.Load(), samples.Load())
			}

			// b ends its session (DELETE), then publishes again at once.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b2.Close(ctx); err != nil {
				t.Fatal(err)
			}
			testsrv.WaitFor(t, 10*time.Second, "b to leave", func() bool { return ts.stage.Participant("b") == nil })
			publish("b")
			if ids := rosterIDs(ts.stage); !slices.Equal(ids, tc.want) {
				t.Errorf("after b published again: roster %v, want %v", ids, tc.want)
			}
			var evs []string
			for _, e := range ts.stage.Events() {
				if e.ParticipantID == "b" && (e.Name == EventJoined || e.Name == EventLeft) {
					evs = append(evs, e.Name)
				}
			}
			if want := []string{EventJoined, EventLeft, EventJoined, EventLeft, EventJoined}; !slices.Equal(evs, want) {
				t.Errorf("b's events %v, want %v", evs, want)
			}
		})
	}
}
