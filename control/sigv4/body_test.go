package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// untouchable is a body that fails the test when read.
type untouchable struct{ t *testing.T }

func (u untouchable) Read([]byte) (int, error) {
	u.t.Error("the body was read before the signature was checked")
	return 0, io.ErrUnexpectedEOF
}

func testVerifier() *Verifier {
	return &Verifier{Credentials: map[string]string{testKey: testSecret}, Now: func() time.Time { return now }}
}

func wantError(t *testing.T, err error, typ string, status int, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Type != typ || e.Status != status || (msg != "" && e.Message != msg) {
		t.Errorf("got %v, want %s (%d) %q", err, typ, status, msg)
	}
}

// TestSignatureBeforeBody: with a signed X-Amz-Content-Sha256, a bad
// signature is refused without reading the body, and a good one over a
// claimed hash the body does not match is refused after reading it.
func TestSignatureBeforeBody(t *testing.T) {
	s := spec{method: "POST", path: "/CreateStage", body: `{"name":"a"}`, contentType: "application/json"}

	wrong := defaultOpts(true)
	wrong.secret = "not-the-secret"
	req := newSigned(t, "http://127.0.0.1", s, wrong)
	req.Body = io.NopCloser(untouchable{t})
	_, err := testVerifier().VerifyRequest(req)
	wantError(t, err, TypeInvalidSignature, 403, msgSignatureInvalid)

	// Signed over the claimed hash, but the body differs (same length).
	req = newSigned(t, "http://127.0.0.1", s, defaultOpts(true))
	setBody(req, strings.Replace(s.body, "a", "b", 1))
	_, err = testVerifier().VerifyRequest(req)
	wantError(t, err, TypeInvalidSignature, 403, msgContentSHA256)

	// The claimed hash is not a hash at all.
	req = newSigned(t, "http://127.0.0.1", s, defaultOpts(true))
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	req.Body = io.NopCloser(untouchable{t})
	_, err = testVerifier().VerifyRequest(req)
	wantError(t, err, TypeInvalidSignature, 403, msgSignatureInvalid)

	// Signed and matching: accepted, the body handed over.
	req = newSigned(t, "http://127.0.0.1", s, defaultOpts(true))
	res, err := testVerifier().VerifyRequest(req)
	if err != nil || string(res.Body) != s.body {
		t.Fatalf("valid request: %v %q", err, res)
	}
}

// TestSDKUnsignedPayload: the SDK can sign over UNSIGNED-PAYLOAD; such a
// request is refused, and its body never read.
func TestSDKUnsignedPayload(t *testing.T) {
	v := &Verifier{Credentials: map[string]string{testKey: testSecret}}
	reads := 0
	ts := newTestServer(t, v, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = readCounter{r.Body, &reads}
			h.ServeHTTP(w, r)
		})
	})
	c := newClient(ts.URL, testKey, testSecret, "us-east-1", func(o *ivsrealtime.Options) {
		o.RetryMaxAttempts = 1
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware,
			func(s *middleware.Stack) error { return v4.AddContentSHA256HeaderMiddleware(s) })
	})
	_, err := c.ListStages(context.Background(), &ivsrealtime.ListStagesInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != TypeInvalidSignature || ae.ErrorMessage() != msgContentSHA256 {
		t.Fatalf("UNSIGNED-PAYLOAD: %v", err)
	}
	got := <-ts.out
	if e, _ := got.err.(*Error); e == nil || e.Message != msgContentSHA256 {
		t.Errorf("handler: %v", got.err)
	}
	if reads != 0 {
		t.Errorf("the body was read %d times", reads)
	}
}

type readCounter struct {
	io.ReadCloser
	n *int
}

func (r readCounter) Read(p []byte) (int, error) {
	*r.n++
	return r.ReadCloser.Read(p)
}

// TestDuplicateAuthHeaders: a second Authorization, X-Amz-Date or
// X-Amz-Content-Sha256 is refused, whichever comes first.
func TestDuplicateAuthHeaders(t *testing.T) {
	for _, name := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256"} {
		for _, first := range []bool{true, false} {
			req := newSigned(t, "http://127.0.0.1", specs[0].spec, defaultOpts(true))
			valid := req.Header.Get(name)
			if first {
				req.Header[name] = []string{valid, "bogus"}
			} else {
				req.Header[name] = []string{"bogus", valid}
			}
			req.Body = io.NopCloser(untouchable{t})
			_, err := testVerifier().VerifyRequest(req)
			wantError(t, err, TypeIncompleteSignature, 403, "The request has more than one '"+name+"' header; a request is signed once.")
		}
	}
}

// TestBudget: bodies without a signed hash are read within the budget;
// large ones may hold half of it, small ones all of it; a request that
// finds it spent gets 503 ServiceUnavailableException; every byte comes
// back.
func TestBudget(t *testing.T) {
	budget := NewBudget(64 << 10)
	v := testVerifier()
	v.Budget = budget

	// stalled starts verifying a large body of unknown length, feeds it n
	// bytes (a pipe write returns once they are read) and leaves it hanging.
	type stalled struct {
		pw   *io.PipeWriter
		done chan error
	}
	stall := func(n int) stalled {
		s := spec{method: "POST", path: "/CreateStage", body: strings.Repeat("x", 100<<10)}
		req := newSigned(t, "http://127.0.0.1", s, defaultOpts(false))
		pr, pw := io.Pipe()
		req.Body, req.ContentLength = pr, -1
		st := stalled{pw, make(chan error, 1)}
		go func() {
			_, err := v.VerifyRequest(req)
			st.done <- err
		}()
		if _, err := pw.Write([]byte(s.body[:n])); err != nil {
			t.Fatal(err)
		}
		return st
	}
	a := stall(20 << 10) // holds a 32 KiB buffer: half the budget
	if got := budget.InUse(); got != 32<<10 {
		t.Fatalf("in use %d, want %d", got, 32<<10)
	}
	b := stall(10 << 10) // 16 KiB: still a small body
	c := make(chan error, 1)
	go func() { _, err := b.pw.Write(make([]byte, 7<<10)); c <- err }() // past 16 KiB: over the large share
	if err := <-b.done; err == nil {
		t.Fatal("second large body accepted past half the budget")
	} else {
		wantError(t, err, TypeServiceUnavailable, 503, msgBusy)
	}
	b.pw.Close()
	<-c

	// An ordinary call still fits.
	req := newSigned(t, "http://127.0.0.1", specs[1].spec, defaultOpts(false))
	if _, err := v.VerifyRequest(req); err != nil {
		t.Fatalf("small request during the flood: %v", err)
	}

	a.pw.CloseWithError(io.ErrUnexpectedEOF)
	wantError(t, <-a.done, TypeIncompleteBody, 400, "")
	if got := budget.InUse(); got != 0 {
		t.Errorf("in use %d after every request ended", got)
	}

	// Small bodies use the whole budget, and no more: two bodies that
	// sent just over 1 KiB hold 2 KiB each, and a third request finds
	// nothing left.
	small := NewBudget(4 << 10)
	v.Budget = small
	held := []stalled{stall(1<<10 + 1), stall(1<<10 + 1)}
	if got := small.InUse(); got != 4<<10 {
		t.Fatalf("in use %d, want %d", got, 4<<10)
	}
	req = newSigned(t, "http://127.0.0.1", specs[1].spec, defaultOpts(false))
	_, err := v.VerifyRequest(req)
	wantError(t, err, TypeServiceUnavailable, 503, msgBusy)
	for _, s := range held {
		s.pw.Close()
		wantError(t, <-s.done, TypeInvalidSignature, 403, msgSignatureInvalid)
	}
	if got := small.InUse(); got != 0 {
		t.Errorf("in use %d after every request ended", got)
	}
	if _, err := v.VerifyRequest(newSigned(t, "http://127.0.0.1", specs[1].spec, defaultOpts(false))); err != nil {
		t.Errorf("after the flood: %v", err)
	}
}
