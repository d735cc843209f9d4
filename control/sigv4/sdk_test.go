package sigv4

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// newClient returns the real ivsrealtime client, pointed at url.
func newClient(url, key, secret, region string, optFns ...func(*ivsrealtime.Options)) *ivsrealtime.Client {
	return ivsrealtime.New(ivsrealtime.Options{
		Region:       region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
	}, optFns...)
}

// withContentSHA256 makes the client send and sign X-Amz-Content-Sha256, as
// the S3 client does; ivsrealtime does not by default.
func withContentSHA256(o *ivsrealtime.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return v4.AddContentSHA256HeaderMiddleware(s) })
}

// sdkCall is one operation and what the handler must see of it.
type sdkCall struct {
	name       string
	method     string
	path       string // r.URL.EscapedPath()
	query      string
	call       func(context.Context, *ivsrealtime.Client) error
	wantInBody string
}

var sdkCalls = []sdkCall{
	{
		name: "ListStages", method: "POST", path: "/ListStages",
		call: func(ctx context.Context, c *ivsrealtime.Client) error {
			_, err := c.ListStages(ctx, &ivsrealtime.ListStagesInput{MaxResults: aws.Int32(5)})
			return err
		},
		wantInBody: `"maxResults":5`,
	},
	{
		name: "GetStage", method: "POST", path: "/GetStage",
		call: func(ctx context.Context, c *ivsrealtime.Client) error {
			_, err := c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(testARN)})
			return err
		},
		wantInBody: testARN,
	},
	{
		name: "TagResource", method: "POST", path: "/tags/" + escapedARN,
		call: func(ctx context.Context, c *ivsrealtime.Client) error {
			_, err := c.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: aws.String(testARN), Tags: map[string]string{"a b": "c/d", "x+y": "é"}})
			return err
		},
		wantInBody: `"a b":"c/d"`,
	},
	{
		name: "UntagResource", method: "DELETE", path: "/tags/" + escapedARN, query: "tagKeys=a%20b&tagKeys=x%2By",
		call: func(ctx context.Context, c *ivsrealtime.Client) error {
			_, err := c.UntagResource(ctx, &ivsrealtime.UntagResourceInput{ResourceArn: aws.String(testARN), TagKeys: []string{"a b", "x+y"}})
			return err
		},
	},
	{
		name: "ListTagsForResource", method: "GET", path: "/tags/" + escapedARN,
		call: func(ctx context.Context, c *ivsrealtime.Client) error {
			_, err := c.ListTagsForResource(ctx, &ivsrealtime.ListTagsForResourceInput{ResourceArn: aws.String(testARN)})
			return err
		},
	},
}

// recorder is an httptest server that verifies with v and records what it
// saw of each request.
type recorder struct {
	*testServer
	requests atomic.Int32
	seen     chan seenRequest
	ready    chan struct{} // closed once testServer is set
}

type seenRequest struct {
	method, path, query string
	header              http.Header
	outcome
}

func newRecorder(t *testing.T, v *Verifier, wraps ...func(http.Handler) http.Handler) *recorder {
	rec := &recorder{seen: make(chan seenRequest, 16), ready: make(chan struct{})}
	record := func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-rec.ready
			rec.requests.Add(1)
			s := seenRequest{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery, header: r.Header.Clone()}
			inner.ServeHTTP(w, r)
			s.outcome = <-rec.out
			rec.seen <- s
		})
	}
	rec.testServer = newTestServer(t, v, append([]func(http.Handler) http.Handler{record}, wraps...)...)
	close(rec.ready)
	return rec
}

func (rec *recorder) next(t *testing.T) seenRequest {
	t.Helper()
	select {
	case s := <-rec.seen:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no request reached the server")
	}
	panic("unreachable")
}

func TestSDKClient(t *testing.T) {
	v := &Verifier{Credentials: map[string]string{testKey: testSecret}}
	rec := newRecorder(t, v)
	ctx := context.Background()
	for _, style := range []struct {
		name string
		opt  func(*ivsrealtime.Options)
	}{{"default", func(*ivsrealtime.Options) {}}, {"content-sha256", withContentSHA256}} {
		for _, c := range sdkCalls {
			t.Run(style.name+"/"+c.name, func(t *testing.T) {
				// accepted with the right secret, in any region
				client := newClient(rec.URL, testKey, testSecret, "eu-west-2", style.opt)
				if err := c.call(ctx, client); err != nil {
					t.Fatalf("right secret: %v", err)
				}
				s := rec.next(t)
				if s.err != nil {
					t.Fatalf("handler: %v", s.err)
				}
				if s.method != c.method || s.path != c.path || s.query != c.query {
					t.Errorf("request %s %s?%s, want %s %s?%s", s.method, s.path, s.query, c.method, c.path, c.query)
				}
				if s.res.Region != "eu-west-2" || s.res.AccessKey != testKey || !strings.Contains(string(s.res.Body), c.wantInBody) {
					t.Errorf("result: region %q key %q body %s", s.res.Region, s.res.AccessKey, s.res.Body)
				}
				signed := strings.Join(s.res.SignedHeaders, ";")
				want := "amz-sdk-invocation-id;amz-sdk-request;host;x-amz-date"
				if c.method == "POST" {
					want = "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date"
				}
				if style.name == "content-sha256" {
					want = strings.Replace(want, "x-amz-date", "x-amz-content-sha256;x-amz-date", 1)
				}
				if signed != want {
					t.Errorf("SDK signed %s, want %s", signed, want)
				}
				if got := s.header.Get("X-Amz-Content-Sha256") != ""; got != (style.name == "content-sha256") {
					t.Errorf("X-Amz-Content-Sha256 sent: %v", got)
				}

				// rejected with a wrong secret: the SDK surfaces the code and 403
				before := rec.requests.Load()
				client = newClient(rec.URL, testKey, "wrong-secret", "us-east-1", style.opt)
				err := c.call(ctx, client)
				checkAPIError(t, err, TypeInvalidSignature, msgSignatureInvalid, 403)
				if s := rec.next(t); s.err == nil {
					t.Error("handler accepted the wrong secret")
				}
				if n := rec.requests.Load() - before; n != 1 {
					t.Errorf("%d attempts for a signature mismatch, want 1 (no retry)", n)
				}

				// unknown key
				client = newClient(rec.URL, "AKIDUNKNOWN", testSecret, "us-east-1", style.opt)
				checkAPIError(t, c.call(ctx, client), TypeUnrecognizedClient, msgUnrecognized, 403)
				rec.next(t)
			})
		}
	}
}

// checkAPIError checks what the SDK made of a WriteError response.
func checkAPIError(t *testing.T, err error, code, msg string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want %s", code)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %T %v is no smithy.APIError", err, err)
	}
	if apiErr.ErrorCode() != code || apiErr.ErrorMessage() != msg {
		t.Errorf("ErrorCode %q ErrorMessage %q, want %q %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), code, msg)
	}
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) {
		t.Fatalf("error %T %v is no awshttp.ResponseError", err, err)
	}
	if respErr.HTTPStatusCode() != status {
		t.Errorf("HTTP status %d, want %d", respErr.HTTPStatusCode(), status)
	}
}

// TestSDKClockSkew: with the server's clock 20 minutes ahead the SDK's
// request is "Signature expired". When the response's Date header tells the
// server's time, the SDK corrects its signing clock (the Clock Skew
// Correction it applies to InvalidSignatureException) and the retry
// verifies; this is why the error code and the Date header matter.
func TestSDKClockSkew(t *testing.T) {
	ahead := func() time.Time { return time.Now().Add(20 * time.Minute) }
	v := &Verifier{Credentials: map[string]string{testKey: testSecret}, Now: ahead}
	for _, tc := range []struct {
		name     string
		sendDate bool
	}{{"Date header from real clock", false}, {"Date header from server clock", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var wraps []func(http.Handler) http.Handler
			if tc.sendDate {
				wraps = append(wraps, func(inner http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Date", ahead().UTC().Format(http.TimeFormat))
						inner.ServeHTTP(w, r)
					})
				})
			}
			rec := newRecorder(t, v, wraps...)
			client := newClient(rec.URL, testKey, testSecret, "us-east-1")
			err := sdkCalls[0].call(context.Background(), client)
			first := rec.next(t)
			e, _ := first.err.(*Error)
			if e == nil || e.Type != TypeInvalidSignature || !strings.HasPrefix(e.Message, "Signature expired: ") {
				t.Fatalf("first attempt: %v", first.err)
			}
			if !tc.sendDate {
				checkAPIError(t, err, TypeInvalidSignature, e.Message, 403)
				if n := rec.requests.Load(); n != 1 {
					t.Errorf("%d attempts", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("SDK did not recover from the skew: %v", err)
			}
			if second := rec.next(t); second.err != nil || !slices.Contains(second.header.Values("Amz-Sdk-Request"), "attempt=2; max=3") {
				t.Errorf("second attempt: %v, %v", second.err, second.header.Values("Amz-Sdk-Request"))
			}
		})
	}
}
