package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"sync"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/message"
)

// RTMP(S) publishing: an encoder (OBS, ffmpeg, hardware) connects to
// rtmp[s]://host/app/<streamKey>, and the stream key names an ingest
// configuration ([IngestKeys]): the publish becomes that configuration's
// participant on its stage. Before the publish command is accepted a
// connection may hold at most rtmpPreAuthBytes of input and
// Config.RTMPHandshakeTimeout of time, and at most Config.RTMPMaxPending
// connections are in that state at once. The server takes publishers
// only: a play request is refused.

// rtmpPreAuthBytes bounds what a connection may send before its stream key
// is accepted: the handshake (3,073 bytes), connect, createStream and
// publish commands take a few KiB.
const rtmpPreAuthBytes = 64 << 10

// rtmpServer holds the RTMP(S) listeners and connections of a Server.
type rtmpServer struct {
	mu        sync.Mutex
	listeners map[net.Listener]bool
	conns     map[net.Conn]bool
	pending   int // connections not yet publishing
	closed    bool
	wg        sync.WaitGroup // connection goroutines
}

// ServeRTMP accepts RTMP publishers on ln until ln fails or the Server
// closes; secure tells that ln is a TLS listener (RTMPS: participants'
// protocol "RTMPS", and only such connections may use an ingest
// configuration without insecureIngest). It returns nil when the Server
// closed it.
func (s *Server) ServeRTMP(ln net.Listener, secure bool) error {
	r := &s.rtmp
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		ln.Close()
		return nil
	}
	if r.listeners == nil {
		r.listeners = map[net.Listener]bool{}
	}
	r.listeners[ln] = true
	r.mu.Unlock()
	proto := "RTMP"
	if secure {
		proto = "RTMPS"
	}
	s.log.Info("RTMP ingest listening", "addr", ln.Addr().String(), "protocol", proto)
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			r.mu.Lock()
			closed := r.closed
			delete(r.listeners, ln)
			r.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("RTMP accept failed; retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("ingest: RTMP accept on %s: %w", ln.Addr(), err)
		}
		delay = 0
		s.serveRTMPConn(c, proto)
	}
}

// serveRTMPConn runs an accepted connection in its own goroutine, unless
// it is over the cap or the server is closing (then it is closed at
// once); done is closed when it ends.
func (s *Server) serveRTMPConn(c net.Conn, proto string) (done chan struct{}) {
	done = make(chan struct{})
	if !s.rtmpAdmit(c) {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		defer s.rtmp.wg.Done()
		defer s.rtmpDone(c)
		s.handleRTMP(c, proto)
	}()
	return done
}

// rtmpAdmit registers a new connection, or closes it (and counts it) when
// the server is closing or too many connections are not yet publishing.
func (s *Server) rtmpAdmit(c net.Conn) bool {
	r := &s.rtmp
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.pending >= s.cfg.RTMPMaxPending {
		c.Close()
		s.metrics.rtmpConns.WithLabelValues("over_cap").Inc()
		s.log.Warn("RTMP connection refused: too many connections not yet publishing", "remote", c.RemoteAddr().String(), "max_pending", s.cfg.RTMPMaxPending)
		return false
	}
	r.pending++
	if r.conns == nil {
		r.conns = map[net.Conn]bool{}
	}
	r.conns[c] = true
	r.wg.Add(1)
	return true
}

// rtmpPublishing moves a connection out of the pending count.
func (s *Server) rtmpPublishing() {
	s.rtmp.mu.Lock()
	s.rtmp.pending--
	s.rtmp.mu.Unlock()
}

func (s *Server) rtmpDone(c net.Conn) {
	c.Close()
	s.rtmp.mu.Lock()
	delete(s.rtmp.conns, c)
	s.rtmp.mu.Unlock()
}

// closeRTMP closes the listeners and every connection, and waits for
// their goroutines.
func (s *Server) closeRTMP() {
	r := &s.rtmp
	r.mu.Lock()
	r.closed = true
	for ln := range r.listeners {
		ln.Close()
	}
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// rtmpConn is an RTMP connection's transport: reads limited to a budget
// until the publish is accepted, and the first read error kept, which
// tells a broken connection from a malformed message.
type rtmpConn struct {
	net.Conn
	mu      sync.Mutex
	budget  int64 // bytes left to read; < 0: unlimited
	readErr error
	read    int64
}

var errPreAuthBudget = errors.New("more input than a publish needs before its stream key is accepted")

func (c *rtmpConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	budget := c.budget
	c.mu.Unlock()
	if budget == 0 {
		return 0, errPreAuthBudget
	}
	if budget > 0 && int64(len(b)) > budget {
		b = b[:budget]
	}
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.read += int64(n)
	if c.budget > 0 {
		c.budget -= int64(n)
	}
	if err != nil && c.readErr == nil {
		c.readErr = err
	}
	c.mu.Unlock()
	return n, err
}

// unlimit lifts the pre-authentication budget.
func (c *rtmpConn) unlimit() {
	c.mu.Lock()
	c.budget = -1
	c.mu.Unlock()
}

// broken returns the transport's first read error, if any.
func (c *rtmpConn) broken() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// bytesRead returns how much was read.
func (c *rtmpConn) bytesRead() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read
}

// handleRTMP runs one connection: handshake, connect and publish with a
// stream key, then the publish itself.
func (s *Server) handleRTMP(c net.Conn, proto string) {
	log := s.log.With("remote", c.RemoteAddr().String(), "protocol", proto)
	rc := &rtmpConn{Conn: c, budget: rtmpPreAuthBytes}
	_ = c.SetDeadline(time.Now().Add(s.cfg.RTMPHandshakeTimeout))
	sc := &gortmplib.ServerConn{RW: rc}
	pending := true
	defer func() {
		if pending {
			s.rtmpPublishing()
		}
	}()
	if err := sc.Initialize(); err != nil {
		s.metrics.rtmpConns.WithLabelValues("handshake_failed").Inc()
		log.Info("RTMP connection ended before connect", "err", err)
		return
	}
	if err := sc.AcceptConn(); err != nil {
		s.metrics.rtmpConns.WithLabelValues("handshake_failed").Inc()
		log.Info("RTMP connection ended before publish", "err", err)
		return
	}
	if !sc.Publish {
		s.metrics.rtmpConns.WithLabelValues("play_refused").Inc()
		log.Info("RTMP play refused: this server takes publishers only")
		_ = reject(sc, "this server takes publishers only: play the stage's compositions from their channels or recordings")
		return
	}
	key := path.Base(sc.URL.Path)
	cfg, ok := s.ingest.lookup(key)
	if !ok || cfg.StageARN == "" {
		// Nothing names a stage or participant: no participant event.
		s.metrics.rtmpConns.WithLabelValues("invalid_stream_key").Inc()
		log.Warn("RTMP publish refused: unknown stream key, or its ingest configuration has no stage", "key", redactKey(key))
		_ = reject(sc, "unknown stream key")
		return
	}
	log = log.With("stage", cfg.StageARN, "participant", cfg.ParticipantID)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RTMPHandshakeTimeout)
	where, err := s.route(ctx, cfg.StageARN, proto)
	cancel()
	if where != "" || err != nil {
		// RTMP has no redirect clients follow: the publisher must use the
		// stage's endpoints.rtmp(s), which name its server.
		s.metrics.rtmpConns.WithLabelValues("other_node").Inc()
		log.Warn("RTMP publish refused: another server serves the stage (see the stage's endpoints)", "whip_url", where, "err", err)
		_ = reject(sc, "another server serves this stage: publish to the stage's endpoints.rtmp or endpoints.rtmps")
		return
	}
	st := s.Stage(cfg.StageARN)
	refuse := func(code, result, why string) {
		s.metrics.rtmpConns.WithLabelValues(result).Inc()
		log.Warn("RTMP publish refused", "error_code", code, "reason", why)
		if st != nil && code != "" {
			st.event(EventPublishError, cfg.ParticipantID, code)
		}
		_ = reject(sc, why)
	}
	if st == nil {
		refuse("", "stage_closed", "the stage is not open")
		return
	}
	if proto == "RTMP" && !cfg.Insecure {
		refuse(ErrorInvalidProtocol, "invalid_protocol", "this stream key takes RTMPS only (its ingest configuration's insecureIngest is false)")
		return
	}
	pub := newRTMPPublish(s, st, cfg, proto, rc, sc, log)
	defer close(pub.done)
	if !s.ingest.claim(cfg.ARN, pub.end) {
		refuse(ErrorReuseOfStreamKey, "reuse_of_stream_key", "the stream key is publishing already")
		return
	}
	defer s.ingest.release(cfg.ARN)
	if err := sc.AcceptAction(); err != nil {
		s.metrics.rtmpConns.WithLabelValues("handshake_failed").Inc()
		log.Info("RTMP connection ended at publish", "err", err)
		return
	}
	rc.unlimit()
	pending = false
	s.rtmpPublishing()
	s.metrics.rtmpConns.WithLabelValues("published").Inc()
	pub.run()
}

// reject refuses a publish (or a play) with the reason, which the client
// shows (ffmpeg: "Server error: <reason>"). gortmplib's RejectAction says
// "authentication failed" whatever the reason, so a publisher could not
// tell a wrong key from plain RTMP to an RTMPS-only key. Like nginx-rtmp,
// the status has transaction id 0.
func reject(sc *gortmplib.ServerConn, reason string) error {
	code := "NetStream.Publish.Unauthorized"
	if !sc.Publish {
		code = "NetStream.Play.Failed"
	}
	return sc.Write(&message.CommandAMF0{
		ChunkStreamID:   5,
		MessageStreamID: 0x1000000,
		Name:            "onStatus",
		Arguments: []any{nil, amf0.Object{
			{Key: "level", Value: "error"},
			{Key: "code", Value: code},
			{Key: "description", Value: reason},
		}},
	})
}

// redactKey shows a stream key's start only: enough to tell keys apart in
// logs, too little to publish with.
func redactKey(key string) string {
	if len(key) > 12 {
		return key[:12] + "…"
	}
	return key
}
