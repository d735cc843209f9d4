package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
)

// The server starts on the embedded defaults, answers the API (AWS SDK),
// health, readiness and metrics, and shuts down on cancel; its data
// survives into the next start.
func TestServe(t *testing.T) {
	data := t.TempDir()
	start := func() (string, context.CancelFunc, chan error) {
		s, _, err := parseSettings([]string{"--listen", "127.0.0.1:0", "--rtmp-listen", "127.0.0.1:0", "--rtmps-listen", "127.0.0.1:0", "--data", data, "--log-level", "error"}, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan string, 1), make(chan error, 1)
		go func() { done <- serve(ctx, s, ready) }()
		select {
		case addr := <-ready:
			return "http://" + addr, cancel, done
		case err := <-done:
			t.Fatal(err)
		case <-time.After(30 * time.Second):
			t.Fatal("server did not start")
		}
		return "", cancel, done
	}
	url, cancel, done := start()
	client := ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(DevAccessKeyID, DevSecretAccessKey, "")})
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
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no shutdown")
	}
	url, cancel, done = start()
	defer func() { cancel(); <-done }()
	client = ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(DevAccessKeyID, DevSecretAccessKey, "")})
	if g, err := client.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Stage.Arn}); err != nil || *g.Stage.Name != "persisted" {
		t.Errorf("after restart: %v", err)
	}
}
