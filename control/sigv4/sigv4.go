// Package sigv4 authenticates incoming HTTP requests signed with AWS
// Signature Version 4, the way AWS's ivs-realtime front end does, so that the
// AWS SDKs and the AWS CLI can drive Tessera's control API with an endpoint
// override.
//
// # Contract
//
// Verifier.Verify accepts a request only when it carries an Authorization
// header of the form
//
//	AWS4-HMAC-SHA256 Credential=<key id>/<YYYYMMDD>/<region>/<service>/aws4_request, SignedHeaders=<h1;h2;...>, Signature=<hex>
//
// and
//
//   - the credential scope names Verifier.Service (default "ivs") and the
//     terminator aws4_request, and its date is the date of X-Amz-Date;
//     any region is accepted and reported in Result.Region;
//   - X-Amz-Date is present, in ISO 8601 basic format (20260101T000000Z), and
//     within ±MaxSkew (default 15 minutes) of Now; the Date header is not an
//     alternative;
//   - the access key id is a key of Verifier.Credentials with a non-empty
//     secret;
//   - Authorization, X-Amz-Date and X-Amz-Content-Sha256 each come at most
//     once;
//   - the body is at most MaxBody bytes (default 1 MiB);
//   - the signature, recomputed by the AWS SDK for Go v2's own signer
//     (aws/signer/v4) over a copy of the request holding only the signed
//     headers, with the request's method, path exactly as it came on the
//     wire, raw query, the payload hash and the client's time, region and
//     service, has the same SignedHeaders list and is equal (compared in
//     constant time);
//   - if X-Amz-Content-Sha256 is among the signed headers, it is the hex
//     SHA-256 of the body (UNSIGNED-PAYLOAD and streaming payloads are not
//     accepted); an unsigned one is ignored.
//
// # No body before the signature
//
// When X-Amz-Content-Sha256 is signed (the AWS SDK for JavaScript v3 and
// the AWS CLI v2 send it; the Go SDK, botocore and so the AWS CLI v1 do not
// unless told to), the signature is computed over the claimed hash and
// checked before a byte of the body is read; the body is then hashed as it
// arrives and refused if it does not match the claim. Otherwise the payload
// hash can only come from the body itself, so the body is read first, into
// a buffer that grows as the data arrives and whose every byte is taken from
// the Verifier's Budget, shared by every request in that state, until the
// signature has been checked. A request that finds the budget spent is
// refused with 503 ServiceUnavailableException (which the SDKs retry);
// bodies over SmallBody may use only half of it, so large unauthenticated
// bodies cannot crowd out ordinary API calls. How long a client may take to
// send its body is the HTTP server's read timeout.
//
// Nothing here reimplements the canonical request: whatever the SDK signer
// cannot reproduce is rejected. In particular a client must sign host and
// x-amz-date (the SDK signer always signs them), must not sign headers the
// SDK signer never signs (user-agent, x-amzn-trace-id, expect,
// transfer-encoding, authorization), and may sign content-length only for a
// non-empty body. The canonical path is the Go SDK's for every service but
// S3: the path as sent, escaped once more, not normalised. botocore signs the
// same for the paths ivs-realtime uses but drops empty, "." and ".." segments
// first, so a path holding those verifies only from Go-SDK-like signers.
// X-Amz-Security-Token, when signed, is covered by the
// signature like any other header but not otherwise checked: Tessera issues
// no temporary credentials. Presigned (query string) requests are not
// supported; without an Authorization header a request is unauthenticated.
//
// The checks run in this order, so an unauthenticated client never makes the
// server buffer more than the budget allows: headers given once
// (IncompleteSignature), Authorization present (MissingAuthenticationToken),
// well formed and
// X-Amz-Date present and well formed (IncompleteSignature), scope
// (InvalidSignature), clock skew (InvalidSignature), access key
// (UnrecognizedClient), query (InvalidSignature); then, with a signed
// X-Amz-Content-Sha256, signature and claimed hash (InvalidSignature) before
// body size (413 RequestEntityTooLargeException), readability (400
// IncompleteBody) and the body's hash (InvalidSignature); without one, body
// size, budget (503 ServiceUnavailableException) and readability before the
// signature. Every error is an *Error carrying AWS's error type, status and
// message; WriteError answers it in the rest-json shape the SDKs parse.
package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Defaults for the zero fields of Verifier.
const (
	DefaultService = "ivs"
	DefaultMaxSkew = 15 * time.Minute
	DefaultMaxBody = 1 << 20
)

// singleHeaders are the headers a request may carry once: with two, which
// one a signer meant is anyone's guess.
var singleHeaders = []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256"}

// amzDateFormat is X-Amz-Date's layout, ISO 8601 basic format in UTC.
const amzDateFormat = "20060102T150405Z"

// Verifier checks SigV4 signatures. Verify only reads its fields, so one
// Verifier may serve concurrent requests as long as neither it nor its
// Credentials map is modified meanwhile; to rotate keys, build a new Verifier
// and swap it in (an atomic.Pointer, say).
type Verifier struct {
	// Credentials maps access key ids to their secret access keys. A key
	// with an empty secret is treated as unknown.
	Credentials map[string]string
	// Service is the signing name the credential scope must carry; "" means
	// DefaultService ("ivs", the signing name of ivs-realtime).
	Service string
	// MaxSkew is how far X-Amz-Date may be from Now either way; 0 means
	// DefaultMaxSkew (15 minutes, as AWS).
	MaxSkew time.Duration
	// MaxBody is the largest body accepted, in bytes; 0 means
	// DefaultMaxBody (1 MiB).
	MaxBody int64
	// Budget bounds the bytes of bodies held before their signature is
	// checked, across the requests sharing it (see Budget); nil bounds
	// nothing but MaxBody per request.
	Budget *Budget
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Result describes a verified request.
type Result struct {
	// Body is the request body, read in full.
	Body []byte
	// AccessKey is the access key id that signed the request.
	AccessKey string
	// Region is the region of the credential scope; any is accepted.
	Region string
	// Time is the signing time, from X-Amz-Date.
	Time time.Time
	// SignedHeaders are the lower-case names of the signed headers.
	SignedHeaders []string
}

// Verify authenticates r and returns its body and the access key id that
// signed it. It is VerifyRequest without the details; see the package
// documentation for what is checked. A non-nil error is always an *Error.
func (v *Verifier) Verify(r *http.Request) (body []byte, accessKey string, err error) {
	res, err := v.VerifyRequest(r)
	if err != nil {
		return nil, "", err
	}
	return res.Body, res.AccessKey, nil
}

// VerifyRequest authenticates r; see the package documentation for what is
// checked and in which order. Once the body has been read (which happens only
// for a known access key), r.Body is replaced by a reader over the same bytes
// so that later handlers can read it again. A non-nil error is always an
// *Error.
func (v *Verifier) VerifyRequest(r *http.Request) (*Result, error) {
	res, e := v.verify(r)
	if e != nil {
		return nil, e
	}
	return res, nil
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return DefaultService
	}
	return v.Service
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return v.MaxSkew
}

func (v *Verifier) maxBody() int64 {
	if v.MaxBody <= 0 {
		return DefaultMaxBody
	}
	return v.MaxBody
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

func (v *Verifier) verify(r *http.Request) (*Result, *Error) {
	for _, name := range singleHeaders {
		if len(r.Header.Values(name)) > 1 {
			return nil, incomplete("The request has more than one '" + name + "' header; a request is signed once.")
		}
	}
	header := strings.Trim(r.Header.Get("Authorization"), " \t")
	if header == "" {
		return nil, forbidden(TypeMissingAuthenticationToken, msgMissingToken)
	}
	auth, e := parseAuthorization(header)
	if e != nil {
		return nil, e
	}

	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return nil, incomplete("Authorization header requires existence of a 'X-Amz-Date' header. Authorization=" + echo(header))
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil || t.Format(amzDateFormat) != amzDate {
		return nil, incomplete("Date must be in ISO-8601 'basic format'. Got '" + echo(amzDate) + "'. See http://en.wikipedia.org/wiki/ISO_8601")
	}

	// Scope. AWS's wording, trailing spaces included.
	service := v.service()
	if auth.Service != service {
		return nil, forbidden(TypeInvalidSignature, "Credential should be scoped to correct service: '"+service+"'. ")
	}
	if auth.Terminator != "aws4_request" {
		return nil, forbidden(TypeInvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '"+echo(auth.Terminator)+"'. ")
	}
	if day := t.Format("20060102"); auth.Date != day {
		return nil, forbidden(TypeInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+echo(auth.Date)+"' != '"+day+"', from '"+amzDate+"'.")
	}

	if e := checkSkew(t, v.now(), v.maxSkew()); e != nil {
		return nil, e
	}

	secret, ok := v.Credentials[auth.AccessKey]
	if !ok || secret == "" {
		return nil, forbidden(TypeUnrecognizedClient, msgUnrecognized)
	}

	// The signer canonicalises the query through url.Values, which drops
	// malformed pairs; a query it cannot read in full is not covered by the
	// signature in full, so it is refused.
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		return nil, forbidden(TypeInvalidSignature, msgSignatureInvalid)
	}

	signedHash, signedLen := false, false
	for _, name := range auth.SignedHeadersList {
		switch name {
		case "x-amz-content-sha256":
			signedHash = true
		case "content-length":
			signedLen = true
		}
	}
	res := &Result{AccessKey: auth.AccessKey, Region: auth.Region, Time: t, SignedHeaders: auth.SignedHeadersList}
	sign := signature{r: r, auth: auth, secret: secret, service: service, time: t, signedLen: signedLen}

	if signedHash {
		// The signature covers the claimed hash: check it before reading a
		// byte of the body, then hold the body to the claim.
		claimed := r.Header.Get("X-Amz-Content-Sha256")
		if e := sign.check(claimed, max(r.ContentLength, 0)); e != nil {
			return nil, e
		}
		if !isSHA256Hex(claimed) { // UNSIGNED-PAYLOAD, STREAMING-...
			return nil, forbidden(TypeInvalidSignature, msgContentSHA256)
		}
		read, e := v.readBody(r, nil)
		if e != nil {
			return nil, e
		}
		if hex.EncodeToString(read.sum[:]) != claimed {
			return nil, forbidden(TypeInvalidSignature, msgContentSHA256)
		}
		res.Body = read.body
		return res, nil
	}

	// The signature covers the body itself: read it, within the budget for
	// bodies not yet authenticated, which it leaves once checked.
	read, e := v.readBody(r, v.Budget)
	defer v.Budget.release(read.held)
	if e != nil {
		return nil, e
	}
	if e := sign.check(hex.EncodeToString(read.sum[:]), int64(len(read.body))); e != nil {
		return nil, e
	}
	res.Body = read.body
	return res, nil
}

// signature is what a request's signature is recomputed from.
type signature struct {
	r         *http.Request
	auth      authorization
	secret    string
	service   string
	time      time.Time
	signedLen bool
}

// check recomputes the signature over payloadHash (the body's SHA-256 in
// hex, or what the client claims it is) with the SDK signer and compares it
// with the client's.
func (s signature) check(payloadHash string, bodyLen int64) *Error {
	cp := signingCopy(s.r, s.auth.SignedHeadersList, s.signedLen, bodyLen)
	creds := aws.Credentials{AccessKeyID: s.auth.AccessKey, SecretAccessKey: s.secret}
	// A new signer every time: the SDK signer caches derived keys per
	// region/service and access key id without regard to the secret, and
	// without bound. Shared, it would keep accepting a rotated secret until
	// midnight UTC and grow with every region string a client invents.
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, payloadHash, s.service, s.auth.Region, s.time); err != nil {
		return forbidden(TypeInvalidSignature, msgSignatureInvalid)
	}
	ours, perr := parseAuthorization(cp.Header.Get("Authorization"))
	if perr != nil || ours.SignedHeaders != s.auth.SignedHeaders ||
		subtle.ConstantTimeCompare([]byte(ours.Signature), []byte(s.auth.Signature)) != 1 {
		return forbidden(TypeInvalidSignature, msgSignatureInvalid)
	}
	return nil
}

// isSHA256Hex reports whether s is a SHA-256 in lower-case hex, the form
// the signers send.
func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkSkew reports a request time more than skew away from now, in AWS's
// words.
func checkSkew(t, now time.Time, skew time.Duration) *Error {
	now = now.UTC().Truncate(time.Second)
	mins := strconv.FormatFloat(skew.Minutes(), 'f', -1, 64) + " min."
	if earliest := now.Add(-skew); t.Before(earliest) {
		return forbidden(TypeInvalidSignature, "Signature expired: "+t.Format(amzDateFormat)+" is now earlier than "+
			earliest.Format(amzDateFormat)+" ("+now.Format(amzDateFormat)+" - "+mins+")")
	}
	if latest := now.Add(skew); t.After(latest) {
		return forbidden(TypeInvalidSignature, "Signature not yet current: "+t.Format(amzDateFormat)+" is still later than "+
			latest.Format(amzDateFormat)+" ("+now.Format(amzDateFormat)+" + "+mins+")")
	}
	return nil
}

// signingCopy returns a request for the SDK signer to sign: r's method, r's
// path exactly as the client sent it, r's raw query, r's Host and only the
// headers the client signed. Content-Length is set only if the client signed
// it, because the signer signs it whenever it is positive.
func signingCopy(r *http.Request, signed []string, signedLen bool, bodyLen int64) *http.Request {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	cp := &http.Request{
		Method: r.Method,
		// The signer takes the canonical URI from Opaque, "//host/path",
		// when it is set, rather than re-escaping URL.Path. It escapes
		// that once more itself, as the client's signer did.
		URL: &url.URL{
			Scheme:   scheme,
			Host:     r.Host,
			Opaque:   "//" + r.Host + wirePath(r),
			RawQuery: r.URL.RawQuery,
		},
		Host:   r.Host,
		Header: make(http.Header, len(signed)),
	}
	if signedLen {
		cp.ContentLength = bodyLen
	}
	for _, name := range signed {
		if name == "host" || name == "content-length" {
			continue // from cp.Host and cp.ContentLength
		}
		if vals := r.Header.Values(name); len(vals) > 0 {
			cp.Header[http.CanonicalHeaderKey(name)] = vals
		}
	}
	return cp
}

// wirePath returns r's path as it came on the wire, still escaped: the
// request-target up to '?', with scheme and authority removed from an
// absolute-form target. Only for a request that did not come from a server
// (no RequestURI) does it fall back to the URL's escaped path, which may
// re-escape characters that were sent raw.
func wirePath(r *http.Request) string {
	target := r.RequestURI
	if target != "" && !strings.HasPrefix(target, "/") {
		// absolute-form, "http://host/path?query", as sent to proxies
		_, rest, ok := strings.Cut(target, "://")
		rest, _, _ = strings.Cut(rest, "?")
		if i := strings.IndexByte(rest, '/'); ok && i >= 0 {
			target = rest[i:]
		} else {
			target = "/"
		}
	}
	if target == "" {
		target = r.URL.EscapedPath()
	}
	target, _, _ = strings.Cut(target, "?")
	if target == "" {
		return "/"
	}
	return target
}
