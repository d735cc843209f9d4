package testsrv

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/hlsjs"
)

//go:embed hls_player.html
var hlsPlayerHTML []byte

const (
	// DefaultPlaybackRate is the rate HLSPlayer.Play plays at when
	// HLSPlayer.Rate is 0.
	DefaultPlaybackRate = 8
	// playTimeout bounds, on top of the recording's duration at the
	// playback rate, how long Play waits for the page to end: starting
	// Chromium, loading the playlist, buffering.
	playTimeout = 30 * time.Second
)

// HLSPlayer is an HTTP server on 127.0.0.1 that serves the files under a
// directory, hls.js and a page that plays an HLS playlist with it (run by
// Play in headless Chromium), and collects what the page reports.
//
// The files are served read-only (GET and HEAD) below /media/, from the
// directory only (a path cannot leave it, not even by a symbolic link),
// with the content types of HLS: application/vnd.apple.mpegurl for
// .m3u8, video/mp4 for .mp4 and .m4s, video/mp2t for .ts, audio/aac for
// .aac. A directory is not listed.
type HLSPlayer struct {
	// Rate is the playback rate Play plays at; 0 means
	// DefaultPlaybackRate. Chromium plays 1 to 16 (it mutes audio above
	// 4, which the page mutes anyway).
	Rate float64

	root *os.Root
	srv  *httptest.Server

	mu      sync.Mutex
	results map[string]PlayResult // the last report of each play, by id
	changed chan struct{}         // closed and replaced on every report
	plays   int
}

// PlayResult is what the player page saw while playing a playlist with
// hls.js: its last report, sent when the video ended, when hls.js
// reported a fatal error, or, if Play gave up waiting (TimedOut), the
// last one before.
type PlayResult struct {
	// Playlist is the playlist's URL path on the server.
	Playlist string `json:"playlist"`
	// Rate is the playback rate.
	Rate float64 `json:"rate"`
	// HLSJS is the version of hls.js that played.
	HLSJS string `json:"hlsVersion"`
	// Levels are the variants of MANIFEST_PARSED: those of a
	// multivariant playlist with their attributes; one level with no
	// size nor codecs for a media playlist.
	Levels []HLSLevel `json:"levels"`
	// Codecs are the codecs of the buffers hls.js created
	// (BUFFER_CODECS), as parsed from the media and spelt by hls.js:
	// "mp4a.40.2,avc1.64000D" for one muxed fMP4 buffer.
	Codecs string `json:"codecs"`
	// Errors are hls.js's ERROR events in order, fatal or not, and the
	// page's own failures (Type "page", always fatal): hls.js missing or
	// unsupported, play() refused, a script error.
	Errors []HLSError `json:"errors"`
	// Duration is the video element's duration in seconds (0 while
	// unknown), VideoWidth and VideoHeight its intrinsic size, and
	// CurrentTime how far playback got.
	Duration    float64 `json:"duration"`
	VideoWidth  int     `json:"videoWidth"`
	VideoHeight int     `json:"videoHeight"`
	CurrentTime float64 `json:"currentTime"`
	// Ended reports the video element's ended event.
	Ended bool `json:"ended"`
	// TotalVideoFrames and DroppedVideoFrames are the element's
	// getVideoPlaybackQuality(): the frames decoded, and those of them
	// not shown in time.
	TotalVideoFrames   int `json:"totalVideoFrames"`
	DroppedVideoFrames int `json:"droppedVideoFrames"`
	// FragmentsLoaded counts FRAG_LOADED events, FragmentsPlayed
	// FRAG_CHANGED ones (the fragment playing changed), and
	// Discontinuities the changes of frag.cc (the discontinuity
	// sequence) between consecutive FRAG_CHANGED.
	FragmentsLoaded int `json:"fragmentsLoaded"`
	FragmentsPlayed int `json:"fragmentsPlayed"`
	Discontinuities int `json:"discontinuities"`
	// MediaError is the video element's MediaError ("code N: message"),
	// if any.
	MediaError string `json:"mediaError"`
	// Stalled reports that neither currentTime nor loading moved for
	// 10 s before the end: the player waits for data that does not
	// come, or for an end of stream it does not see. Done
	// reports that the page finished (ended, fatal error or stalled);
	// TimedOut that Play stopped waiting before.
	Stalled  bool `json:"stalled"`
	Done     bool `json:"done"`
	TimedOut bool `json:"-"`
	// Elapsed is the wall time of Play, Chromium's start included.
	Elapsed time.Duration `json:"-"`
}

// HLSLevel is one variant of a parsed playlist, with the RESOLUTION,
// BANDWIDTH and CODECS of its EXT-X-STREAM-INF (zero and empty for the
// one level of a media playlist).
type HLSLevel struct {
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Bitrate int    `json:"bitrate"`
	Codecs  string `json:"codecs"`
}

// HLSError is one hls.js ERROR event: its type ("networkError",
// "mediaError", "muxError", "otherError", or "page" for the page's own
// failures), details ("fragLoadError", "bufferAppendError", …), whether
// it was fatal, and the reason: HTTP status, message and URL, as known.
type HLSError struct {
	Type    string `json:"type"`
	Details string `json:"details"`
	Fatal   bool   `json:"fatal"`
	Reason  string `json:"reason"`
}

func (e HLSError) String() string {
	s := e.Type + "/" + e.Details
	if e.Fatal {
		s += " (fatal)"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Fatal returns the first fatal error, if any.
func (r PlayResult) Fatal() (HLSError, bool) {
	for _, e := range r.Errors {
		if e.Fatal {
			return e, true
		}
	}
	return HLSError{}, false
}

func (r PlayResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %gx: ", r.Playlist, r.Rate)
	_, fatal := r.Fatal()
	switch {
	case r.Ended:
		b.WriteString("ended")
	case fatal:
		b.WriteString("failed")
	case r.Stalled:
		b.WriteString("stalled")
	case r.TimedOut:
		b.WriteString("timed out")
	default:
		b.WriteString("stopped")
	}
	fmt.Fprintf(&b, " at %.3f/%.3f s, %dx%d, %d frames (%d dropped), fragments %d loaded %d played, %d discontinuities",
		r.CurrentTime, r.Duration, r.VideoWidth, r.VideoHeight, r.TotalVideoFrames, r.DroppedVideoFrames,
		r.FragmentsLoaded, r.FragmentsPlayed, r.Discontinuities)
	fmt.Fprintf(&b, ", codecs %q", r.Codecs)
	var levels []string
	for _, l := range r.Levels {
		levels = append(levels, fmt.Sprintf("%dx%d %q %d b/s", l.Width, l.Height, l.Codecs, l.Bitrate))
	}
	fmt.Fprintf(&b, ", levels [%s]", strings.Join(levels, "; "))
	if len(r.Errors) > 0 {
		var errs []string
		for _, e := range r.Errors {
			errs = append(errs, e.String())
		}
		fmt.Fprintf(&b, ", errors [%s]", strings.Join(errs, "; "))
	}
	if r.MediaError != "" {
		b.WriteString(", media error " + r.MediaError)
	}
	fmt.Fprintf(&b, ", hls.js %s, in %v", r.HLSJS, r.Elapsed.Round(time.Millisecond))
	return b.String()
}

// StartHLSPlayer starts the player server for the files under root, with
// the hls.js the binary vendors (internal/hlsjs). It is closed by t.Cleanup. With -short it skips the
// test, as StartChromium would.
func StartHLSPlayer(t testing.TB, root string) *HLSPlayer {
	t.Helper()
	skipShort(t, "Chromium and hls.js")
	js := hlsjs.Script
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatalf("testsrv: %v", err)
	}
	p := &HLSPlayer{root: r, results: map[string]PlayResult{}, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(hlsPlayerHTML)
	})
	mux.HandleFunc("GET /hls.min.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(js)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /media/{file...}", p.serveMedia)
	mux.HandleFunc("POST /report", p.serveReport)
	p.srv = httptest.NewServer(mux) // 127.0.0.1:0
	t.Cleanup(func() {
		p.srv.Close()
		_ = p.root.Close()
	})
	return p
}

// URL is the server's address, http://127.0.0.1:port; a file under root
// is at URL()+"/media/"+its slash-separated path.
func (p *HLSPlayer) URL() string { return p.srv.URL }

// mediaTypes are the content types of the files served, by extension.
var mediaTypes = map[string]string{
	".m3u8": "application/vnd.apple.mpegurl",
	".mp4":  "video/mp4",
	".m4s":  "video/mp4",
	".ts":   "video/mp2t",
	".aac":  "audio/aac",
}

// serveMedia serves the file under root that the path names (GET, HEAD,
// ranges), or 404.
func (p *HLSPlayer) serveMedia(w http.ResponseWriter, r *http.Request) {
	name := path.Clean("/" + r.PathValue("file"))[1:]
	if name == "" || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	f, err := p.root.Open(filepath.FromSlash(name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	ct := mediaTypes[strings.ToLower(path.Ext(name))]
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

func (p *HLSPlayer) serveReport(w http.ResponseWriter, r *http.Request) {
	var res struct {
		ID string `json:"id"`
		PlayResult
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&res); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	if !p.results[res.ID].Done { // nothing after the last report
		p.results[res.ID] = res.PlayResult
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Play plays playlist, a slash-separated path under root, with hls.js in
// headless Chromium (StartChromium), muted, at Rate, and returns what the
// page saw once the video ended or hls.js reported a fatal error. A play
// waits at most the playlist's duration at its rate plus 30 s; then it
// returns the last report with TimedOut set. It fails the test if the
// browser exits or the page never reports. Each Play starts a browser of
// its own and stops it before returning; plays may run at once.
//
// A play faster than real time that stalls (no progress for 10 s, no
// fatal error) is played again at 1×, as a viewer would, and that result
// returned, so Play can take that much longer: on a loaded machine Chromium's pipeline was seen to stop for good at 8×
// with media buffered ahead (hls.js: bufferStalledError), a stall of the
// rate, not of the recording. Both results are logged.
func (p *HLSPlayer) Play(t testing.TB, playlist string) PlayResult {
	t.Helper()
	rate := p.Rate
	if rate == 0 {
		rate = DefaultPlaybackRate
	}
	res := p.play(t, playlist, rate)
	if _, fatal := res.Fatal(); res.Stalled && !fatal && rate > 1 {
		t.Logf("testsrv: %s stalled; playing it again at 1x: %s", playlist, res)
		res = p.play(t, playlist, 1)
		t.Logf("testsrv: at 1x: %s", res)
	}
	return res
}

// play is one Play at rate.
func (p *HLSPlayer) play(t testing.TB, playlist string, rate float64) PlayResult {
	t.Helper()
	p.mu.Lock()
	p.plays++
	id := strconv.Itoa(p.plays)
	p.mu.Unlock()
	src := (&url.URL{Path: "/media/" + strings.TrimPrefix(playlist, "/")}).EscapedPath()
	v := url.Values{"id": {id}, "src": {src}, "rate": {strconv.FormatFloat(rate, 'g', -1, 64)}}

	start := time.Now()
	c := StartChromium(t, p.srv.URL+"/?"+v.Encode())
	defer c.Stop()
	res, got, err := p.wait(id, c, start, rate)
	res.Elapsed = time.Since(start)
	if err != nil {
		t.Fatalf("testsrv: playing %s: %v", playlist, err)
	}
	if !got {
		t.Fatalf("testsrv: playing %s: no report from the page within %v (did Chromium load it? see its output)", playlist, playTimeout)
	}
	if res.TimedOut {
		t.Logf("testsrv: gave up waiting for %s to end: %s", playlist, res)
	}
	return res
}

// wait waits for the last report of play id, or for its deadline, which
// moves as the page reports the duration. got reports whether the page
// reported at all; err that the browser exited first.
func (p *HLSPlayer) wait(id string, c *Chromium, start time.Time, rate float64) (res PlayResult, got bool, err error) {
	for {
		p.mu.Lock()
		res, got = p.results[id]
		changed := p.changed
		p.mu.Unlock()
		if res.Done {
			return res, true, nil
		}
		deadline := start.Add(playTimeout + time.Duration(res.Duration/rate*float64(time.Second)))
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-changed:
		case <-c.proc.done:
			timer.Stop()
			return res, got, c.exitError()
		case <-timer.C:
			res.TimedOut = true
			return res, got, nil
		}
		timer.Stop()
	}
}
