package main

import (
	"io"
	"net"
	"net/http"
	"time"
)

// newHTTPServer returns the one HTTP server of tessera serve (API, WHIP,
// /metrics, /healthz, /readyz) with the settings' limits: a client has
// --http-read-header-timeout to send a request's head and
// --http-read-timeout to send all of it, body included (a stalled upload is
// cut off there and its connection closed); --http-write-timeout bounds the
// time from the end of the head to the end of the response;
// --http-idle-timeout how long a kept-alive connection waits for its next
// request; --http-max-header-bytes the size of a request head.
func newHTTPServer(s *settings, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           readDeadlineUntilBody(h),
		ReadHeaderTimeout: s.HTTPReadHeaderTimeout,
		ReadTimeout:       s.HTTPReadTimeout,
		WriteTimeout:      s.HTTPWriteTimeout,
		IdleTimeout:       s.HTTPIdleTimeout,
		MaxHeaderBytes:    s.HTTPMaxHeaderBytes,
	}
}

// serveHTTP serves hs on ln, over TLS when hs has a TLS configuration
// (with HTTP/2; the limits above apply to the handshake and to each
// stream).
func serveHTTP(hs *http.Server, ln net.Listener) error {
	if hs.TLSConfig != nil {
		return hs.ServeTLS(ln, "", "")
	}
	return hs.Serve(ln)
}

// readDeadlineUntilBody keeps the server's read deadline (ReadTimeout) on a
// request only until its body has been read to the end, or not at all for
// a request without a body: the timeout bounds how long a client takes to
// send a request, not how long the handler takes to answer it. (A read
// deadline that passes while a handler runs would cancel the request's
// context: net/http's connection reader reports the timeout as the client
// going away.)
func readDeadlineUntilBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		lift := func() { _ = rc.SetReadDeadline(time.Time{}) }
		if r.Body == nil || r.Body == http.NoBody {
			lift()
		} else {
			r.Body = &liftAtEOF{ReadCloser: r.Body, lift: lift}
		}
		h.ServeHTTP(w, r)
	})
}

// liftAtEOF is a request body that calls lift once it has been read to its
// end.
type liftAtEOF struct {
	io.ReadCloser
	lift   func()
	lifted bool
}

func (b *liftAtEOF) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		b.lift()
	}
	return n, err
}
