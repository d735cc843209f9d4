package ingest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// testServer is an ingest Server behind an HTTP server on 127.0.0.1 with
// the test stage open.
type testServer struct {
	*Server
	url   string // the HTTP server's base URL
	key   *TokenKey
	stage *Stage
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("test", t.Name())
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startServer(t testing.TB, mutate func(*Config)) *testServer {
	t.Helper()
	cfg := Config{Key: mustKey(t), Loopback: true, LoopbackOnly: true, Registerer: prometheus.NewRegistry(), Logger: testLogger(t)}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
		hs.Close()
	})
	st, err := s.OpenStage(testStage, StageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hs.URL, "http://127.0.0.1:") {
		t.Fatalf("test server on %s, want loopback", hs.URL)
	}
	return &testServer{Server: s, url: hs.URL, key: cfg.Key, stage: st}
}

// token signs a publishing token for participant id on the test stage.
func (ts *testServer) token(t testing.TB, id string, mutate func(*Claims)) string {
	t.Helper()
	c := testClaims(time.Now())
	c.ParticipantID, c.UserID, c.WHIPURL = id, "user-"+id, ts.url+"/whip"
	if mutate != nil {
		mutate(&c)
	}
	tok, err := ts.key.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// hasEvent reports whether the stage recorded the event for participant.
func hasEvent(st *Stage, participant, name, code string) bool {
	for _, e := range st.Events() {
		if e.ParticipantID == participant && e.Name == name && e.ErrorCode == code {
			return true
		}
	}
	return false
}

// post sends a raw WHIP request.
func post(t testing.TB, method, url, token, ctype, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
