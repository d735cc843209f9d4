package sigv4

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// firstChunk is the first buffer a body is read into; the buffer doubles as
// the body keeps arriving, so a client that declares a large body and sends
// little of it makes the server hold little.
const firstChunk = 1 << 10

// bodyRead is a body read in full: its bytes, their SHA-256, and how many
// bytes of the budget the read holds (to release once the request is
// authenticated or refused).
type bodyRead struct {
	body []byte
	sum  [sha256.Size]byte
	held int64
}

// readBody reads r.Body in full, up to MaxBody bytes, hashing it as it
// arrives, and puts back a reader over what it read. Every byte of its
// buffer is taken from budget first (a nil budget bounds nothing); the bytes
// held are reported even with an error, for the caller to release.
func (v *Verifier) readBody(r *http.Request, budget *Budget) (bodyRead, *Error) {
	var out bodyRead
	limit := v.maxBody()
	tooLarge := &Error{
		Status:  http.StatusRequestEntityTooLarge,
		Type:    TypeRequestEntityTooLarge,
		Message: "Request body exceeds the maximum of " + strconv.FormatInt(limit, 10) + " bytes.",
	}
	h := sha256.New()
	if r.ContentLength > limit {
		return out, tooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		h.Sum(out.sum[:0])
		return out, nil
	}
	// One byte past the limit tells a body that is too large; one past a
	// declared length lets the read see the end of the body.
	most := limit + 1
	if r.ContentLength >= 0 {
		most = r.ContentLength + 1
	}
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return out, tooLarge
			}
			size := min(max(2*int64(cap(buf)), firstChunk), most)
			extra := size - int64(cap(buf))
			if !budget.take(extra, out.held+extra) {
				return out, &Error{Status: http.StatusServiceUnavailable, Type: TypeServiceUnavailable, Message: msgBusy}
			}
			out.held += extra
			grown := make([]byte, len(buf), size)
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		h.Write(buf[len(buf) : len(buf)+n])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return out, tooLarge
			}
			return out, &Error{Status: http.StatusBadRequest, Type: TypeIncompleteBody, Message: "The request body could not be read: " + err.Error()}
		}
	}
	if int64(len(buf)) > limit {
		return out, tooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(buf))
	out.body = buf
	h.Sum(out.sum[:0])
	return out, nil
}
