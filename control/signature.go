package control

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook requests are signed when a secret is configured: the request
// carries the Unix time it was sent in TimestampHeader and, in
// SignatureHeader, "v1=" and the lower-case hex HMAC-SHA256, keyed with the
// secret, of the timestamp, a ".", and the body, byte for byte. A receiver
// recomputes it over the raw body it read, compares in constant time, and
// refuses timestamps too far from its clock (a replay). Each attempt of a
// delivery is signed anew.
const (
	TimestampHeader = "X-Tessera-Timestamp"
	SignatureHeader = "X-Tessera-Signature"
)

// SignWebhook returns the SignatureHeader value of a body sent at the Unix
// time timestamp.
func SignWebhook(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a webhook request's signature headers h against its
// body: the signature must match and the timestamp be within tolerance of
// now.
func VerifyWebhook(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sig := h.Get(TimestampHeader), h.Get(SignatureHeader)
	if ts == "" || !strings.HasPrefix(sig, "v1=") {
		return errors.New("webhook: unsigned request")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook: malformed timestamp")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	if !hmac.Equal([]byte(sig), []byte(SignWebhook(secret, ts, body))) {
		return errors.New("webhook: signature mismatch")
	}
	return nil
}
