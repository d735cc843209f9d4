package ingest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// With Config.Route naming another server, a WHIP offer is redirected
// there (307, the path's stage kept) before its body is read, and a
// publisher that follows lands on that server; Route's error is a 503
// with its reason; an RTMP publish, which cannot be redirected, is
// refused and counted.
func TestRoute(t *testing.T) {
	key := mustKey(t)
	var mu sync.Mutex
	var asked []string
	b := startServer(t, func(c *Config) { c.Key = key })
	var fail error
	a := startRTMP(t, func(c *Config) {
		c.Key = key
		c.Route = func(ctx context.Context, stageARN, protocol string) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, protocol+" "+stageARN)
			return b.url + "/whip", fail
		}
	})

	req, _ := http.NewRequest(http.MethodPost, a.testServer.url+"/whip/AbCdEf012345", strings.NewReader("v=0"))
	req.Header.Set("Authorization", "Bearer "+a.token(t, "x", nil))
	req.Header.Set("Content-Type", "application/sdp")
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != b.url+"/whip/AbCdEf012345" {
		t.Fatalf("offer to the other server's stage: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	startPublisher(t, publisher.Config{WHIP: a.testServer.url + "/whip", Token: a.token(t, "p", nil), NoAudio: true})
	testsrv.WaitFor(t, 10*time.Second, "the publisher on the stage's server", func() bool { return b.stage.Participant("p") != nil })
	if a.stage.Participant("p") != nil {
		t.Error("the publisher joined the server that redirected it")
	}
	if n := testutil.ToFloat64(a.metrics.redirected); n != 2 {
		t.Errorf("%v offers counted as redirected, want 2", n)
	}
	// A token that does not verify is refused, not redirected.
	if status, _, _ := post(t, http.MethodPost, a.testServer.url+"/whip", "garbage", "application/sdp", "v=0"); status != http.StatusUnauthorized {
		t.Errorf("a bad token: %d, want 401", status)
	}

	mu.Lock()
	fail = errors.New("no node of the cluster has 0.05 cores free")
	mu.Unlock()
	status, body, _ := post(t, http.MethodPost, a.testServer.url+"/whip", a.token(t, "y", nil), "application/sdp", "v=0")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "0.05 cores free") {
		t.Errorf("no room: %d %q, want 503 with the reason", status, body)
	}
	mu.Lock()
	fail = nil
	mu.Unlock()

	k := a.config("r", true)
	if err := testsrv.PushTestPattern(a.url(k, false), 2*time.Second); err == nil {
		t.Error("an RTMP publish to a server that does not serve its stage was accepted")
	}
	if n := testutil.ToFloat64(a.metrics.rtmpConns.WithLabelValues("other_node")); n != 1 {
		t.Errorf("%v RTMP publishes counted other_node, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"WHIP " + testStage, "WHIP " + testStage, "WHIP " + testStage, "RTMP " + testStage}
	if strings.Join(asked, ",") != strings.Join(want, ",") {
		t.Errorf("Route asked %v, want %v", asked, want)
	}
}
