package control

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// compositionEvent is an Event with its detail decoded.
type compositionEvent struct {
	Event
	Detail EventDetail `json:"detail"`
}

// Events reach a webhook as EventBridge-shaped JSON; failed deliveries are
// retried with backoff and given up after the attempts.
func TestNotifierWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []compositionEvent
	calls := 0
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 2 { // the first two attempts fail
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var e compositionEvent
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &e); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook body %s: %v", b, err)
		}
		got = append(got, e)
	}))
	defer ok.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer broken.Close()

	n := NewNotifier([]string{ok.URL, broken.URL}, slog.New(slog.NewTextHandler(io.Discard, nil)),
		NotifierOptions{Attempts: 3, Backoff: 10 * time.Millisecond})
	e := Event{Version: "0", ID: newUUID(), DetailType: "IVS Composition State Change", Source: "aws.ivs",
		Account: "123456789012", Region: "us-east-1", Time: time.Now().UTC().Format(time.RFC3339),
		Resources: []string{"arn:aws:ivs:us-east-1:123456789012:composition/abc"},
		Detail:    EventDetail{EventName: EventSessionStart, StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/s"}}
	n.Notify(e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Detail.EventName != EventSessionStart || got[0].Source != "aws.ivs" || got[0].Resources[0] != e.Resources[0] || got[0].ID != e.ID {
		t.Fatalf("webhook received %+v", got)
	}
	if delivered, failed, dropped := n.Stats(); delivered != 1 || failed != 1 || dropped != 0 {
		t.Errorf("delivered %d failed %d dropped %d, want 1 1 0", delivered, failed, dropped)
	}
	if calls != 3 {
		t.Errorf("%d attempts on the flaky webhook, want 3", calls)
	}
}

// Signed deliveries verify with the secret and fail with another; each
// stage's events arrive in order, retries included; the metrics count
// events, deliveries and retries.
func TestNotifierSignedInOrder(t *testing.T) {
	secret := []byte("webhook-secret")
	var mu sync.Mutex
	got := map[string][]string{} // stage → participant ids in arrival order
	attempts := map[string]int{} // event id → attempts
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := VerifyWebhook(secret, r.Header, b, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		if VerifyWebhook([]byte("other"), r.Header, b, time.Now(), time.Minute) == nil {
			t.Error("a signature verified with the wrong secret")
		}
		var e struct {
			Event
			Detail StageUpdateDetail `json:"detail"`
		}
		if err := json.Unmarshal(b, &e); err != nil {
			t.Error(err)
		}
		mu.Lock()
		defer mu.Unlock()
		attempts[e.ID]++
		if attempts[e.ID] == 1 && len(attempts)%3 == 0 { // every third event fails once
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		got[e.Resources[0]] = append(got[e.Resources[0]], e.Detail.ParticipantID)
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	n := NewNotifier([]string{srv.URL}, quietLogger(), NotifierOptions{Secret: secret, Workers: 2, Backoff: time.Millisecond, Registerer: reg})
	stages := []string{"arn:aws:ivs:us-east-1:123456789012:stage/a", "arn:aws:ivs:us-east-1:123456789012:stage/b", "arn:aws:ivs:us-east-1:123456789012:stage/c"}
	const perStage = 20
	for i := range perStage {
		for _, st := range stages {
			n.Notify(Event{Version: "0", ID: newUUID(), DetailType: DetailStageUpdate, Source: "aws.ivs", Resources: []string{st}, stage: st,
				Detail: StageUpdateDetail{EventName: EventParticipantPublished, ParticipantID: strconv.Itoa(i)}})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, st := range stages {
		if len(got[st]) != perStage {
			t.Fatalf("%s: %d events, want %d", st, len(got[st]), perStage)
		}
		for i, id := range got[st] {
			if id != strconv.Itoa(i) {
				t.Fatalf("%s: events in the order %v", st, got[st])
			}
		}
	}
	total := len(stages) * perStage
	if v := testutil.ToFloat64(n.metrics.events.WithLabelValues(DetailStageUpdate, EventParticipantPublished)); v != float64(total) {
		t.Errorf("events counted %v, want %d", v, total)
	}
	if v := testutil.ToFloat64(n.metrics.deliveries.WithLabelValues("delivered")); v != float64(total) {
		t.Errorf("deliveries counted %v, want %d", v, total)
	}
	if v := testutil.ToFloat64(n.metrics.retries); v != float64(total/3) {
		t.Errorf("retries counted %v, want %d", v, total/3)
	}
}
