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
//   - the body is at most MaxBody bytes (default 1 MiB);
//   - if X-Amz-Content-Sha256 is among the signed headers, it is the hex
//     SHA-256 of the body (an unsigned one is ignored; UNSIGNED-PAYLOAD and
//     streaming payloads are not accepted);
//   - the signature, recomputed by the AWS SDK for Go v2's own signer
//     (aws/signer/v4) over a copy of the request holding only the signed
//     headers, with the request's method, path exactly as it came on the
//     wire, raw query, the body's SHA-256 and the client's time, region and
//     service, has the same SignedHeaders list and is equal (compared in
//     constant time).
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
// server buffer a body: Authorization present (MissingAuthenticationToken),
// well formed and X-Amz-Date present and well formed (IncompleteSignature),
// scope (InvalidSignature), clock skew (InvalidSignature), access key
// (UnrecognizedClient), body size (413 RequestEntityTooLargeException) and
// readability (400 IncompleteBody), X-Amz-Content-Sha256 and signature
// (InvalidSignature). Every error is an *Error carrying AWS's error type,
// status and message; WriteError answers it in the rest-json shape the SDKs
// parse.
package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
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

	body, e := v.readBody(r)
	if e != nil {
		return nil, e
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])

	signedLen := false
	for _, name := range auth.SignedHeadersList {
		switch name {
		case "x-amz-content-sha256":
			if r.Header.Get("X-Amz-Content-Sha256") != payloadHash {
				return nil, forbidden(TypeInvalidSignature, msgContentSHA256)
			}
		case "content-length":
			signedLen = true
		}
	}

	// The signer canonicalises the query through url.Values, which drops
	// malformed pairs; a query it cannot read in full is not covered by the
	// signature in full, so it is refused.
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		return nil, forbidden(TypeInvalidSignature, msgSignatureInvalid)
	}

	cp := signingCopy(r, auth.SignedHeadersList, signedLen, len(body))
	creds := aws.Credentials{AccessKeyID: auth.AccessKey, SecretAccessKey: secret}
	// A new signer every time: the SDK signer caches derived keys per
	// region/service and access key id without regard to the secret, and
	// without bound. Shared, it would keep accepting a rotated secret until
	// midnight UTC and grow with every region string a client invents.
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, payloadHash, service, auth.Region, t); err != nil {
		return nil, forbidden(TypeInvalidSignature, msgSignatureInvalid)
	}
	ours, perr := parseAuthorization(cp.Header.Get("Authorization"))
	if perr != nil || ours.SignedHeaders != auth.SignedHeaders ||
		subtle.ConstantTimeCompare([]byte(ours.Signature), []byte(auth.Signature)) != 1 {
		return nil, forbidden(TypeInvalidSignature, msgSignatureInvalid)
	}

	return &Result{
		Body:          body,
		AccessKey:     auth.AccessKey,
		Region:        auth.Region,
		Time:          t,
		SignedHeaders: auth.SignedHeadersList,
	}, nil
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

// readBody reads r.Body in full, up to MaxBody bytes, and puts back a reader
// over what it read.
func (v *Verifier) readBody(r *http.Request) ([]byte, *Error) {
	limit := v.maxBody()
	tooLarge := &Error{
		Status:  http.StatusRequestEntityTooLarge,
		Type:    TypeRequestEntityTooLarge,
		Message: "Request body exceeds the maximum of " + strconv.FormatInt(limit, 10) + " bytes.",
	}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, &Error{Status: http.StatusBadRequest, Type: TypeIncompleteBody, Message: "The request body could not be read: " + err.Error()}
	}
	if int64(len(body)) > limit {
		return nil, tooLarge
	}
	return body, nil
}

// signingCopy returns a request for the SDK signer to sign: r's method, r's
// path exactly as the client sent it, r's raw query, r's Host and only the
// headers the client signed. Content-Length is set only if the client signed
// it, because the signer signs it whenever it is positive.
func signingCopy(r *http.Request, signed []string, signedLen bool, bodyLen int) *http.Request {
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
		cp.ContentLength = int64(bodyLen)
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
