package ingest

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// session is one WHIP publishing session: a PeerConnection and the
// participant it feeds. It ends on DELETE, when the connection fails or
// closes, when the participant is disconnected or replaced, when the stage
// closes, or on a fatal media error (B-frames); every goroutine it starts
// ends with it.
type session struct {
	id            string
	participantID string
	srv           *Server
	stage         *Stage
	pc            *webrtc.PeerConnection
	log           *slog.Logger
	p             *Participant
	clock         senderClock // the publisher's clock, shared by its tracks
	held          capHold     // what it holds of the session caps; guarded by srv.caps.mu

	closeOnce sync.Once
	done      chan struct{} // closed when the session is fully torn down
	quit      chan struct{} // closed when the session starts closing
	wg        sync.WaitGroup

	mu        sync.Mutex
	closing   bool          // close has begun: no goroutine starts any more
	tokens    sessionTokens // who may DELETE it or exchange its token
	claims    Claims        // of the latest token (the creating one until an exchange)
	published bool
	video     *videoIn
	pliAt     map[uint32]time.Duration
}

func (s *session) participant() string { return s.participantID }

// newSessionID returns 128 random bits (crypto/rand) in hex: a session's
// id is its URL, unguessable.
func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand crashes the process instead)
	return hex.EncodeToString(b[:])
}

// logID is how a session id appears in logs: its first 8 hex digits, enough
// to tell sessions apart and far too few to reach the session's URL.
func logID(id string) string { return id[:8] }

// admits reports whether a bearer token may act on the session (DELETE,
// token exchange).
func (s *session) admits(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens.admits(token)
}

// latest returns the claims of the session's latest token.
func (s *session) latest() Claims {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claims
}

// exchanged makes token, with claims c, the session's latest exchanged
// token and returns the claims of the one it replaces.
func (s *session) exchanged(token string, c Claims) (previous Claims) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.exchange(token)
	previous, s.claims = s.claims, c
	return previous
}

// onTrack starts the pipeline for a remote track (one per simulcast layer).
func (s *session) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	mime := strings.ToLower(t.Codec().MimeType)
	s.log.Info("track", "kind", t.Kind().String(), "codec", mime, "rid", t.RID(), "ssrc", uint32(t.SSRC()))
	s.mu.Lock()
	first := !s.published
	s.published = true
	s.mu.Unlock()
	if first {
		s.stage.event(EventPublishStarted, s.participantID, "")
	}
	switch mime {
	case strings.ToLower(webrtc.MimeTypeOpus):
		a, err := newAudioIn(s, t)
		if err != nil {
			s.fail(ErrorInternal, "audio decoder: "+err.Error())
			return
		}
		if !s.goRun(func() { a.run(r) }) {
			a.dec.Close()
			return
		}
		s.p.update(func(i *MediaState) { i.Audio, i.AudioCodec = true, "opus" })
	case strings.ToLower(webrtc.MimeTypeH264), strings.ToLower(webrtc.MimeTypeVP8):
		codec := "vp8"
		if mime == strings.ToLower(webrtc.MimeTypeH264) {
			codec = "h264"
		}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			return
		}
		if s.video == nil {
			v, err := newVideoIn(s, codec)
			if err != nil {
				s.mu.Unlock()
				s.fail(ErrorInternal, "video decoder: "+err.Error())
				return
			}
			s.video = v
		}
		v := s.video
		s.mu.Unlock()
		l := v.addLayer(t)
		s.p.update(func(i *MediaState) { i.Video, i.VideoCodec = true, codec })
		s.goRun(func() { v.runLayer(l, t, r) })
	default:
		s.log.Warn("track with an unsupported codec ignored", "codec", mime)
	}
}

// goRun runs fn as one of the session's goroutines, unless the session is
// closing; it reports whether fn runs. (Every Add happens before close's
// Wait, so a track that arrives while the session closes starts nothing.)
func (s *session) goRun(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// pli asks the publisher for a keyframe on ssrc, at most every 250 ms.
func (s *session) pli(ssrc uint32) {
	now := s.srv.Now()
	s.mu.Lock()
	if s.pliAt == nil {
		s.pliAt = map[uint32]time.Duration{}
	}
	last, ok := s.pliAt[ssrc]
	if ok && now-last < 250*time.Millisecond {
		s.mu.Unlock()
		return
	}
	s.pliAt[ssrc] = now
	s.mu.Unlock()
	if err := s.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		s.log.Debug("sending PLI failed", "err", err)
		return
	}
	s.p.stats.plis.Add(1)
	s.srv.metrics.plis.Inc()
}

// fail records a PUBLISH_ERROR and ends the session.
func (s *session) fail(code, reason string) {
	s.log.Warn("publish error; disconnecting", "error_code", code, "reason", reason)
	s.stage.event(EventPublishError, s.participantID, code)
	go s.close(reason)
}

// close tears the session down once; concurrent callers return at once.
func (s *session) close(reason string) {
	s.closeOnce.Do(func() {
		s.log.Info("session closing", "reason", reason)
		s.mu.Lock()
		s.closing = true
		close(s.quit)
		s.mu.Unlock()
		if err := s.pc.Close(); err != nil {
			s.log.Debug("closing peer connection", "err", err)
		}
		s.wg.Wait()
		s.mu.Lock()
		v, published := s.video, s.published
		s.mu.Unlock()
		if v != nil {
			v.close()
		}
		s.p.video.clear()
		s.stage.leave(s)
		s.srv.removeSession(s)
		s.srv.caps.release(s)
		if published {
			s.stage.event(EventPublishStopped, s.participantID, "")
		}
		s.stage.event(EventLeft, s.participantID, "")
		close(s.done)
	})
}

// wait waits (bounded) for the session to be torn down.
func (s *session) wait() {
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.log.Error("session did not close within 10 s")
	}
}

// watchConnection ends the session when the connection fails or closes,
// and when it does not connect within the connect timeout.
func (s *session) watchConnection() {
	connected := make(chan struct{})
	var once sync.Once
	s.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.log.Info("connection state", "state", st.String())
		switch st {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() {
				s.srv.caps.connected(s)
				close(connected)
			})
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			go s.close("connection " + st.String())
		}
	})
	s.goRun(func() {
		t := time.NewTimer(s.srv.cfg.ConnectTimeout)
		defer t.Stop()
		select {
		case <-connected:
		case <-s.quit:
		case <-t.C:
			go s.close("not connected within the connect timeout")
		}
	})
}

// readRTCP reads the RTCP of a receiver (of one simulcast layer when rid
// is set) until it closes, passing sender reports to sr. Reading also
// keeps pion's interceptors (receiver reports, statistics) fed.
func (s *session) readRTCP(r *webrtc.RTPReceiver, rid string, sr func(*rtcp.SenderReport)) {
	for {
		var pkts []rtcp.Packet
		var err error
		if rid != "" {
			pkts, _, err = r.ReadSimulcastRTCP(rid)
		} else {
			pkts, _, err = r.ReadRTCP()
		}
		if err != nil {
			return
		}
		for _, p := range pkts {
			if x, ok := p.(*rtcp.SenderReport); ok {
				sr(x)
			}
		}
	}
}

// readRTP reads a track's RTP until it ends and pushes every packet through
// asm under mu (which the track's RTCP reader shares), emitting complete
// frames to emit with the packet's arrival time. Packets that do not
// parse are dropped and counted.
func (s *session) readRTP(t *webrtc.TrackRemote, kind string, counter *atomic.Uint64, mu *sync.Mutex, asm *assembler, emit func(assembledFrame, time.Duration)) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	m := s.srv.metrics
	packets := m.packets.WithLabelValues(kind)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			s.p.stats.malformed.Add(1)
			m.dropped.WithLabelValues("malformed").Inc()
			continue
		}
		counter.Add(1)
		packets.Inc()
		now := s.srv.Now()
		mu.Lock()
		before := asm.stats
		asm.push(&pkt, now, func(f assembledFrame) { emit(f, now) })
		s.count(before, asm.stats)
		mu.Unlock()
	}
}
