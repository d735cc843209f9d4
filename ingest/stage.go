package ingest

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// Participant event names and error codes, as in the ivs-realtime API.
const (
	EventJoined         = "JOINED"
	EventLeft           = "LEFT"
	EventPublishStarted = "PUBLISH_STARTED"
	EventPublishStopped = "PUBLISH_STOPPED"
	EventPublishError   = "PUBLISH_ERROR"
	EventJoinError      = "JOIN_ERROR"
	EventTokenExchanged = "TOKEN_EXCHANGED"

	ErrorBFramePresent           = "B_FRAME_PRESENT"
	ErrorResolutionExceeded      = "RESOLUTION_EXCEEDED"
	ErrorQuotaExceeded           = "QUOTA_EXCEEDED"
	ErrorInsufficientCapabilties = "INSUFFICIENT_CAPABILITIES"
	ErrorInvalidVideoCodec       = "INVALID_VIDEO_CODEC"
	ErrorInvalidAudioCodec       = "INVALID_AUDIO_CODEC"
	ErrorInvalidInput            = "INVALID_INPUT"
	ErrorInternal                = "INTERNAL_SERVER_EXCEPTION"
	// RTMP(S) publishers' codes.
	ErrorInvalidProtocol     = "INVALID_PROTOCOL"
	ErrorReuseOfStreamKey    = "REUSE_OF_STREAM_KEY"
	ErrorBitrateExceeded     = "BITRATE_EXCEEDED"
	ErrorStreamDurationLimit = "STREAM_DURATION_EXCEEDED"
)

// Event is a participant event (the API's Event shape).
type Event struct {
	Name          string
	ParticipantID string
	Time          time.Time
	ErrorCode     string // PUBLISH_ERROR and JOIN_ERROR only
	// UserAgent is the publisher's User-Agent header (JOINED only).
	UserAgent string
	// PreviousToken and NewToken are the claims of the tokens before and
	// after a token exchange (TOKEN_EXCHANGED only).
	PreviousToken, NewToken *Claims
}

// publishConn is one publishing connection of a participant: a WHIP
// session or an RTMP(S) publish.
type publishConn interface {
	participant() string // the participant id
	close(reason string) // ends it (once; concurrent callers return at once)
	wait()               // waits, bounded, until it is torn down
}

// joining is who joins a stage with a publisher.
type joining struct {
	userID     string
	attributes map[string]string
	protocol   string // "WHIP", "RTMP", "RTMPS"
	ingestARN  string // RTMP(S): the ingest configuration
}

// departure is when a participant's last session ended, and its place in
// the arrival order, kept for Config.ReconnectWindow.
type departure struct {
	arrival uint64
	at      time.Duration // server clock
}

// maxStageEvents bounds the events a stage keeps in memory; OnEvent gets
// them all.
const maxStageEvents = 1000

// StageOptions configures a stage.
type StageOptions struct {
	// MaxPublishers bounds the participants publishing at once; default
	// Config.MaxPublishers.
	MaxPublishers int
	// OnEvent, if set, is called with every participant event (from the
	// goroutine that caused it; it must not block).
	OnEvent func(Event)
}

// Stage is a stage's live side: who publishes, and their media.
type Stage struct {
	srv  *Server
	arn  string
	opts StageOptions

	mu       sync.Mutex
	byID     map[string]*Participant
	sessions map[string]publishConn // by participant id
	arrivals uint64
	departed map[string]departure // by participant id, within the reconnect window
	revoked  map[string]bool
	events   []Event
	watchers []chan struct{}
	closed   bool
}

// ARN returns the stage's ARN.
func (s *Stage) ARN() string { return s.arn }

// Roster returns the connected participants in arrival order.
func (s *Stage) Roster() []ParticipantInfo {
	ps := s.participants()
	out := make([]ParticipantInfo, len(ps))
	for i, p := range ps {
		out[i] = p.Info()
	}
	slices.SortFunc(out, func(a, b ParticipantInfo) int { return int(a.Arrival) - int(b.Arrival) })
	return out
}

// Participant returns a connected participant, or nil.
func (s *Stage) Participant(id string) *Participant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

// Watch returns a channel that receives a value whenever the roster
// changes (joins, leaves, attributes, tracks, video size, stopped video),
// coalesced: after a signal, read Roster. stop ends the watch.
func (s *Stage) Watch() (changes <-chan struct{}, stop func()) {
	c := make(chan struct{}, 1)
	s.mu.Lock()
	s.watchers = append(s.watchers, c)
	s.mu.Unlock()
	return c, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if i := slices.Index(s.watchers, c); i >= 0 {
			s.watchers = slices.Delete(s.watchers, i, i+1)
		}
	}
}

func (s *Stage) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.watchers {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// Events returns the stage's recent participant events, oldest first.
func (s *Stage) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

func (s *Stage) event(name, participant, code string) {
	s.emit(Event{Name: name, ParticipantID: participant, ErrorCode: code})
}

// emit records e, timed now, and hands it to OnEvent.
func (s *Stage) emit(e Event) {
	e.Time = time.Now().UTC()
	name, participant, code := e.Name, e.ParticipantID, e.ErrorCode
	s.mu.Lock()
	if len(s.events) == maxStageEvents {
		s.events = slices.Delete(s.events, 0, maxStageEvents/10)
	}
	s.events = append(s.events, e)
	s.mu.Unlock()
	s.srv.metrics.events.WithLabelValues(name, code).Inc()
	s.srv.log.Info("participant event", "stage", s.arn, "participant", participant, "event", name, "error_code", code)
	if s.opts.OnEvent != nil {
		s.opts.OnEvent(e)
	}
}

// Disconnect ends a participant's session and refuses its token from now
// on (DisconnectParticipant). It reports whether the participant was
// connected.
func (s *Stage) Disconnect(participantID, reason string) bool {
	s.mu.Lock()
	if s.revoked == nil {
		s.revoked = map[string]bool{}
	}
	s.revoked[participantID] = true
	sess := s.sessions[participantID]
	s.mu.Unlock()
	if sess == nil {
		return false
	}
	sess.close("disconnected: " + reason)
	return true
}

// Revoked reports whether a participant was disconnected for good.
func (s *Stage) Revoked(participantID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked[participantID]
}

// join adds a session's participant. A participant that publishes again
// while its earlier session is still up (a publisher that crashed and
// restarted, or reconnected) replaces that session in place: the roster
// entry is swapped, never removed, so no composition reflows its grid.
// One that comes back within Config.ReconnectWindow of its last session's
// end keeps its place in the arrival order. join fails when the stage is
// full or closed.
func (s *Stage) join(sess publishConn, who joining) (*Participant, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errStageClosed
	}
	id := sess.participant()
	old := s.sessions[id]
	if old == nil && len(s.byID) >= s.opts.MaxPublishers {
		s.mu.Unlock()
		return nil, errStageFull
	}
	var arrival uint64
	switch d, ok := s.departed[id]; {
	case old != nil:
		arrival = s.byID[id].arrival
	case ok && s.srv.Now()-d.at <= s.srv.cfg.ReconnectWindow:
		arrival = d.arrival
	default:
		s.arrivals++
		arrival = s.arrivals
	}
	delete(s.departed, id)
	p := &Participant{
		stage: s, id: id, arrival: arrival, joinedAt: time.Now().UTC(), protocol: who.protocol, ingest: who.ingestARN,
		userID: who.userID, attributes: who.attributes,
	}
	p.info.VideoStopped = true
	s.byID[id] = p
	s.sessions[id] = sess
	s.mu.Unlock()
	if old != nil {
		old.close("replaced by a new session of the same participant")
		old.wait()
	}
	s.notify()
	return p, nil
}

// leave removes a session's participant, unless a newer session of the
// same participant replaced it, and remembers its place in the arrival
// order for the reconnect window.
func (s *Stage) leave(sess publishConn) {
	s.mu.Lock()
	if id := sess.participant(); s.sessions[id] == sess {
		if p := s.byID[id]; p != nil && s.srv.cfg.ReconnectWindow > 0 {
			if s.departed == nil {
				s.departed = map[string]departure{}
			}
			s.departed[id] = departure{arrival: p.arrival, at: s.srv.Now()}
		}
		delete(s.sessions, id)
		delete(s.byID, id)
	}
	s.mu.Unlock()
	s.notify()
}

// participants returns the connected participants, in no order.
func (s *Stage) participants() []*Participant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.byID))
}

// tick runs the stage's periodic checks (stale video) and samples the
// participants' picture rates.
func (s *Stage) tick(now time.Duration) {
	s.mu.Lock()
	for id, d := range s.departed {
		if now-d.at > s.srv.cfg.ReconnectWindow {
			delete(s.departed, id)
		}
	}
	s.mu.Unlock()
	for _, p := range s.participants() {
		p.checkStale(now, s.srv.cfg.StaleAfter)
		p.fps.sample(now, p.stats.decoded.Load())
	}
}

// close ends every session on the stage.
func (s *Stage) close() {
	s.mu.Lock()
	s.closed = true
	sessions := make([]publishConn, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.close("stage closed")
	}
	for _, sess := range sessions {
		sess.wait()
	}
}
