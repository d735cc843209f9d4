package control

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Events reach a webhook as EventBridge-shaped JSON; failed deliveries are
// retried with backoff and given up after the attempts.
func TestNotifierWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []Event
	calls := 0
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 2 { // the first two attempts fail
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var e Event
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
	if len(got) != 1 || got[0].Detail.EventName != EventSessionStart || got[0].Source != "aws.ivs" || got[0].Resources[0] != e.Resources[0] {
		t.Fatalf("webhook received %+v", got)
	}
	if delivered, failed, dropped := n.Stats(); delivered != 1 || failed != 1 || dropped != 0 {
		t.Errorf("delivered %d failed %d dropped %d, want 1 1 0", delivered, failed, dropped)
	}
	if calls != 3 {
		t.Errorf("%d attempts on the flaky webhook, want 3", calls)
	}
}
