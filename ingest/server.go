package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/internal/pionlog"
)

var (
	errStageFull   = errors.New("stage is full")
	errStageClosed = errors.New("stage closed")
)

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	// Key verifies participant tokens. Required.
	Key *TokenKey
	// UDPAddr is the one UDP address every session's media uses (ICE UDP
	// mux); default "127.0.0.1:0" when Loopback, else ":0". Use a fixed
	// port in production (firewall rules).
	UDPAddr string
	// PublicIPs, if set, are announced as the host candidates' addresses
	// (1:1 NAT: the server behind a public address).
	PublicIPs []string
	// Loopback offers loopback candidates (a publisher on the same
	// machine, tests).
	Loopback bool
	// LoopbackOnly ignores every datagram that does not come from the
	// loopback network (tests, single-machine setups): the server then
	// never sends to any other address.
	LoopbackOnly bool
	// MaxPublishers per stage; default 12 (IVS).
	MaxPublishers int
	// MaxSessions caps the WHIP sessions held at once, over all stages;
	// default 256, and never more than the open-file limit allows
	// ((RLIMIT_NOFILE − 256) / 2). An offer over it is answered 503.
	MaxSessions int
	// MaxHalfOpen caps the sessions admitted and not yet connected (ICE
	// and DTLS pending, at most ConnectTimeout each); default 32, at most
	// MaxSessions. An offer over it is answered 503.
	MaxHalfOpen int
	// MaxBodyBytes bounds a WHIP request body; default 64 KiB.
	MaxBodyBytes int64
	// MaxVideoPixels: video with more pixels per picture is not decoded and
	// the participant is rendered audio-only; default 1920×1080.
	MaxVideoPixels int
	// JitterWait is how long a missing packet is waited for (NACK
	// retransmission) before the frame is given up; default 150 ms.
	JitterWait time.Duration
	// StaleAfter marks a participant's video stopped when no picture was
	// decoded for this long; default 1 s.
	StaleAfter time.Duration
	// ReconnectWindow: a participant that publishes again within this long
	// of its last session's end keeps its place in the arrival order (and
	// so its tile in a grid); default 10 s, negative turns it off.
	ReconnectWindow time.Duration
	// ConnectTimeout bounds ICE + DTLS after the answer (how long a
	// session may stay half-open); default 15 s.
	ConnectTimeout time.Duration
	// ICEDisconnectedTimeout and ICEFailedTimeout: how long without
	// connectivity before the connection counts as disconnected, then
	// failed (and the session ends); defaults 5 s and 10 s.
	ICEDisconnectedTimeout, ICEFailedTimeout time.Duration
	// TokenSkew is the clock skew allowed on a token's iat; default 1 min.
	TokenSkew time.Duration
	// RTMPHandshakeTimeout bounds an RTMP(S) connection's handshake,
	// connect and publish commands, and then the wait for its first audio
	// and video; default 10 s.
	RTMPHandshakeTimeout time.Duration
	// RTMPReadTimeout ends an RTMP(S) publish that sends nothing for this
	// long; default 10 s.
	RTMPReadTimeout time.Duration
	// RTMPMaxPending caps the RTMP(S) connections not yet publishing
	// (their stream key not yet accepted); default 16. Over it a new
	// connection is closed at once, and counted.
	RTMPMaxPending int
	// RTMPMaxBitrate ends an RTMP(S) publish whose input exceeds it over 5 s
	// (BITRATE_EXCEEDED), in bits per second; default 8,500,000 (IVS).
	RTMPMaxBitrate int64
	// RTMPMaxDuration ends an RTMP(S) publish after this long
	// (STREAM_DURATION_EXCEEDED); default 24 h (IVS).
	RTMPMaxDuration time.Duration
	// Route, when set, places a stage among several servers before a
	// publisher is admitted to it (after the token or stream key is
	// checked; protocol is "WHIP", "RTMP" or "RTMPS"): "" when this server
	// serves the stage (and has opened it), else the WHIP endpoint URL of
	// the server that does — a WHIP offer is redirected there (307), an
	// RTMP(S) publish refused. Its error refuses the publisher (503: no
	// server has room). Nil: every stage is served here.
	Route func(ctx context.Context, stageARN, protocol string) (whipURL string, err error)
	// DecoderThreads per video decoder; default 1.
	DecoderThreads int
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the ingest metrics; nil registers none.
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() (Config, error) {
	if c.Key == nil {
		return c, errors.New("ingest: Config.Key is required")
	}
	if c.UDPAddr == "" {
		c.UDPAddr = ":0"
		if c.Loopback {
			c.UDPAddr = "127.0.0.1:0"
		}
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.JitterWait, 150*time.Millisecond)
	def(&c.StaleAfter, time.Second)
	if c.ReconnectWindow == 0 {
		c.ReconnectWindow = 10 * time.Second
	}
	def(&c.ConnectTimeout, 15*time.Second)
	def(&c.ICEDisconnectedTimeout, 5*time.Second)
	def(&c.ICEFailedTimeout, 10*time.Second)
	def(&c.TokenSkew, time.Minute)
	def(&c.RTMPHandshakeTimeout, 10*time.Second)
	def(&c.RTMPReadTimeout, 10*time.Second)
	def(&c.RTMPMaxDuration, 24*time.Hour)
	if c.RTMPMaxPending <= 0 {
		c.RTMPMaxPending = 16
	}
	if c.RTMPMaxBitrate <= 0 {
		c.RTMPMaxBitrate = 8_500_000
	}
	if c.MaxPublishers <= 0 {
		c.MaxPublishers = 12
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.MaxVideoPixels <= 0 {
		c.MaxVideoPixels = 1920 * 1080
	}
	if c.DecoderThreads <= 0 {
		c.DecoderThreads = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Server is the ingest side of Tessera: the WHIP endpoint (Handler), the
// participant sessions and the stages they publish to. The control plane
// opens a stage when it exists and closes it when it is deleted.
type Server struct {
	cfg     Config
	log     *slog.Logger
	api     *webrtc.API
	udp     net.PacketConn
	mux     ice.UDPMux
	batch   *batchConn // the UDP socket under mux
	epoch   time.Time
	metrics *metrics
	caps    admission
	keys    PublicKeys // imported public keys for self-signed tokens
	ingest  IngestKeys // ingest configurations for RTMP(S) publishers
	rtmp    rtmpServer // RTMP(S) listeners and connections

	mu       sync.Mutex
	stages   map[string]*Stage
	sessions map[string]*session // by session id
	closed   bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// New starts a Server: it binds the UDP port and starts the stage watchdog.
// Close stops it.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenPacket("udp4", cfg.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("ingest: listening on UDP %s: %w", cfg.UDPAddr, err)
	}
	nofile := openFileLimit()
	lowered := cfg.capSessions(nofile)
	s := &Server{
		cfg: cfg, log: cfg.Logger.With("component", "ingest"), udp: udp, epoch: time.Now(),
		metrics: newMetrics(cfg.Registerer), stages: map[string]*Stage{}, sessions: map[string]*session{},
		stop: make(chan struct{}),
	}
	s.caps = admission{maxSessions: cfg.MaxSessions, maxHalfOpen: cfg.MaxHalfOpen, metrics: s.metrics, log: s.log}
	if lowered > 0 {
		s.log.Warn("WHIP session cap lowered to what the open-file limit allows", "asked", lowered,
			"max_sessions", cfg.MaxSessions, "open_file_limit", nofile)
	}
	s.log.Info("WHIP session caps", "max_sessions", cfg.MaxSessions, "max_half_open", cfg.MaxHalfOpen,
		"connect_timeout", cfg.ConnectTimeout.String(), "open_file_limit", nofile)
	s.batch, err = newBatchConn(udp.(*net.UDPConn), s.log, s.metrics.sendFailures)
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("ingest: UDP %s: %w", cfg.UDPAddr, err)
	}
	var conn net.PacketConn = s.batch
	if cfg.LoopbackOnly {
		conn = loopbackConn{conn}
	}
	s.mux = webrtc.NewICEUDPMux(pionlog.New(s.log).NewLogger("ice"), conn)
	if s.api, err = newAPI(cfg, s.mux, s.log); err != nil {
		s.mux.Close()
		return nil, err
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(participantCollector{s})
	}
	s.wg.Add(1)
	go s.watchdog()
	s.log.Info("ingest listening", "udp", udp.LocalAddr().String(), "loopback", cfg.Loopback, "public_ips", cfg.PublicIPs)
	return s, nil
}

// PublicKeys returns the set of imported public keys that participant
// tokens may be signed with besides Config.Key (filled by the control
// plane).
func (s *Server) PublicKeys() *PublicKeys { return &s.keys }

// IngestKeys returns the ingest configurations that RTMP(S) publishers'
// stream keys are checked against; the control plane keeps it current.
func (s *Server) IngestKeys() *IngestKeys { return &s.ingest }

// ICEMux is the UDP mux every session's media goes through: other WebRTC
// endpoints of the process (the WHEP views) share its one port. It closes
// with the server.
func (s *Server) ICEMux() ice.UDPMux { return s.mux }

// BatchWrites opens a batch of media datagrams: until the function it
// returns is called (by every batch open), datagrams are queued and then
// sent grouped by destination, with UDP segmentation offload (batch.go).
// A live view's hub sends each frame to all its viewers in one batch.
func (s *Server) BatchWrites() (end func()) { return s.batch.Batch() }

// UDPAddr returns the address the media port is bound to.
func (s *Server) UDPAddr() net.Addr { return s.udp.LocalAddr() }

// Now returns the server clock: time since the server started, monotonic.
// Decoded frames carry their capture time on this clock.
func (s *Server) Now() time.Duration { return time.Since(s.epoch) }

// OpenStage makes a stage accept publishers (idempotent: an open stage is
// returned as it is).
func (s *Server) OpenStage(arn string, opts StageOptions) (*Stage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("ingest: server closed")
	}
	if st := s.stages[arn]; st != nil {
		return st, nil
	}
	if opts.MaxPublishers <= 0 {
		opts.MaxPublishers = s.cfg.MaxPublishers
	}
	st := &Stage{srv: s, arn: arn, opts: opts, byID: map[string]*Participant{}, sessions: map[string]publishConn{}}
	s.stages[arn] = st
	return st, nil
}

// Stage returns an open stage, or nil.
func (s *Server) Stage(arn string) *Stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stages[arn]
}

// openStages returns the open stages.
func (s *Server) openStages() []*Stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.stages))
}

// Publishers returns the participants publishing on every open stage now.
func (s *Server) Publishers() []ParticipantInfo {
	var out []ParticipantInfo
	for _, st := range s.openStages() {
		out = append(out, st.Roster()...)
	}
	return out
}

// CloseStage disconnects everybody on the stage and forgets it.
func (s *Server) CloseStage(arn string) {
	s.mu.Lock()
	st := s.stages[arn]
	delete(s.stages, arn)
	s.mu.Unlock()
	if st != nil {
		st.close()
	}
}

// Close ends every session (WHIP and RTMP), closes the RTMP listeners and
// releases the UDP port; ctx bounds the wait.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	stages := make([]*Stage, 0, len(s.stages))
	for _, st := range s.stages {
		stages = append(stages, st)
	}
	s.stages = map[string]*Stage{}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		for _, st := range stages {
			st.close()
		}
		s.closeRTMP()
		close(s.stop)
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("ingest: close: %w", ctx.Err())
	}
	s.mux.Close()
	return err
}

// watchdog runs the stages' periodic checks, at least every 250 ms (the
// participants' picture rates are sampled there).
func (s *Server) watchdog() {
	defer s.wg.Done()
	t := time.NewTicker(min(s.cfg.StaleAfter/4, 250*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		now := s.Now()
		for _, st := range s.openStages() {
			st.tick(now)
		}
	}
}

func (s *Server) addSession(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sessions[sess.id] = sess
	s.metrics.sessions.Inc()
	return true
}

func (s *Server) removeSession(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
		s.metrics.sessions.Dec()
	}
}

func (s *Server) session(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}
