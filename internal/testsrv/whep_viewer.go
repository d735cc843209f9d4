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
	"time"
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

// ShownFrame is a video frame a stamp-reading viewer (WatchStamps)
// displayed.
type ShownFrame struct {
	// Stamp is the frame number read from the picture's frame stamp
	// (internal/publisher's), if Read.
	Stamp uint32
	Read  bool
	// Shown is when the browser expected the frame on screen
	// (requestVideoFrameCallback's expectedDisplayTime), on the wall clock.
	Shown time.Time
	// Received is when the frame's last packet arrived (receiveTime);
	// zero when the browser does not tell.
	Received time.Time
	// Decode is how long the frame took from its first packet to decoded
	// (processingDuration).
	Decode time.Duration
	// Presented is the video's count of frames presented so far, this one
	// included; frames the page had no callback for count too.
	Presented int
}

// shownFrame is a ShownFrame as the page reports it: times in Unix
// milliseconds, n -1 when no stamp was read.
type shownFrame struct {
	N         int64   `json:"n"`
	Shown     float64 `json:"shown"`
	Received  float64 `json:"received"`
	DecodeMs  float64 `json:"decodeMs"`
	Presented int     `json:"presented"`
}

func (f shownFrame) frame() ShownFrame {
	wall := func(ms float64) time.Time {
		if ms <= 0 {
			return time.Time{}
		}
		return time.UnixMicro(int64(ms * 1000))
	}
	return ShownFrame{Stamp: uint32(max(f.N, 0)), Read: f.N >= 0, Shown: wall(f.Shown), Received: wall(f.Received),
		Decode: time.Duration(f.DecodeMs * float64(time.Millisecond)), Presented: f.Presented}
}

// StampTile is where a publisher's picture lies in the video, in the
// terms of publisher.ReadStamp: its top-left corner at (X, Y) (video
// pixels, negative if cropped away), shrunk by Scale.
type StampTile struct{ X, Y, Scale float64 }

func (t StampTile) param() string { return fmt.Sprintf("%g,%g,%g", t.X, t.Y, t.Scale) }

// WHEPViewers serves a page that watches a WHEP endpoint in headless
// Chromium and reports what it shows.
type WHEPViewers struct {
	srv     *httptest.Server
	mu      sync.Mutex
	states  map[string]ViewState
	frames  map[string][]ShownFrame // per view, since the last View.Frames
	changed chan struct{}
	n       int
}

// StartWHEPViewers starts the page server; it is closed by t.Cleanup.
func StartWHEPViewers(t testing.TB) *WHEPViewers {
	t.Helper()
	skipShort(t, "Chromium")
	v := &WHEPViewers{states: map[string]ViewState{}, frames: map[string][]ShownFrame{}, changed: make(chan struct{})}
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
			Frames []shownFrame `json:"frames"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&st); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		v.mu.Lock()
		v.states[st.ID] = st.ViewState
		for _, f := range st.Frames {
			v.frames[st.ID] = append(v.frames[st.ID], f.frame())
		}
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
	var ps []string
	for _, p := range points {
		ps = append(ps, fmt.Sprintf("%g,%g", p[0], p[1]))
	}
	return v.open(t, url.Values{"whep": {whepURL}, "token": {token}, "points": {strings.Join(ps, ";")}})
}

// WatchStamps starts Chromium watching whepURL with token, reading in
// every frame the video displays the frame stamp of the publisher picture
// at tile, with publisher.ReadStamp's rules (luma from the page's RGB as
// BT.709 limited range, the composition's colour space); Frames returns
// what it read. The frames are reported in batches, every 250 ms.
func (v *WHEPViewers) WatchStamps(t testing.TB, whepURL, token string, tile StampTile) *View {
	t.Helper()
	return v.open(t, url.Values{"whep": {whepURL}, "token": {token}, "stamp": {tile.param()}})
}

// open starts Chromium on the page with the query q and a new view id.
func (v *WHEPViewers) open(t testing.TB, q url.Values) *View {
	t.Helper()
	v.mu.Lock()
	v.n++
	id := strconv.Itoa(v.n)
	v.mu.Unlock()
	q.Set("id", id)
	return &View{v: v, id: id, c: StartChromium(t, v.srv.URL+"/?"+q.Encode())}
}

// Frames returns the frames a WatchStamps view reported since the last
// call, in the order shown.
func (w *View) Frames() []ShownFrame {
	w.v.mu.Lock()
	defer w.v.mu.Unlock()
	f := w.v.frames[w.id]
	delete(w.v.frames, w.id)
	return f
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
