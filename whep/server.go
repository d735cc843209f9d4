package whep

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/internal/pionconf"
	"github.com/tessera-media/tessera/internal/pionlog"
)

// Config configures the WHEP server.
type Config struct {
	// Tokens checks viewer tokens. Required.
	Tokens *Tokens
	// Mux is the ICE UDP mux the viewers' media goes through (ingest's,
	// so WHIP and WHEP share one port). Required.
	Mux ice.UDPMux
	// Batch, when set, opens a batch of the socket's sends (ingest's
	// BatchWrites): each frame goes to every viewer in one batch. Nil:
	// every packet is sent on its own.
	Batch func() (end func())
	// Loopback offers loopback candidates; PublicIPs, if set, replace the
	// host candidates' addresses (1:1 NAT), as for WHIP.
	Loopback  bool
	PublicIPs []string
	// MaxViewers caps the viewers of all compositions together (default
	// 200); ConnectTimeout bounds ICE and DTLS after the answer (default
	// 10 s).
	MaxViewers     int
	ConnectTimeout time.Duration
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
}

// Server serves WHEP for the compositions that have a Hub.
type Server struct {
	cfg     Config
	log     *slog.Logger
	api     *webrtc.API
	metrics *metrics

	mu       sync.Mutex
	hubs     map[string]*Hub    // by composition id
	sessions map[string]*viewer // by session id
	closed   bool
}

// maxOffer bounds an SDP offer's size.
const maxOffer = 64 << 10

// New returns a WHEP server.
func New(cfg Config) (*Server, error) {
	if cfg.Tokens == nil || cfg.Mux == nil {
		return nil, errors.New("whep: a token key and an ICE mux are required")
	}
	if cfg.MaxViewers <= 0 {
		cfg.MaxViewers = 200
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "whep"), hubs: map[string]*Hub{}, sessions: map[string]*viewer{}}
	var err error
	if s.api, err = newAPI(cfg, s.log); err != nil {
		return nil, err
	}
	if s.metrics, err = newMetrics(cfg.Registerer, s); err != nil {
		return nil, err
	}
	return s, nil
}

// newAPI builds the viewers' pion API: H.264 (packetization-mode 1; the
// compositions send Main) and Opus, the shared UDP mux and bounded ICE
// and DTLS. The answer offers what pion's default interceptors do (NACK,
// PLI, FIR, REMB and transport-cc feedback; the mid, rid and
// transport-cc header extensions), but a viewer's connection only sends,
// so it has one interceptor, the RTCP sender reports (the players' lip
// sync): NACKs are answered from the hub's history (track.go), kept once
// for all viewers, and nothing is done per packet for statistics,
// receiver reports or congestion feedback that nothing reads.
func newAPI(cfg Config, log *slog.Logger) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"}}
	for _, c := range []struct {
		p webrtc.RTPCodecParameters
		k webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{PayloadType: 102, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: videoFmtp, RTCPFeedback: fb}}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000,
			Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1", RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}}}}, webrtc.RTPCodecTypeAudio},
	} {
		if err := m.RegisterCodec(c.p, c.k); err != nil {
			return nil, fmt.Errorf("whep: registering %s: %w", c.p.MimeType, err)
		}
	}
	err := webrtc.ConfigureSimulcastExtensionHeaders(m)
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		err = errors.Join(err, m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, k))
	}
	if err != nil {
		return nil, fmt.Errorf("whep: header extensions: %w", err)
	}
	reports, err := report.NewSenderInterceptor(report.WithSenderLoggerFactory(pionlog.New(log)))
	if err != nil {
		return nil, fmt.Errorf("whep: interceptors: %w", err)
	}
	ir := &interceptor.Registry{}
	ir.Add(reports)
	se, err := pionconf.SettingEngine(pionconf.Settings{Mux: cfg.Mux, Loopback: cfg.Loopback, PublicIPs: cfg.PublicIPs,
		ICEDisconnected: 5 * time.Second, ICEFailed: 10 * time.Second, Connect: cfg.ConnectTimeout, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("whep: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// Handler serves WHEP: POST /view/{composition id} (the offer) and
// DELETE /view/sessions/{session id}.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /view/{id}", s.watch)
	mux.HandleFunc("DELETE /view/sessions/{id}", s.leave)
	mux.HandleFunc("PATCH /view/sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "DELETE, OPTIONS")
		refuse(w, http.StatusMethodNotAllowed, "trickle ICE and ICE restarts are not supported; send all candidates in the offer")
	})
	mux.HandleFunc("OPTIONS /view/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Accept-Post", "application/sdp")
		w.WriteHeader(http.StatusNoContent)
	})
	return cors(mux)
}

// cors lets pages of another origin watch.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "POST, DELETE, PATCH, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Expose-Headers", "Location")
		next.ServeHTTP(w, r)
	})
}

// refuse answers a request with status and a reason in plain text.
func refuse(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, reason+"\n")
}

// bearer is the request's bearer token.
func bearer(r *http.Request) (string, bool) {
	return strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// watch starts a viewer of a composition.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	token, ok := bearer(r)
	if !ok {
		s.metrics.refused("unauthorized")
		w.Header().Set("WWW-Authenticate", `Bearer realm="whep"`)
		refuse(w, http.StatusUnauthorized, "a viewer token (CreateViewerToken) is required as bearer")
		return
	}
	claims, err := s.cfg.Tokens.Verify(token, time.Now())
	if err != nil || path.Base(claims.Composition) != id {
		if err == nil {
			err = errors.New("the viewer token is for another composition")
		}
		s.metrics.refused("unauthorized")
		refuse(w, http.StatusUnauthorized, err.Error())
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/sdp" {
		s.metrics.refused("bad_request")
		refuse(w, http.StatusUnsupportedMediaType, "Content-Type "+ct+": want application/sdp")
		return
	}
	s.mu.Lock()
	hub := s.hubs[id]
	full := len(s.sessions) >= s.cfg.MaxViewers
	s.mu.Unlock()
	switch {
	case hub == nil:
		s.metrics.refused("not_found")
		refuse(w, http.StatusNotFound, "composition "+id+" is not running here")
		return
	case full:
		s.metrics.refused("full")
		w.Header().Set("Retry-After", "10")
		refuse(w, http.StatusServiceUnavailable, fmt.Sprintf("this server has its %d viewers", s.cfg.MaxViewers))
		return
	}
	offer, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOffer))
	if err != nil {
		s.metrics.refused("bad_request")
		refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the offer is over %d bytes or was cut short", maxOffer))
		return
	}
	v, answer, status, err := hub.addViewer(r.Context(), string(offer), tokenHash(token))
	if err != nil {
		s.metrics.refused("bad_offer")
		refuse(w, status, err.Error())
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		v.close()
		refuse(w, http.StatusServiceUnavailable, "the server is shutting down")
		return
	}
	s.sessions[v.id] = v
	s.mu.Unlock()
	s.metrics.sessions.WithLabelValues("started").Inc()
	s.log.Info("WHEP viewer", "composition", id, "viewers", hub.viewers())
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/view/sessions/"+v.id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// leave ends a viewer's session: its token is the bearer.
func (s *Server) leave(w http.ResponseWriter, r *http.Request) {
	token, _ := bearer(r)
	s.mu.Lock()
	v := s.sessions[r.PathValue("id")]
	s.mu.Unlock()
	sum := tokenHash(token)
	if v == nil || subtle.ConstantTimeCompare(v.token[:], sum[:]) != 1 {
		refuse(w, http.StatusNotFound, "no such session (or not yours)")
		return
	}
	v.close()
	w.WriteHeader(http.StatusOK)
}

// forget drops a viewer's session.
func (s *Server) forget(v *viewer) {
	s.mu.Lock()
	delete(s.sessions, v.id)
	s.mu.Unlock()
}

func tokenHash(t string) [32]byte { return sha256.Sum256([]byte(t)) }

func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Close ends every view and refuses new ones.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	hubs := make([]*Hub, 0, len(s.hubs))
	for _, h := range s.hubs {
		hubs = append(hubs, h)
	}
	s.mu.Unlock()
	for _, h := range hubs {
		h.Close()
	}
}
