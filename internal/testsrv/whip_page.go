package testsrv

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed whip_page.html
var whipPageHTML []byte

const (
	// unpublishTimeout bounds how long Unpublish waits for the page to
	// report that it deleted its WHIP session.
	unpublishTimeout = 5 * time.Second
	// controlPoll bounds one long poll of the page's GET /control.
	controlPoll = 10 * time.Second
)

// PublishParams says what a WHIP publisher page publishes and where. It is
// turned into the page's URL by WHIPPage.URL.
type PublishParams struct {
	// WHIP is the WHIP endpoint's URL, on 127.0.0.1. The server need not
	// answer CORS preflights: StartChromium turns web security off.
	WHIP string
	// Token is sent as "Authorization: Bearer <Token>" with the POST and
	// the DELETE; empty sends no Authorization header.
	Token string
	// Codec is the one video codec offered, "vp8" (the default) or
	// "h264" (packetization-mode=1, constrained baseline 42e01f first),
	// set with RTCRtpTransceiver.setCodecPreferences; rtx is offered too.
	Codec string
	// Color ("#rrggbb") sends a canvas filled with that colour, redrawn at
	// FPS, instead of Chromium's fake camera (its moving test pattern).
	Color string
	// Width and Height are the video's size (default 320×180); FPS its
	// frame rate (default 15).
	Width, Height, FPS int
	// Simulcast sends three encodings with rids "q", "h" and "f", scaled
	// down by 4, 2 and 1.
	Simulcast bool
	// Audio adds an audio track: Chromium's fake microphone (a beep every
	// second), or, with Color, a steady 440 Hz tone.
	Audio bool
	// ID names this publisher's reports; one page server tells many
	// publishers apart by it. Empty means "pub".
	ID string
}

// Report is one status report of a publisher page. Status is, in order of
// a publication: "loaded" (the page runs; Detail is the user agent),
// "offer-sent" (SDP is the offer as POSTed, once ICE gathering is done,
// with only its 127.0.0.1 candidates),
// "answered" (HTTPStatus, Location, and Body, the answer or the error
// text), then the RTCPeerConnection's connectionState as it changes
// ("connecting", "connected", "disconnected", "failed", "closed"),
// "stats" every second once answered, and "stopped" after Unpublish
// (HTTPStatus is the DELETE's). "error" reports what went wrong in
// Detail: a rejected POST (with HTTPStatus and Body), a codec this
// Chromium cannot encode, getUserMedia failing, a script error.
// "warning" reports a problem that does not stop the publication.
type Report struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Detail     string `json:"detail,omitempty"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	Body       string `json:"body,omitempty"`
	Location   string `json:"location,omitempty"`
	SDP        string `json:"sdp,omitempty"`
	Stats      *Stats `json:"stats,omitempty"`
	// Received is when the page server received the report.
	Received time.Time `json:"-"`
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.ID, r.Status)
	if r.HTTPStatus != 0 {
		fmt.Fprintf(&b, " HTTP %d", r.HTTPStatus)
	}
	if r.Detail != "" {
		fmt.Fprintf(&b, ": %s", r.Detail)
	}
	if r.Body != "" && r.Status == "error" {
		fmt.Fprintf(&b, "; body: %q", truncate(r.Body, 500))
	}
	if r.Stats != nil {
		fmt.Fprintf(&b, " %s", r.Stats)
	}
	return b.String()
}

// Stats is a summary of the publisher's RTCPeerConnection.getStats().
type Stats struct {
	Outbound []OutboundStats `json:"outbound"`
	// Pair is the selected ICE candidate pair, "local -> remote".
	Pair string `json:"pair,omitempty"`
	// SourceFrames is how many frames the video track's source (the
	// media-source statistics) has handed to the encoder.
	SourceFrames int `json:"sourceFrames,omitempty"`
	// FrameColor is the centre pixel of the video track's current frame,
	// "#rrggbb" (empty when it could not be read).
	FrameColor string `json:"frameColor,omitempty"`
}

// OutboundStats is one outbound-rtp stream: one per simulcast rid, one for
// audio.
type OutboundStats struct {
	Kind                    string  `json:"kind"` // "video" or "audio"
	RID                     string  `json:"rid,omitempty"`
	SSRC                    uint32  `json:"ssrc"`
	MimeType                string  `json:"mimeType"` // "video/VP8", "video/H264", "audio/opus"
	EncoderImplementation   string  `json:"encoderImplementation,omitempty"`
	FramesEncoded           int     `json:"framesEncoded,omitempty"`
	FramesPerSecond         float64 `json:"framesPerSecond,omitempty"`
	FrameWidth              int     `json:"frameWidth,omitempty"`
	FrameHeight             int     `json:"frameHeight,omitempty"`
	PacketsSent             int64   `json:"packetsSent"`
	BytesSent               int64   `json:"bytesSent"`
	Active                  bool    `json:"active"`
	QualityLimitationReason string  `json:"qualityLimitationReason,omitempty"`
}

// Video returns the video streams, in rid order.
func (s *Stats) Video() []OutboundStats { return s.kind("video") }

// Audio returns the audio streams.
func (s *Stats) Audio() []OutboundStats { return s.kind("audio") }

func (s *Stats) kind(k string) []OutboundStats {
	var out []OutboundStats
	for _, o := range s.Outbound {
		if o.Kind == k {
			out = append(out, o)
		}
	}
	return out
}

// ActiveRIDs returns the rids of the video streams that are active and
// have encoded frames.
func (s *Stats) ActiveRIDs() []string {
	var rids []string
	for _, o := range s.Video() {
		if o.Active && o.FramesEncoded > 0 && o.RID != "" {
			rids = append(rids, o.RID)
		}
	}
	return rids
}

func (s *Stats) String() string {
	var parts []string
	for _, o := range s.Outbound {
		p := o.MimeType
		if o.RID != "" {
			p += "/" + o.RID
		}
		if o.Kind == "video" {
			p += fmt.Sprintf(" %dx%d %d frames (%s)", o.FrameWidth, o.FrameHeight, o.FramesEncoded, o.EncoderImplementation)
		}
		p += fmt.Sprintf(" %d bytes", o.BytesSent)
		if !o.Active {
			p += " inactive"
		}
		if o.QualityLimitationReason != "" && o.QualityLimitationReason != "none" {
			p += " limited by " + o.QualityLimitationReason
		}
		parts = append(parts, p)
	}
	s2 := "[" + strings.Join(parts, "; ") + "]"
	if s.FrameColor != "" {
		s2 += " colour " + s.FrameColor
	}
	if s.Pair != "" {
		s2 += " pair " + s.Pair
	}
	return s2
}

// WHIPPage is an HTTP server on 127.0.0.1 that serves the WHIP publisher
// page (run it with StartChromium) and collects the reports the page
// sends back.
type WHIPPage struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	reports   []Report
	changed   chan struct{}            // closed and replaced on every report
	unpublish map[string]chan struct{} // closed to order a page to unpublish
	browsers  map[string]*Chromium     // started by Publish
	closing   chan struct{}            // closed when the server stops
}

// StartWHIPPage starts the page server. It is closed by t.Cleanup, which
// also writes every report to the test log when the test failed.
func StartWHIPPage(t testing.TB) *WHIPPage {
	t.Helper()
	p := &WHIPPage{
		t:         t,
		changed:   make(chan struct{}),
		unpublish: map[string]chan struct{}{},
		browsers:  map[string]*Chromium{},
		closing:   make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.serveIndex)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /report", p.serveReport)
	mux.HandleFunc("GET /control", p.serveControl)
	p.srv = httptest.NewServer(mux) // 127.0.0.1:0
	t.Cleanup(func() {
		close(p.closing) // ends the long polls, which Close waits for
		p.srv.Close()
		if t.Failed() {
			p.mu.Lock()
			defer p.mu.Unlock()
			var b strings.Builder
			for _, r := range p.reports {
				fmt.Fprintf(&b, "%s %s\n", r.Received.Format("15:04:05.000"), r)
			}
			if b.Len() > 0 {
				t.Logf("WHIP publisher page reports:\n%s", b.String())
			}
		}
	})
	return p
}

func (p *WHIPPage) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(whipPageHTML)
}

func (p *WHIPPage) serveReport(w http.ResponseWriter, r *http.Request) {
	var rep Report
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&rep); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rep.Received = time.Now()
	p.mu.Lock()
	p.reports = append(p.reports, rep)
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// serveControl answers "unpublish" once Unpublish was called for the id,
// or an empty body after controlPoll.
func (p *WHIPPage) serveControl(w http.ResponseWriter, r *http.Request) {
	ch := p.unpublishChan(r.URL.Query().Get("id"))
	timer := time.NewTimer(controlPoll)
	defer timer.Stop()
	w.Header().Set("Cache-Control", "no-store")
	select {
	case <-ch:
		_, _ = io.WriteString(w, "unpublish")
	case <-timer.C:
	case <-r.Context().Done():
	case <-p.closing:
	}
}

func (p *WHIPPage) unpublishChan(id string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.unpublish[id]
	if !ok {
		ch = make(chan struct{})
		p.unpublish[id] = ch
	}
	return ch
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// URL is the address of a page that publishes as pp says. It fails the
// test on parameters the page would not understand, so it must be called
// from the test's goroutine.
func (p *WHIPPage) URL(pp PublishParams) string {
	p.t.Helper()
	if pp.Codec != "" && pp.Codec != "vp8" && pp.Codec != "h264" {
		p.t.Fatalf("testsrv: PublishParams.Codec %q: want \"vp8\" or \"h264\"", pp.Codec)
	}
	if pp.Color != "" && !colorRE.MatchString(pp.Color) {
		p.t.Fatalf("testsrv: PublishParams.Color %q: want #rrggbb", pp.Color)
	}
	if pp.WHIP == "" {
		p.t.Fatal("testsrv: PublishParams.WHIP is empty")
	}
	v := url.Values{}
	v.Set("id", idOr(pp.ID))
	v.Set("whip", pp.WHIP)
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	num := func(k string, n int) {
		if n > 0 {
			v.Set(k, strconv.Itoa(n))
		}
	}
	set("token", pp.Token)
	set("codec", pp.Codec)
	set("color", pp.Color)
	num("width", pp.Width)
	num("height", pp.Height)
	num("fps", pp.FPS)
	if pp.Simulcast {
		v.Set("simulcast", "1")
	}
	if pp.Audio {
		v.Set("audio", "1")
	}
	return p.srv.URL + "/?" + v.Encode()
}

// Publish starts Chromium (StartChromium) on the page URL(pp): the waits
// for publisher pp.ID then also fail as soon as that browser exits.
func (p *WHIPPage) Publish(t testing.TB, pp PublishParams) *Chromium {
	t.Helper()
	c := StartChromium(t, p.URL(pp))
	p.mu.Lock()
	p.browsers[idOr(pp.ID)] = c
	p.mu.Unlock()
	return c
}

func idOr(id string) string {
	if id == "" {
		return "pub"
	}
	return id
}

// Reports returns the reports received so far from the publisher id, in
// order.
func (p *WHIPPage) Reports(id string) []Report {
	id = idOr(id)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Report
	for _, r := range p.reports {
		if r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

// ErrPublish is wrapped by the errors of WaitStatus and WaitReport when the
// page reported an "error" or a "failed" connection.
var ErrPublish = errors.New("testsrv: WHIP publisher failed")

// WaitReport waits until the publisher id has sent a report for which
// match returns true, looking at every report since the page loaded, and
// returns that report. It fails early with an error wrapping ErrPublish
// when the page reports "error" or "failed" (unless match accepts that
// report), and with an error listing the reports received when ctx ends.
// It may be called from any goroutine.
func (p *WHIPPage) WaitReport(ctx context.Context, id string, match func(Report) bool) (Report, error) {
	return p.wait(ctx, idOr(id), match, true)
}

func (p *WHIPPage) wait(ctx context.Context, id string, match func(Report) bool, failEarly bool) (Report, error) {
	browserExited := false
	for {
		p.mu.Lock()
		changed := p.changed
		browser := p.browsers[id]
		p.mu.Unlock()
		var exited <-chan struct{} // nil: no browser to watch
		if browser != nil {
			exited = browser.proc.done
		}
		mine := p.Reports(id)
		for _, r := range mine {
			if match(r) {
				return r, nil
			}
			if failEarly && (r.Status == "error" || r.Status == "failed") {
				return r, fmt.Errorf("%w: %s", ErrPublish, r)
			}
		}
		if browserExited {
			return Report{}, fmt.Errorf("testsrv: publisher %q: %s; %w", id, summary(mine), browser.exitError())
		}
		select {
		case <-changed:
		case <-exited:
			browserExited = true // look at the last reports once more
		case <-ctx.Done():
			return Report{}, fmt.Errorf("testsrv: publisher %q: %w; %s", id, ctx.Err(), summary(mine))
		}
	}
}

// WaitStatus waits for the first report of the publisher id whose Status
// is want, as WaitReport does.
func (p *WHIPPage) WaitStatus(ctx context.Context, id, want string) (Report, error) {
	r, err := p.WaitReport(ctx, id, func(r Report) bool { return r.Status == want })
	if err != nil {
		return r, fmt.Errorf("waiting for %q: %w", want, err)
	}
	return r, nil
}

// Unpublish orders the publisher id to end its WHIP session: the page
// sends DELETE to the session's Location (with the token), closes its
// RTCPeerConnection and reports "stopped", with the DELETE's HTTPStatus
// (none when the POST had not succeeded). Unpublish waits at most 5 s for
// that report and returns it. It may be called from any goroutine, and
// again: a second call returns the same report.
func (p *WHIPPage) Unpublish(id string) (Report, error) {
	id = idOr(id)
	ch := p.unpublishChan(id)
	p.mu.Lock()
	select {
	case <-ch:
	default:
		close(ch)
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), unpublishTimeout)
	defer cancel()
	r, err := p.wait(ctx, id, func(r Report) bool { return r.Status == "stopped" }, false)
	if err != nil {
		return r, fmt.Errorf("unpublishing: %w", err)
	}
	return r, nil
}

// summary lists the statuses of reports, the last one in full.
func summary(rs []Report) string {
	if len(rs) == 0 {
		return "no report from the page (did Chromium load it? see its output)"
	}
	var st []string
	for _, r := range rs {
		if len(st) == 0 || st[len(st)-1] != r.Status || r.Status != "stats" {
			st = append(st, r.Status)
		}
	}
	return fmt.Sprintf("reports: %s; last: %s", strings.Join(st, ", "), rs[len(rs)-1])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
