package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey    = "AKIDTESSERATEST00001"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testARN    = "arn:aws:ivs:us-east-1:123456789012:stage/abcdEFGH1234"
)

// escapedARN is testARN as the SDKs put it in a path: one segment, every
// ':' and '/' percent-encoded. url.PathEscape leaves the colons alone.
var escapedARN = strings.NewReplacer(":", "%3A", "/", "%2F").Replace(testARN)

// now is the clock of the table tests' Verifier.
var now = time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// outcome is what the test server's handler saw.
type outcome struct {
	res *Result
	err error
}

// testServer is an httptest server on 127.0.0.1 whose handler runs the
// current Verifier, reports the outcome on a channel, and answers {} or the
// error through WriteError.
type testServer struct {
	*httptest.Server
	v   atomic.Pointer[Verifier]
	out chan outcome
}

func newTestServer(t *testing.T, v *Verifier, wraps ...func(http.Handler) http.Handler) *testServer {
	t.Helper()
	ts := &testServer{out: make(chan outcome, 16)}
	ts.v.Store(v)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := ts.v.Load().VerifyRequest(r)
		ts.out <- outcome{res, err}
		if err != nil {
			WriteError(w, err.(*Error))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	})
	for _, wrap := range wraps {
		h = wrap(h)
	}
	ts.Server = httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// do sends req and returns the handler's outcome and the response.
func (ts *testServer) do(t *testing.T, req *http.Request) (outcome, *http.Response, []byte) {
	t.Helper()
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-ts.out:
		return o, resp, body
	case <-time.After(10 * time.Second):
		t.Fatal("handler reported nothing")
	}
	panic("unreachable")
}

// spec is a request before signing.
type spec struct {
	method, path, query string // path and query as on the wire
	body                string
	contentType         string
	chunked             bool // body of unknown length, sent chunked
}

var specs = []struct {
	name string
	spec
}{
	{"ListStages", spec{method: "POST", path: "/ListStages", body: "{}", contentType: "application/json"}},
	{"GetStage", spec{method: "POST", path: "/GetStage", body: `{"arn":"` + testARN + `"}`, contentType: "application/json"}},
	{"TagResource", spec{method: "POST", path: "/tags/" + escapedARN, body: `{"tags":{"a b":"c/d"}}`, contentType: "application/json"}},
	// colons raw, as url.PathEscape leaves them
	{"TagResourceRawColons", spec{method: "POST", path: "/tags/" + url.PathEscape(testARN), body: `{"tags":{"k":"v"}}`, contentType: "application/json"}},
	// the SDK's wire form is sorted and %20-encoded; send it unsorted and
	// with '+' for the space as a form encoder would
	{"UntagResource", spec{method: "DELETE", path: "/tags/" + escapedARN, query: "tagKeys=x%2By&tagKeys=a+b"}},
	{"ListTagsForResource", spec{method: "GET", path: "/tags/" + escapedARN}},
	{"GetQuery", spec{method: "GET", path: "/ListParticipants", query: "z=1&a=%2F%3A&a=0&empty="}},
}

// signOpts are how the client signs.
type signOpts struct {
	key, secret, token, region, service string
	when                                time.Time
	sha                                 bool // send and sign X-Amz-Content-Sha256
}

func defaultOpts(sha bool) signOpts {
	return signOpts{key: testKey, secret: testSecret, region: "us-east-1", service: "ivs", when: now, sha: sha}
}

// newSigned builds a request to base for s, signed by the SDK signer the way
// the SDK middleware does it, and puts back the raw query s asked for (the
// signer rewrites it to its canonical form).
func newSigned(t *testing.T, base string, s spec, o signOpts) *http.Request {
	t.Helper()
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
		if s.chunked {
			body = io.NopCloser(body) // hides the length from NewRequest
		}
	}
	target := base + s.path
	if s.query != "" {
		target += "?" + s.query
	}
	req, err := http.NewRequest(s.method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if s.contentType != "" {
		req.Header.Set("Content-Type", s.contentType)
	}
	req.Header.Set("Amz-Sdk-Invocation-Id", "2b5c1c40-7a1e-4a55-9fd5-3c1bd4a2b0e1")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	req.Header.Set("User-Agent", "sigv4-test") // never signed
	hash := sha256Hex([]byte(s.body))
	if o.sha {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	creds := aws.Credentials{AccessKeyID: o.key, SecretAccessKey: o.secret, SessionToken: o.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, o.service, o.region, o.when); err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = s.query
	return req
}

// setBody replaces req's body.
func setBody(req *http.Request, b string) {
	req.Body = io.NopCloser(strings.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = nil
}

// setPath replaces req's path, given as on the wire.
func setPath(t *testing.T, req *http.Request, p string) {
	t.Helper()
	u, err := url.Parse("http://" + req.URL.Host + p)
	if err != nil {
		t.Fatal(err)
	}
	u.RawQuery = req.URL.RawQuery
	req.URL = u
}

func setAuthorization(req *http.Request, f func(string) string) {
	req.Header.Set("Authorization", f(req.Header.Get("Authorization")))
}

// mutation is one way of signing or tampering with a request, and what the
// Verifier must say about it.
type mutation struct {
	name       string
	opts       func(*signOpts)                       // before signing
	after      func(*testing.T, *http.Request, spec) // after signing
	verifier   func(*Verifier)
	wantType   string // "" for accepted
	wantStatus int
	wantMsg    string // checked when not empty
	// wantMsgSHA replaces wantMsg in the X-Amz-Content-Sha256 style
	wantMsgSHA string
}

var mutations = []mutation{
	{name: "valid"},
	{name: "other region reported", opts: func(o *signOpts) { o.region = "eu-central-1" }},
	{name: "skew -14m accepted", opts: func(o *signOpts) { o.when = now.Add(-14 * time.Minute) }},
	{name: "skew +14m accepted", opts: func(o *signOpts) { o.when = now.Add(14 * time.Minute) }},
	{name: "skew exactly 15m accepted", opts: func(o *signOpts) { o.when = now.Add(-15 * time.Minute) }},
	{name: "unsigned header changed", after: func(_ *testing.T, r *http.Request, _ spec) {
		r.Header.Set("User-Agent", "someone else")
		r.Header.Set("X-Extra", "added after signing")
	}},
	{name: "session token signed", opts: func(o *signOpts) { o.token = "FwoGZXIvYXdzEXAMPLETOKEN" }},
	{
		name: "wrong secret", opts: func(o *signOpts) { o.secret = "not-the-secret" },
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: msgSignatureInvalid,
	},
	{
		name: "unknown key", opts: func(o *signOpts) { o.key = "AKIDUNKNOWN" },
		wantType: TypeUnrecognizedClient, wantStatus: 403, wantMsg: msgUnrecognized,
	},
	{
		name: "tampered body", after: func(_ *testing.T, r *http.Request, s spec) {
			if s.body == "" {
				setBody(r, "x")
				return
			}
			b := []byte(s.body)
			b[len(b)-1] = ' ' // same length, so Content-Length still matches
			setBody(r, string(b))
		},
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: msgSignatureInvalid, wantMsgSHA: msgContentSHA256,
	},
	{
		name: "tampered signed header", after: func(_ *testing.T, r *http.Request, _ spec) {
			r.Header.Set("Amz-Sdk-Request", "attempt=2; max=3")
		},
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: msgSignatureInvalid,
	},
	{
		name: "signed header removed", after: func(_ *testing.T, r *http.Request, _ spec) {
			r.Header.Del("Amz-Sdk-Invocation-Id")
		},
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: msgSignatureInvalid,
	},
	{
		name: "tampered path", after: func(t *testing.T, r *http.Request, s spec) {
			setPath(t, r, strings.Replace(s.path, "/", "/X", 1))
		},
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: msgSignatureInvalid,
	},
	{
		// same decoded path, other escaping: what was signed is the wire form
		name: "path re-escaped", after: func(t *testing.T, r *http.Request, s spec) {
			p, err := url.PathUnescape(s.path)
			if err != nil {
				t.Fatal(err)
			}
			if p == s.path { // nothing escaped: escape the first letter
				p = fmt.Sprintf("/%%%02X%s", s.path[1], s.path[2:])
			}
			setPath(t, r, p)
		},
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: msgSignatureInvalid,
	},
	{
		name: "tampered query", after: func(_ *testing.T, r *http.Request, s spec) {
			if s.query == "" {
				r.URL.RawQuery = "tagKeys=extra"
			} else {
				r.URL.RawQuery = s.query + "&tagKeys=extra"
			}
		},
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: msgSignatureInvalid,
	},
	{
		name: "unparsable query appended", after: func(_ *testing.T, r *http.Request, s spec) {
			r.URL.RawQuery = strings.TrimPrefix(s.query+"&x=%zz", "&")
		},
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: msgSignatureInvalid,
	},
	{
		name: "method changed", after: func(_ *testing.T, r *http.Request, _ spec) {
			if r.Method == "PUT" {
				r.Method = "PATCH"
			} else {
				r.Method = "PUT"
			}
		},
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: msgSignatureInvalid,
	},
	{
		name: "skew +16m", opts: func(o *signOpts) { o.when = now.Add(16 * time.Minute) },
		wantType: TypeInvalidSignature, wantStatus: 403,
		wantMsg: "Signature not yet current: 20260101T004600Z is still later than 20260101T004500Z (20260101T003000Z + 15 min.)",
	},
	{
		name: "skew -16m", opts: func(o *signOpts) { o.when = now.Add(-16 * time.Minute) },
		wantType: TypeInvalidSignature, wantStatus: 403,
		wantMsg: "Signature expired: 20260101T001400Z is now earlier than 20260101T001500Z (20260101T003000Z - 15 min.)",
	},
	{
		name: "skew -30m, AWS's example", opts: func(o *signOpts) { o.when = now.Add(-30 * time.Minute) },
		wantType: TypeInvalidSignature, wantStatus: 403,
		wantMsg: "Signature expired: 20260101T000000Z is now earlier than 20260101T001500Z (20260101T003000Z - 15 min.)",
	},
	{
		name: "skew -6m with MaxSkew 5m", opts: func(o *signOpts) { o.when = now.Add(-6 * time.Minute) },
		verifier: func(v *Verifier) { v.MaxSkew = 5 * time.Minute },
		wantType: TypeInvalidSignature, wantStatus: 403,
		wantMsg: "Signature expired: 20260101T002400Z is now earlier than 20260101T002500Z (20260101T003000Z - 5 min.)",
	},
	{
		name: "missing Authorization", after: func(_ *testing.T, r *http.Request, _ spec) { r.Header.Del("Authorization") },
		wantType: TypeMissingAuthenticationToken, wantStatus: 403, wantMsg: msgMissingToken,
	},
	{
		name: "garbled Authorization", after: func(_ *testing.T, r *http.Request, _ spec) {
			setAuthorization(r, func(string) string { return "AWS4-HMAC-SHA256 garbage" })
		},
		wantType: TypeIncompleteSignature, wantStatus: 403,
		wantMsg: "'garbage' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 garbage'.",
	},
	{
		name: "other scheme", after: func(_ *testing.T, r *http.Request, _ spec) {
			setAuthorization(r, func(string) string { return "Bearer abc" })
		},
		wantType: TypeIncompleteSignature, wantStatus: 403,
	},
	{
		name: "Signature missing", after: func(_ *testing.T, r *http.Request, _ spec) {
			setAuthorization(r, func(h string) string { return h[:strings.Index(h, ", Signature=")] })
		},
		wantType: TypeIncompleteSignature, wantStatus: 403,
	},
	{
		name: "credential short", after: func(_ *testing.T, r *http.Request, _ spec) {
			setAuthorization(r, func(h string) string { return strings.Replace(h, "/aws4_request", "", 1) })
		},
		wantType: TypeIncompleteSignature, wantStatus: 403,
	},
	{
		name: "X-Amz-Date missing", after: func(_ *testing.T, r *http.Request, _ spec) { r.Header.Del("X-Amz-Date") },
		wantType: TypeIncompleteSignature, wantStatus: 403,
	},
	{
		name: "X-Amz-Date malformed", after: func(_ *testing.T, r *http.Request, _ spec) {
			r.Header.Set("X-Amz-Date", "2026-01-01T00:30:00Z")
		},
		wantType: TypeIncompleteSignature, wantStatus: 403,
		wantMsg: "Date must be in ISO-8601 'basic format'. Got '2026-01-01T00:30:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
	},
	{
		name: "wrong service", opts: func(o *signOpts) { o.service = "execute-api" },
		wantType: TypeInvalidSignature, wantStatus: 403, wantMsg: "Credential should be scoped to correct service: 'ivs'. ",
	},
	{
		name: "wrong terminator", after: func(_ *testing.T, r *http.Request, _ spec) {
			setAuthorization(r, func(h string) string { return strings.Replace(h, "/aws4_request", "/aws4_reqest", 1) })
		},
		wantType: TypeInvalidSignature, wantStatus: 403,
		wantMsg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'. ",
	},
	{
		name: "scope date is not X-Amz-Date's", after: func(_ *testing.T, r *http.Request, _ spec) {
			setAuthorization(r, func(h string) string { return strings.Replace(h, "/20260101/", "/20251231/", 1) })
		},
		wantType: TypeInvalidSignature, wantStatus: 403,
		wantMsg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251231' != '20260101', from '20260101T003000Z'.",
	},
	{
		name: "body too large", verifier: func(v *Verifier) { v.MaxBody = 1 },
		wantType: TypeRequestEntityTooLarge, wantStatus: 413,
	},
}

func TestVerifyTable(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, style := range []struct {
		name string
		sha  bool
	}{{"no-content-sha256", false}, {"content-sha256", true}} {
		for _, sp := range specs {
			for _, m := range mutations {
				t.Run(style.name+"/"+sp.name+"/"+m.name, func(t *testing.T) {
					o := defaultOpts(style.sha)
					if m.opts != nil {
						m.opts(&o)
					}
					v := &Verifier{
						Credentials: map[string]string{testKey: testSecret, "AKIDOTHER": "other"},
						Now:         func() time.Time { return now },
					}
					if m.verifier != nil {
						m.verifier(v)
					}
					ts.v.Store(v)
					req := newSigned(t, ts.URL, sp.spec, o)
					if m.after != nil {
						m.after(t, req, sp.spec)
					}
					wantType, wantStatus, wantMsg := m.wantType, m.wantStatus, m.wantMsg
					if style.sha && m.wantMsgSHA != "" {
						wantMsg = m.wantMsgSHA
					}
					if m.name == "body too large" && sp.body == "" {
						wantType, wantStatus, wantMsg = "", 0, "" // nothing to be too large
					}
					got, resp, respBody := ts.do(t, req)
					checkOutcome(t, got, resp, respBody, wantType, wantStatus, wantMsg)
					if got.err != nil {
						return
					}
					if got.res.AccessKey != o.key || got.res.Region != o.region || !got.res.Time.Equal(o.when.Truncate(time.Second)) {
						t.Errorf("result %+v, signed with key %s region %s at %v", got.res, o.key, o.region, o.when)
					}
					if string(got.res.Body) != sp.body {
						t.Errorf("body %q, sent %q", got.res.Body, sp.body)
					}
					signed := strings.Join(got.res.SignedHeaders, ";")
					if strings.Contains(signed, "x-amz-content-sha256") != style.sha {
						t.Errorf("signed headers %s in style %s", signed, style.name)
					}
				})
			}
		}
	}
}

// checkOutcome checks the Verifier's verdict and what WriteError sent.
func checkOutcome(t *testing.T, got outcome, resp *http.Response, body []byte, wantType string, wantStatus int, wantMsg string) {
	t.Helper()
	if wantType == "" {
		if got.err != nil {
			t.Fatalf("rejected: %v", got.err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return
	}
	if got.err == nil {
		t.Fatalf("accepted, want %s", wantType)
	}
	e, ok := got.err.(*Error)
	if !ok {
		t.Fatalf("error %T %v, want *Error", got.err, got.err)
	}
	if e.Type != wantType || e.Status != wantStatus {
		t.Errorf("got %s %d (%s), want %s %d", e.Type, e.Status, e.Message, wantType, wantStatus)
	}
	if wantMsg != "" && e.Message != wantMsg {
		t.Errorf("message\n%q, want\n%q", e.Message, wantMsg)
	}
	if resp.StatusCode != e.Status || resp.Header.Get("X-Amzn-Errortype") != e.Type || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response %d, X-Amzn-Errortype %q, Content-Type %q for %v",
			resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), resp.Header.Get("Content-Type"), e)
	}
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil || len(m) != 1 || m["message"] != e.Message {
		t.Errorf("response body %s (%v), want {\"message\":%q}", body, err, e.Message)
	}
}

// TestBodyTooLargeChunked: without a Content-Length the limit is enforced
// while reading.
func TestBodyTooLargeChunked(t *testing.T) {
	ts := newTestServer(t, &Verifier{Credentials: map[string]string{testKey: testSecret}, MaxBody: 10, Now: func() time.Time { return now }})
	for _, sha := range []bool{false, true} {
		sp := spec{method: "POST", path: "/CreateStage", body: strings.Repeat("x", 11), chunked: true}
		got, resp, respBody := ts.do(t, newSigned(t, ts.URL, sp, defaultOpts(sha)))
		checkOutcome(t, got, resp, respBody, TypeRequestEntityTooLarge, 413, "Request body exceeds the maximum of 10 bytes.")

		sp.body = sp.body[:10]
		got, resp, respBody = ts.do(t, newSigned(t, ts.URL, sp, defaultOpts(sha)))
		checkOutcome(t, got, resp, respBody, "", 0, "")
		if got.err == nil && (strings.Contains(strings.Join(got.res.SignedHeaders, ";"), "content-length") || string(got.res.Body) != sp.body) {
			t.Errorf("chunked: signed %v, body %q", got.res.SignedHeaders, got.res.Body)
		}
	}
}

// TestRawPathCharacters sends paths with characters Go's URL type would
// escape differently (and an absolute-form target), written straight to the
// connection, signed through URL.Opaque as the signer documents.
func TestRawPathCharacters(t *testing.T) {
	ts := newTestServer(t, &Verifier{Credentials: map[string]string{testKey: testSecret}, Now: func() time.Time { return now }})
	host := strings.TrimPrefix(ts.URL, "http://")
	for _, tc := range []struct {
		name, path string
		absolute   bool
	}{
		{"braces", "/tags/{x}|y^z", false},
		{"braces absolute-form", "/tags/{x}|y^z", true},
		{"escaped arn absolute-form", "/tags/" + escapedARN, true},
		{"lower-case escapes", "/tags/arn%3aaws%3aivs", false},
		{"double slash", "//ListStages", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", ts.URL+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = "//" + host + tc.path
			req.URL.RawQuery = "a=1"
			creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex(nil), "ivs", "us-east-1", now); err != nil {
				t.Fatal(err)
			}
			target := tc.path + "?" + req.URL.RawQuery
			if tc.absolute {
				target = "http://" + host + target
			}
			conn, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var raw bytes.Buffer
			fmt.Fprintf(&raw, "GET %s HTTP/1.1\r\nHost: %s\r\n", target, host)
			if err := req.Header.Write(&raw); err != nil {
				t.Fatal(err)
			}
			raw.WriteString("Connection: close\r\n\r\n")
			if _, err := conn.Write(raw.Bytes()); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := <-ts.out
			checkOutcome(t, got, resp, body, "", 0, "")
		})
	}
}

// TestVerifyRestoresBody: a verified request's body can be read again.
func TestVerifyRestoresBody(t *testing.T) {
	v := &Verifier{Credentials: map[string]string{testKey: testSecret}, Now: func() time.Time { return now }}
	ts := newTestServer(t, v)
	client := newSigned(t, ts.URL, specs[1].spec, defaultOpts(false))
	var wire bytes.Buffer
	if err := client.Write(&wire); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatal(err)
	}
	body, key, err := v.Verify(r)
	if err != nil || key != testKey || string(body) != specs[1].body {
		t.Fatalf("Verify: %q %q %v", body, key, err)
	}
	again, err := io.ReadAll(r.Body)
	if err != nil || string(again) != specs[1].body {
		t.Fatalf("body read again: %q %v", again, err)
	}
}

// TestVerifyDefaults: the zero Verifier uses time.Now, "ivs", 15 minutes and
// 1 MiB; an empty secret is no secret.
func TestVerifyDefaults(t *testing.T) {
	v := &Verifier{Credentials: map[string]string{testKey: testSecret, "AKIDEMPTY": ""}}
	ts := newTestServer(t, v)
	o := defaultOpts(false)
	o.when = time.Now()
	got, resp, body := ts.do(t, newSigned(t, ts.URL, specs[0].spec, o))
	checkOutcome(t, got, resp, body, "", 0, "")

	o.when = time.Now().Add(-16 * time.Minute)
	got, resp, body = ts.do(t, newSigned(t, ts.URL, specs[0].spec, o))
	checkOutcome(t, got, resp, body, TypeInvalidSignature, 403, "")

	o = defaultOpts(false)
	o.when = time.Now()
	big := spec{method: "POST", path: "/CreateStage", body: strings.Repeat("x", DefaultMaxBody+1)}
	got, resp, body = ts.do(t, newSigned(t, ts.URL, big, o))
	checkOutcome(t, got, resp, body, TypeRequestEntityTooLarge, 413, "")
	big.body = big.body[:DefaultMaxBody]
	got, resp, body = ts.do(t, newSigned(t, ts.URL, big, o))
	checkOutcome(t, got, resp, body, "", 0, "")

	o.key, o.secret = "AKIDEMPTY", ""
	got, resp, body = ts.do(t, newSigned(t, ts.URL, specs[0].spec, o))
	checkOutcome(t, got, resp, body, TypeUnrecognizedClient, 403, msgUnrecognized)
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, &Error{Status: 403, Type: TypeInvalidSignature, Message: `quote " and <tag>`})
	if w.Code != 403 || w.Header().Get("X-Amzn-Errortype") != TypeInvalidSignature || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("got %d %v", w.Code, w.Header())
	}
	var m map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m["message"] != `quote " and <tag>` {
		t.Errorf("body %s: %v", w.Body, err)
	}

	w = httptest.NewRecorder()
	WriteError(w, nil)
	if w.Code != 500 || w.Header().Get("X-Amzn-Errortype") != "InternalFailure" {
		t.Errorf("nil: got %d %v", w.Code, w.Header())
	}
}

// TestTruncatedBody: a body shorter than its Content-Length is a 400
// IncompleteBody, from a known key; an unknown key is told so first.
func TestTruncatedBody(t *testing.T) {
	ts := newTestServer(t, &Verifier{Credentials: map[string]string{testKey: testSecret}, Now: func() time.Time { return now }})
	host := strings.TrimPrefix(ts.URL, "http://")
	for _, tc := range []struct {
		key, wantType string
		wantStatus    int
	}{{testKey, TypeIncompleteBody, 400}, {"AKIDUNKNOWN", TypeUnrecognizedClient, 403}} {
		o := defaultOpts(false)
		o.key = tc.key
		req := newSigned(t, ts.URL, spec{method: "POST", path: "/CreateStage", body: "0123456789"}, o)
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		fmt.Fprintf(&raw, "POST /CreateStage HTTP/1.1\r\nHost: %s\r\nContent-Length: 10\r\n", host)
		if err := req.Header.Write(&raw); err != nil {
			t.Fatal(err)
		}
		raw.WriteString("\r\n01234")
		if _, err := conn.Write(raw.Bytes()); err != nil {
			t.Fatal(err)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got := <-ts.out
		if e, _ := got.err.(*Error); e == nil || e.Type != tc.wantType || e.Status != tc.wantStatus {
			t.Errorf("key %s: %v, want %s %d", tc.key, got.err, tc.wantType, tc.wantStatus)
		}
		conn.Close()
	}
}

func TestWirePath(t *testing.T) {
	for _, tc := range []struct{ requestURI, url, want string }{
		{"/tags/arn%3Aaws?x=1", "/tags/arn%3Aaws?x=1", "/tags/arn%3Aaws"},
		{"/a{b}", "/a{b}", "/a{b}"},
		{"http://h:1/a%2Fb?q=/c", "http://h:1/a%2Fb?q=/c", "/a%2Fb"},
		{"http://h:1?q=/c", "http://h:1?q=/c", "/"},
		{"*", "*", "/"},
		{"", "/x%3Ay?z", "/x%3Ay"}, // not from a server: the URL's escaped path
		{"", "", "/"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := wirePath(&http.Request{RequestURI: tc.requestURI, URL: u}); got != tc.want {
			t.Errorf("wirePath(%q, %q) = %q, want %q", tc.requestURI, tc.url, got, tc.want)
		}
	}
}
