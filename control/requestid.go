package control

import (
	"crypto/rand"
	"fmt"
)

// requestIDHeader carries a response's request id, as AWS sends it (the
// SDKs expose it: the Go SDK's middleware.GetRequestIDMetadata, botocore's
// ResponseMetadata.RequestId). Every API response has one, errors too, and
// the request's log lines name it.
const requestIDHeader = "x-amzn-RequestId"

// newUUID returns a random (version 4) UUID, the form of AWS's request ids
// and of EventBridge event ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
