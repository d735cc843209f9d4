package sigv4

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The error types Verify reports, as AWS spells them. They travel in the
// X-Amzn-Errortype header of the response WriteError writes, which is where
// the AWS SDKs and the AWS CLI read a rest-json error's code from.
const (
	// TypeMissingAuthenticationToken: the request carries no Authorization
	// header (403).
	TypeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// TypeIncompleteSignature: the Authorization header or the X-Amz-Date
	// header is missing a part or malformed (403).
	TypeIncompleteSignature = "IncompleteSignatureException"
	// TypeUnrecognizedClient: the access key id is not in
	// Verifier.Credentials (403).
	TypeUnrecognizedClient = "UnrecognizedClientException"
	// TypeInvalidSignature: the signature does not match, the credential
	// scope is wrong, or the request time is outside Verifier.MaxSkew (403).
	TypeInvalidSignature = "InvalidSignatureException"
	// TypeRequestEntityTooLarge: the body exceeds Verifier.MaxBody (413).
	TypeRequestEntityTooLarge = "RequestEntityTooLargeException"
	// TypeIncompleteBody: the body could not be read to its end, e.g. the
	// client went away or sent fewer bytes than its Content-Length (400).
	TypeIncompleteBody = "IncompleteBody"
	// TypeServiceUnavailable: the Verifier's Budget for bodies not yet
	// authenticated is spent (503; the SDKs retry it).
	TypeServiceUnavailable = "ServiceUnavailableException"
)

// Messages AWS uses, word for word.
const (
	msgMissingToken     = "Missing Authentication Token"
	msgUnrecognized     = "The security token included in the request is invalid."
	msgSignatureInvalid = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgContentSHA256    = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgBusy             = "The server is reading too many unauthenticated requests; retry the request later."
)

// Error is a failed verification: the HTTP status to answer with, the AWS
// error type (one of the Type constants) and a human-readable message.
// Every non-nil error Verify and VerifyRequest return is an *Error.
type Error struct {
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string {
	return "sigv4: " + e.Type + " (" + strconv.Itoa(e.Status) + "): " + e.Message
}

func forbidden(typ, msg string) *Error {
	return &Error{Status: http.StatusForbidden, Type: typ, Message: msg}
}

// WriteError writes e in the AWS rest-json error shape: the status code, the
// header X-Amzn-Errortype carrying the type, Content-Type application/json and
// the body {"message":"..."}. aws-sdk-go-v2 and botocore take the error code
// from X-Amzn-Errortype (before any "__type" or "code" in the body) and the
// message from the body's "message", so smithy.APIError.ErrorCode() is e.Type.
// A nil e writes a 500 InternalFailure.
func WriteError(w http.ResponseWriter, e *Error) {
	if e == nil {
		e = &Error{Status: http.StatusInternalServerError, Type: "InternalFailure", Message: "internal error"}
	}
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	body, err := json.Marshal(struct {
		Message string `json:"message"`
	}{e.Message})
	if err != nil { // cannot happen for a struct of one string
		body = []byte(`{"message":""}`)
	}
	h := w.Header()
	h.Set("X-Amzn-Errortype", e.Type)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
