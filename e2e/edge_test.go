package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/smithy-go"
)

// vmRSS returns a process's resident set size in bytes (VmRSS in
// /proc/<pid>/status).
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// TestSlowBodyAttack: 300 connections send a valid access key id, a bogus
// signature and a body of 1 MiB that stalls after 256 KiB, or of 64 KiB that
// stalls after 32 KiB (half of them signing X-Amz-Content-Sha256, half
// not). The server holds little of it
// (RSS grows by at most 30 MB), closes every connection within the read
// timeout, and answers ordinary SDK calls all the while.
func TestSlowBodyAttack(t *testing.T) {
	const (
		conns         = 300
		declared      = 1 << 20
		smallDeclared = 64 << 10
		sent          = 256 << 10
		readTimeout   = 3 * time.Second
		margin        = 7 * time.Second // scheduling on a busy machine, never a second read timeout
		maxGrowth     = 30 << 20
	)
	s := startServer(t, t.TempDir(), nil, "--http-read-timeout", readTimeout.String())
	pid := s.cmd.Process.Pid
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Warm up what ordinary calls use, then take the baseline.
	client := ivsrealtime.New(s.API.Options(), func(o *ivsrealtime.Options) { o.RetryMaxAttempts = 1 })
	stage, err := client.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("edge")})
	if err != nil {
		t.Fatal(err)
	}
	calls := []func(context.Context) error{
		func(ctx context.Context) error {
			_, err := client.ListStages(ctx, &ivsrealtime.ListStagesInput{})
			return err
		},
		func(ctx context.Context) error {
			_, err := client.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: stage.Stage.Arn})
			return err
		},
	}
	for _, call := range calls {
		if err := call(ctx); err != nil {
			t.Fatal(err)
		}
	}
	base, err := vmRSS(pid)
	if err != nil {
		t.Fatal(err)
	}

	// RSS, sampled until the attack is over.
	var peak int64
	var sampleErr error
	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			rss, err := vmRSS(pid)
			if err != nil {
				sampleErr = err
				return
			}
			peak = max(peak, rss)
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	// Ordinary SDK calls, without retries, every 250 ms.
	var ordinary []error
	callsDone := make(chan struct{})
	stopCalls := make(chan struct{})
	go func() {
		defer close(callsDone)
		for i := 0; ; i++ {
			cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
			ordinary = append(ordinary, calls[i%len(calls)](cctx))
			ccancel()
			select {
			case <-stopCalls:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()

	host := strings.TrimPrefix(s.URL, "http://")
	filler := strings.Repeat("x", sent)
	results := make([]attackResult, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			length, part := declared, filler
			if i%4 >= 2 { // a body net/http would drain after an answer
				length, part = smallDeclared, filler[:smallDeclared/2]
			}
			results[i] = attack(host, i%2 == 0, length, part, readTimeout+margin+10*time.Second)
		}()
	}
	wg.Wait()
	close(stopCalls)
	<-callsDone
	close(stopSampling)
	<-sampled

	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	statuses := map[string]int{}
	for i, r := range results {
		statuses[r.status]++
		if r.err != nil {
			t.Errorf("connection %d: %v", i, r.err)
		} else if r.open > readTimeout+margin {
			t.Errorf("connection %d open %v, want closed within the read timeout (%v)", i, r.open, readTimeout)
		}
	}
	t.Logf("responses %v; RSS %.1f MB before, peak %.1f MB", statuses, float64(base)/(1<<20), float64(peak)/(1<<20))
	if peak-base > maxGrowth {
		t.Errorf("RSS grew by %.1f MB, want at most %d MB", float64(peak-base)/(1<<20), maxGrowth>>20)
	}
	if len(ordinary) < 4 {
		t.Errorf("only %d ordinary calls were made during the attack", len(ordinary))
	}
	for i, err := range ordinary {
		if err != nil {
			t.Errorf("ordinary call %d during the attack: %v", i, err)
		}
	}
	if m := s.metrics(t); !strings.Contains(m, "tessera_api_preauth_body_bytes 0\n") {
		t.Errorf("bodies still held after the attack:\n%s", grepLines(m, "tessera_api_preauth"))
	}
}

// TestAPIThrottling: past its rate an access key's calls are refused with
// ThrottlingException (429, "Rate exceeded"), counted in /metrics, and
// accepted again once the bucket refills.
func TestAPIThrottling(t *testing.T) {
	s := startServer(t, t.TempDir(), nil, "--api-tps", "1", "--api-burst", "2")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := ivsrealtime.New(s.API.Options(), func(o *ivsrealtime.Options) { o.RetryMaxAttempts = 1 })
	list := func() error {
		_, err := client.ListStages(ctx, &ivsrealtime.ListStagesInput{})
		return err
	}
	refused := 0
	for range 5 {
		err := list()
		if err == nil {
			continue
		}
		var ae smithy.APIError
		var re *awshttp.ResponseError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" || ae.ErrorMessage() != "Rate exceeded" ||
			!errors.As(err, &re) || re.HTTPStatusCode() != 429 {
			t.Fatalf("got %v, want ThrottlingException: Rate exceeded (429)", err)
		}
		refused++
	}
	if refused == 0 {
		t.Fatal("5 calls at once with a burst of 2 were all accepted")
	}
	want := fmt.Sprintf(`tessera_api_throttled_total{operation="ListStages"} %d`, refused)
	if m := s.metrics(t); !strings.Contains(m, want) {
		t.Errorf("/metrics lacks %s:\n%s", want, grepLines(m, "tessera_api_throttled"))
	}
	// The bucket refills at one call a second.
	waitFor(ctx, t, "a call accepted again", func() bool { return list() == nil })
}

// attackResult is what one attacking connection saw.
type attackResult struct {
	open   time.Duration // from dialling until the server closed the connection
	status string        // the response's status line, if any
	err    error
}

// attack opens one connection and sends a request with a valid access key
// id, a bogus signature, and the first part of a declared body, then
// stalls. It reads until the server closes the connection and reports how
// long that took, the response's status line, and an error if the server
// kept the connection past wait.
func attack(host string, signHash bool, declared int, part string, wait time.Duration) (r attackResult) {
	start := time.Now()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		r.err = err
		return r
	}
	defer conn.Close()
	now := time.Now().UTC()
	signed, hash := "host;x-amz-date", ""
	if signHash {
		signed = "host;x-amz-content-sha256;x-amz-date"
		hash = "X-Amz-Content-Sha256: " + strings.Repeat("ab", 32) + "\r\n"
	}
	head := fmt.Sprintf("POST /CreateStage HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"X-Amz-Date: %s\r\n%sAuthorization: AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/ivs/aws4_request, SignedHeaders=%s, Signature=%s\r\n\r\n",
		host, declared, now.Format("20060102T150405Z"), hash, devAccessKeyID, now.Format("20060102"), signed, strings.Repeat("0", 64))
	// The server may refuse and close before it has taken everything:
	// write errors are its answer, not the test's failure.
	go func() { _, _ = conn.Write([]byte(head + part)) }()
	_ = conn.SetReadDeadline(start.Add(wait))
	rd := bufio.NewReader(conn)
	if line, err := rd.ReadString('\n'); err == nil {
		r.status = strings.TrimSpace(line)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := rd.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				r.err = fmt.Errorf("still open after %v", wait)
			}
			break
		}
	}
	r.open = time.Since(start)
	return r
}
