package control

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/tessera-media/tessera/control/wire"
)

// Invoke runs operation as the holder of accessKey, whom the caller has
// authenticated (CheckCredentials), on a JSON request body, and writes the
// response exactly as ServeHTTP would answer the signed request: the same
// model decoding and validation, rate limit, metrics, status, headers
// (X-Amzn-Errortype on errors, the request id) and body. Only operations
// bound to POST /<operation> with their whole input in the body can be
// invoked; any other name is an UnknownOperationException (404).
func (s *Server) Invoke(ctx context.Context, w http.ResponseWriter, accessKey, operation string, body []byte) {
	c := s.newCall(w)
	defer c.done()
	path := "/" + operation
	if op := s.model.Operation(operation); op == nil || op.Method != http.MethodPost || op.RequestURI != path {
		c.fail(wire.UnknownOperation(http.MethodPost, path))
		return
	}
	c.run(ctx, accessKey, http.MethodPost, path, nil, http.Header{}, body)
}

// CheckCredentials reports whether secret is the secret access key of the
// API access key accessKey. The secrets are compared in constant time
// (their SHA-256 digests, so that neither length shows).
func (s *Server) CheckCredentials(accessKey, secret string) bool {
	want, ok := s.cfg.Credentials[accessKey]
	a, b := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && ok
}
