package ingest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

func TestCapSessions(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		sessions, halfOpen     int
		nofile                 uint64
		wantSessions, wantHalf int
		wantLowered            int
	}{
		{"defaults, limit unknown", 0, 0, 0, 256, 32, 0},
		{"defaults, no limit", 0, 0, ^uint64(0), 256, 32, 0},
		{"defaults, 1024 files", 0, 0, 1024, 256, 32, 0},
		{"defaults, 512 files", 0, 0, 512, 128, 32, 0},
		{"defaults, 300 files", 0, 0, 300, 22, 22, 0},
		{"defaults, 100 files", 0, 0, 100, 1, 1, 0},
		{"asked more than the files allow", 1000, 0, 1024, 384, 32, 1000},
		{"half-open above sessions", 10, 100, 1 << 20, 10, 10, 0},
		{"as asked", 40, 5, 1 << 20, 40, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{MaxSessions: tc.sessions, MaxHalfOpen: tc.halfOpen}
			lowered := c.capSessions(tc.nofile)
			if c.MaxSessions != tc.wantSessions || c.MaxHalfOpen != tc.wantHalf || lowered != tc.wantLowered {
				t.Errorf("got %d sessions, %d half-open, lowered from %d; want %d, %d, %d",
					c.MaxSessions, c.MaxHalfOpen, lowered, tc.wantSessions, tc.wantHalf, tc.wantLowered)
			}
		})
	}
}

// ingestMetric returns the value of a tessera_ingest_* series, selected by
// its "cap" label when cap is not empty.
func ingestMetric(t *testing.T, ts *testServer, name, cap string) float64 {
	t.Helper()
	families, err := ts.cfg.Registerer.(*prometheus.Registry).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "tessera_ingest_"+name {
			continue
		}
		for _, m := range f.GetMetric() {
			if cap == "" || slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
				return l.GetName() == "cap" && l.GetValue() == cap
			}) {
				return value(m)
			}
		}
	}
	t.Fatalf("no series tessera_ingest_%s{cap=%q}", name, cap)
	return 0
}

// deadOffer returns an offer (a send-only video section, every candidate)
// of a connection that is closed at once: answering it makes a session
// that never connects.
func deadOffer(t *testing.T) string {
	t.Helper()
	pc := rawPeer(t)
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

// startRefused starts a Go publisher that the server must refuse with 503.
func startRefused(t *testing.T, ts *testServer, id, reason string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := publisher.Start(ctx, publisher.Config{WHIP: ts.url + "/whip", Token: ts.token(t, id, nil), NoAudio: true, Logger: testLogger(t)})
	var we *publisher.WHIPError
	if !errors.As(err, &we) || we.Status != http.StatusServiceUnavailable || !strings.Contains(we.Reason, reason) {
		if p != nil {
			_ = p.Close(ctx)
		}
		t.Fatalf("publisher over the cap: %v, want 503 %q", err, reason)
	}
}

// The total cap: publishers beyond MaxSessions are refused with 503 and
// Retry-After, counted, logged once for the burst; one leaving lets the
// next in.
func TestSessionCapTotal(t *testing.T) {
	logs := &testsrv.SyncBuffer{}
	ts := startServer(t, func(c *Config) {
		c.MaxSessions, c.Logger = 2, slog.New(slog.NewTextHandler(logs, nil))
	})
	var pubs []*publisher.Publisher
	for _, id := range []string{"one", "two"} {
		pubs = append(pubs, startPublisher(t, publisher.Config{WHIP: ts.url + "/whip", Token: ts.token(t, id, nil), NoAudio: true}))
	}
	testsrv.WaitFor(t, 10*time.Second, "two connected sessions", func() bool { return ingestMetric(t, ts, "half_open_sessions", "") == 0 })
	if n := ingestMetric(t, ts, "sessions", ""); n != 2 {
		t.Fatalf("%v sessions, want 2", n)
	}

	startRefused(t, ts, "three", "at capacity: 2 publishing sessions")
	status, body, h := post(t, "POST", ts.url+"/whip", ts.token(t, "four", nil), "application/sdp", deadOffer(t))
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") != "10" || !strings.Contains(body, "retry later") {
		t.Errorf("offer over the cap: %d %q, Retry-After %q; want 503, 10", status, body, h.Get("Retry-After"))
	}
	if n := ingestMetric(t, ts, "sessions_refused_total", "sessions"); n != 2 {
		t.Errorf("sessions_refused_total{cap=sessions} = %v, want 2", n)
	}
	if ts.stage.Participant("three") != nil || ts.stage.Participant("four") != nil {
		t.Error("a refused publisher joined the stage")
	}
	if n := strings.Count(logs.String(), "session cap reached"); n != 1 {
		t.Errorf("%d log lines for two refusals in a row, want 1 (rate-limited)", n)
	}

	// One leaves: the next is admitted.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pubs[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	startPublisher(t, publisher.Config{WHIP: ts.url + "/whip", Token: ts.token(t, "three", nil), NoAudio: true})
	testsrv.WaitFor(t, 10*time.Second, "three on the stage", func() bool { return ts.stage.Participant("three") != nil })
	if n := ingestMetric(t, ts, "sessions_refused_total", "sessions"); n != 2 {
		t.Errorf("sessions_refused_total{cap=sessions} = %v after recovery, want 2", n)
	}
}

func openFiles(t *testing.T) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(fds)
}

// The half-open cap: sessions whose offer was answered but which never
// connect hold no file descriptor, count against MaxHalfOpen (more are
// refused with 503 and Retry-After, counted), and end at ConnectTimeout,
// giving back their goroutines; then publishers are admitted again.
func TestSessionCapHalfOpen(t *testing.T) {
	const half = 8
	ts := startServer(t, func(c *Config) {
		c.MaxHalfOpen, c.MaxPublishers, c.ConnectTimeout = half, 20, 2*time.Second
	})
	offer := deadOffer(t)
	goroutines, files := runtime.NumGoroutine(), openFiles(t)
	for i := range half {
		id := "dead" + string(rune('a'+i))
		if status, body, _ := post(t, "POST", ts.url+"/whip", ts.token(t, id, nil), "application/sdp", offer); status != http.StatusCreated {
			t.Fatalf("offer %d: %d %s", i, status, body)
		}
	}
	if n := ingestMetric(t, ts, "half_open_sessions", ""); n != half {
		t.Fatalf("%v half-open sessions, want %d", n, half)
	}
	if n := openFiles(t) - files; n >= half {
		t.Errorf("%d half-open sessions hold %d more open files", half, n)
	}

	status, body, h := post(t, "POST", ts.url+"/whip", ts.token(t, "late", nil), "application/sdp", offer)
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") != "1" || !strings.Contains(body, "8 sessions still connecting") {
		t.Errorf("offer over the half-open cap: %d %q, Retry-After %q; want 503, 1", status, body, h.Get("Retry-After"))
	}
	startRefused(t, ts, "later", "still connecting")
	if n := ingestMetric(t, ts, "sessions_refused_total", "half_open"); n != 2 {
		t.Errorf("sessions_refused_total{cap=half_open} = %v, want 2", n)
	}
	if n := ingestMetric(t, ts, "sessions_refused_total", "sessions"); n != 0 {
		t.Errorf("sessions_refused_total{cap=sessions} = %v, want 0", n)
	}

	// ConnectTimeout ends them, and their goroutines.
	testsrv.WaitFor(t, 10*time.Second, "the half-open sessions to end", func() bool {
		return ingestMetric(t, ts, "half_open_sessions", "") == 0 && ingestMetric(t, ts, "sessions", "") == 0
	})
	testsrv.WaitFor(t, 10*time.Second, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines+6 })

	startPublisher(t, publisher.Config{WHIP: ts.url + "/whip", Token: ts.token(t, "later", nil), NoAudio: true})
	testsrv.WaitFor(t, 10*time.Second, "a connected session", func() bool {
		return ingestMetric(t, ts, "half_open_sessions", "") == 0 && ingestMetric(t, ts, "sessions", "") == 1
	})
	if n := ingestMetric(t, ts, "sessions_refused_total", "half_open"); n != 2 {
		t.Errorf("sessions_refused_total{cap=half_open} = %v after recovery, want 2", n)
	}
}
