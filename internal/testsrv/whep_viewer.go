package testsrv

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

//go:embed whep_viewer.html
var whepViewerHTML []byte

// ViewState is what a WHEP viewer page last reported.
type ViewState struct {
	// State is the RTCPeerConnection's connectionState, or "refused" (the
	// POST was not answered 201: HTTPStatus and Body say why) or "error".
	State         string   `json:"state"`
	HTTPStatus    int      `json:"httpStatus"`
	Body          string   `json:"body"`
	Errors        []string `json:"errors"`
	Width         int      `json:"width"` // the video's intrinsic size
	Height        int      `json:"height"`
	CurrentTime   float64  `json:"currentTime"`
	FramesDecoded int      `json:"framesDecoded"`
	KeyFrames     int      `json:"keyFrames"`
	Codec         string   `json:"codec"` // the inbound video's mime type and fmtp
	// Colours are the picture's colours (Y, Cb, Cr; BT.709 limited range)
	// at the points asked, as the page drew the video to a canvas.
	Colours [][3]int `json:"colours"`
}

func (s ViewState) String() string {
	return fmt.Sprintf("%s (HTTP %d %q) %dx%d t=%.2f s, %d frames (%d key), codec %q, colours %v, errors %v",
		s.State, s.HTTPStatus, strings.TrimSpace(s.Body), s.Width, s.Height, s.CurrentTime, s.FramesDecoded, s.KeyFrames, s.Codec, s.Colours, s.Errors)
}

// WHEPViewers serves a page that watches a WHEP endpoint in headless
// Chromium and reports what it shows.
type WHEPViewers struct {
	srv     *httptest.Server
	mu      sync.Mutex
	states  map[string]ViewState
	changed chan struct{}
	n       int
}

// StartWHEPViewers starts the page server; it is closed by t.Cleanup.
func StartWHEPViewers(t testing.TB) *WHEPViewers {
	t.Helper()
	skipShort(t, "Chromium")
	v := &WHEPViewers{states: map[string]ViewState{}, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(whepViewerHTML)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var st struct {
			ID string `json:"id"`
			ViewState
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&st); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		v.mu.Lock()
		v.states[st.ID] = st.ViewState
		close(v.changed)
		v.changed = make(chan struct{})
		v.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	v.srv = httptest.NewServer(mux)
	t.Cleanup(v.srv.Close)
	return v
}

// View is one Chromium watching.
type View struct {
	v  *WHEPViewers
	id string
	c  *Chromium
}

// Watch starts Chromium watching whepURL with token (empty: none),
// sampling the picture's colour at points (fractions of its width and
// height; none: the centre).
func (v *WHEPViewers) Watch(t testing.TB, whepURL, token string, points ...[2]float64) *View {
	t.Helper()
	v.mu.Lock()
	v.n++
	id := strconv.Itoa(v.n)
	v.mu.Unlock()
	var ps []string
	for _, p := range points {
		ps = append(ps, fmt.Sprintf("%g,%g", p[0], p[1]))
	}
	q := url.Values{"id": {id}, "whep": {whepURL}, "token": {token}, "points": {strings.Join(ps, ";")}}
	return &View{v: v, id: id, c: StartChromium(t, v.srv.URL+"/?"+q.Encode())}
}

// Wait waits until the page reports a state that ok accepts, the browser
// exits, or ctx ends; it returns the last state.
func (w *View) Wait(ctx context.Context, ok func(ViewState) bool) (ViewState, error) {
	for {
		w.v.mu.Lock()
		st, got := w.v.states[w.id]
		changed := w.v.changed
		w.v.mu.Unlock()
		if got && ok(st) {
			return st, nil
		}
		select {
		case <-changed:
		case <-w.c.proc.done:
			return st, fmt.Errorf("testsrv: the viewer's Chromium exited: %v", w.c.exitError())
		case <-ctx.Done():
			return st, fmt.Errorf("testsrv: viewer: %w (last report: %s)", ctx.Err(), st)
		}
	}
}

// Stop stops the viewer's browser.
func (w *View) Stop() { w.c.Stop() }
