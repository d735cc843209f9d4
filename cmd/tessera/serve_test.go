package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
)

// The server starts on the embedded defaults, answers the API (AWS SDK),
// health, readiness and metrics, and shuts down on cancel; its data
// survives into the next start.
func TestServe(t *testing.T) {
	data := t.TempDir()
	addr, stop := startServe(t, data)
	url := "http://" + addr
	client := apiClient(url, nil)
	ctx := context.Background()
	st, err := client.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("persisted")})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "tessera_api_requests_total"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %.200s", path, resp.StatusCode, b)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	addr, _ = startServe(t, data)
	url = "http://" + addr
	client = apiClient(url, nil)
	if g, err := client.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Stage.Arn}); err != nil || *g.Stage.Name != "persisted" {
		t.Errorf("after restart: %v", err)
	}
}

// startServe runs serve on free loopback ports with the data folder and
// args until stop (or the test's end), which returns serve's error.
func startServe(t *testing.T, data string, args ...string) (addr string, stop func() error) {
	t.Helper()
	args = append([]string{"--listen", "127.0.0.1:0", "--rtmp-listen", "127.0.0.1:0", "--rtmps-listen", "127.0.0.1:0", "--data", data, "--log-level", "error"}, args...)
	s, _, err := parseSettings(args, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serve(ctx, s, ready) }()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(60 * time.Second):
				serveErr = errors.New("no shutdown")
			}
		})
		return serveErr
	}
	t.Cleanup(func() { _ = stop() })
	select {
	case addr = <-ready:
		return addr, stop
	case err := <-done:
		once.Do(func() { cancel(); serveErr = err })
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	return "", stop
}
