package control

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tessera-media/tessera/control/sigv4"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// noBackoff retries at once.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

func wantThrottled(t *testing.T, err error) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" || ae.ErrorMessage() != "Rate exceeded" || status(err) != http.StatusTooManyRequests {
		t.Fatalf("got %v (HTTP %d), want ThrottlingException: Rate exceeded (429)", err, status(err))
	}
	if retry.DefaultThrottles[0].IsErrorThrottle(err) != aws.TrueTernary {
		t.Errorf("the SDK does not take %v for a throttling error", err)
	}
}

// TestThrottling: each access key has a token bucket per operation; an
// empty one answers ThrottlingException, which the SDK knows and retries;
// refusals are counted and logged at a bounded rate; the bucket refills.
func TestThrottling(t *testing.T) {
	const otherKey, otherSecret = "AKIATESSERATEST00002", "tessera-other-secret"
	logs := &testsrv.SyncBuffer{}
	env := startAPI(t, t.TempDir(), func(c *Config) {
		c.Credentials[otherKey] = otherSecret
		c.RateLimit = &RateLimit{TPS: 2, Burst: 3}
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	clock := &fakeClock{t: time.Now()}
	env.srv.throttle.now = clock.now
	env.srv.refusals.now = clock.now
	ctx := context.Background()
	list := func(c *ivsrealtime.Client) error {
		_, err := c.ListStages(ctx, &ivsrealtime.ListStagesInput{})
		return err
	}
	for i := range 3 {
		if err := list(env.client); err != nil {
			t.Fatalf("call %d of the burst: %v", i+1, err)
		}
	}
	for range 4 {
		wantThrottled(t, list(env.client))
	}
	throttled := env.srv.metrics.throttled.WithLabelValues("ListStages")
	if n := testutil.ToFloat64(throttled); n != 4 {
		t.Errorf("tessera_api_throttled_total{operation=ListStages} = %v, want 4", n)
	}
	if n := strings.Count(logs.String(), `msg="API calls throttled"`); n != 1 {
		t.Errorf("%d log lines for 4 refusals within a second, want 1", n)
	}

	// Other operations and other keys have their own buckets.
	if _, err := env.client.ListEncoderConfigurations(ctx, &ivsrealtime.ListEncoderConfigurationsInput{}); err != nil {
		t.Errorf("another operation: %v", err)
	}
	if err := list(newClient(env.url, otherKey, otherSecret)); err != nil {
		t.Errorf("another access key: %v", err)
	}

	// The SDK retries a throttled call: three attempts, all refused here.
	retrying := ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(env.url),
		Credentials: env.client.Options().Credentials,
		Retryer:     retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = noBackoff{} })})
	err := list(retrying)
	var maxed *retry.MaxAttemptsError
	if !errors.As(err, &maxed) || maxed.Attempt != 3 {
		t.Errorf("retrying client: %v, want 3 attempts", err)
	}
	wantThrottled(t, err)
	if n := testutil.ToFloat64(throttled); n != 7 {
		t.Errorf("tessera_api_throttled_total{operation=ListStages} = %v after 3 more attempts, want 7", n)
	}

	// Half a second gives one call at 2 per second; ten seconds later the
	// refusals are logged again, with the count of those not logged.
	clock.advance(500 * time.Millisecond)
	if err := list(env.client); err != nil {
		t.Fatalf("after the refill: %v", err)
	}
	wantThrottled(t, list(env.client))
	clock.advance(10 * time.Second)
	for range 3 {
		if err := list(env.client); err != nil {
			t.Fatalf("a full bucket again: %v", err)
		}
	}
	wantThrottled(t, list(env.client))
	if n := strings.Count(logs.String(), `msg="API calls throttled"`); n != 2 {
		t.Errorf("%d log lines, want 2", n)
	}
	if n := strings.Count(logs.String(), `unlogged=7`); n != 1 {
		t.Errorf("the second log line does not count the 7 refusals not logged:\n%s", logs.String())
	}
}

// TestIVSTPS: the default rates are IVS's quotas, the bucket ten seconds'
// worth.
func TestIVSTPS(t *testing.T) {
	var l RateLimit
	for op, want := range map[string]float64{"CreateParticipantToken": 50, "TagResource": 10, "ListTagsForResource": 10, "StartComposition": 5, "GetStage": 5, "ImportPublicKey": 3, "ListPublicKeys": 3} {
		if got := l.rate(op); got != want {
			t.Errorf("%s: %v TPS, want %v", op, got, want)
		}
		if got := l.burst(op); got != 10*want {
			t.Errorf("%s: burst %v, want %v", op, got, 10*want)
		}
	}
	l = RateLimit{TPS: 0.05}
	if l.rate("GetStage") != 0.05 || l.burst("GetStage") != 1 {
		t.Errorf("TPS 0.05: rate %v burst %v", l.rate("GetStage"), l.burst("GetStage"))
	}
}

// TestReservedTagKeys: tag keys beginning "aws:", in any case, are refused
// wherever tags are set or removed.
func TestReservedTagKeys(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	const msg = "tag keys beginning with 'aws:' are reserved for AWS use"
	_, err := env.client.CreateStage(ctx, &ivsrealtime.CreateStageInput{Tags: map[string]string{"aws:team": "a"}})
	wantErr[*types.ValidationException](t, err, 400, "Invalid tag key 'aws:team': "+msg)
	_, err = env.client.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Tags: map[string]string{"AWS:Team": "a"}})
	wantErr[*types.ValidationException](t, err, 400, msg)

	st, err := env.client.CreateStage(ctx, &ivsrealtime.CreateStageInput{Tags: map[string]string{"team:aws:x": "a", "awsome": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.client.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: st.Stage.Arn, Tags: map[string]string{"ok": "1", "aws:x": "2"}})
	wantErr[*types.ValidationException](t, err, 400, msg)
	_, err = env.client.UntagResource(ctx, &ivsrealtime.UntagResourceInput{ResourceArn: st.Stage.Arn, TagKeys: []string{"aws:x"}})
	wantErr[*types.ValidationException](t, err, 400, msg)
	tags, err := env.client.ListTagsForResource(ctx, &ivsrealtime.ListTagsForResourceInput{ResourceArn: st.Stage.Arn})
	if err != nil || len(tags.Tags) != 2 {
		t.Errorf("tags %v, %v", tags, err)
	}
}

// signedRequest is a request to env signed for testKeyID, its body hash
// sent in X-Amz-Content-Sha256 when sha is set.
func signedRequest(t *testing.T, env *apiEnv, path, body string, sha bool) *http.Request {
	t.Helper()
	return signed(t, env, http.MethodPost, path, body, sha)
}

// signed is a request to env with any method, signed as signedRequest's.
func signed(t *testing.T, env *apiEnv, method, path, body string, sha bool) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, env.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	if sha {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, hash, "ivs", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// errorType sends req and returns the response's status and error type.
func errorType(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype")
}

// TestEdgeValidation: a JSON null body and duplicate signing headers are
// refused.
func TestEdgeValidation(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	code, typ := errorType(t, signedRequest(t, env, "/CreateStage", "null", false))
	if code != 400 || typ != "ValidationException" {
		t.Errorf("null body: %d %s", code, typ)
	}
	if code, typ = errorType(t, signedRequest(t, env, "/CreateStage", "{}", false)); code != 200 {
		t.Errorf("{}: %d %s", code, typ)
	}
	for _, name := range []string{"Authorization", "X-Amz-Date"} {
		req := signedRequest(t, env, "/ListStages", "{}", false)
		req.Header.Add(name, req.Header.Get(name))
		if code, typ := errorType(t, req); code != 403 || typ != sigv4.TypeIncompleteSignature {
			t.Errorf("two %s headers: %d %s", name, code, typ)
		}
	}
}

// rawConn sends req's head and the first part of its body on a new
// connection, declaring a body of length bytes, and leaves the rest
// unsent.
func rawConn(t *testing.T, env *apiEnv, req *http.Request, length int, part string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Method, req.URL.RequestURI(), req.Host, length)
	if err := req.Header.Write(&head); err != nil {
		t.Fatal(err)
	}
	head.WriteString("\r\n" + part)
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// TestNoBodyBeforeSignature: a signed X-Amz-Content-Sha256 with a bad
// signature is refused while its body is still on the way; a body without
// one is read only within the budget, large bodies within half of it.
func TestNoBodyBeforeSignature(t *testing.T) {
	env := startAPI(t, t.TempDir(), func(c *Config) { c.PreAuthBytes, c.MaxBody = 64<<10, 32<<10 })

	req := signedRequest(t, env, "/CreateStage", `{"name":"x"}`, true)
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "Signature=", "Signature=0", 1))
	_, rd := rawConn(t, env, req, 32<<10, `{"na`)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != sigv4.TypeInvalidSignature {
		t.Errorf("bad signature with a stalled body: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}

	// No hash: a large body takes the budget as it arrives. One that sent
	// just over 16 KiB holds a 32 KiB buffer, half the budget; a second
	// one may grow to 16 KiB, not past it.
	req = signedRequest(t, env, "/CreateStage", `{"name":"x"}`, false)
	rawConn(t, env, req, 32<<10, strings.Repeat(" ", 16<<10+1))
	testsrv.WaitFor(t, 10*time.Second, "the first body to hold half the budget", func() bool { return env.srv.verifier.Budget.InUse() == 32<<10 }) // the first body holds half the budget
	_, rd = rawConn(t, env, req, 32<<10, strings.Repeat(" ", 16<<10+1))
	resp, err = http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || resp.Header.Get("X-Amzn-Errortype") != sigv4.TypeServiceUnavailable {
		t.Errorf("a second large body past half the budget: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
	if n := testutil.ToFloat64(env.srv.metrics.busy); n != 1 {
		t.Errorf("tessera_api_preauth_refused_total = %v, want 1", n)
	}
	// Ordinary calls go on; the stalled body holds its share meanwhile.
	if _, err := env.client.ListStages(context.Background(), &ivsrealtime.ListStagesInput{}); err != nil {
		t.Errorf("ListStages: %v", err)
	}
	if n := env.srv.verifier.Budget.InUse(); n != 32<<10 {
		t.Errorf("%d bytes of the budget held, want %d", n, 32<<10)
	}

	if _, err := New(context.Background(), Config{Credentials: env.srv.cfg.Credentials, Store: env.st, Ingest: env.ing,
		TokenKey: env.srv.cfg.TokenKey, Pipelines: env.pipes.start, PreAuthBytes: 1 << 20}); err == nil {
		t.Error("a budget smaller than twice the largest body was accepted")
	}
}
