package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/ingest"
)

// Stage sessions and participant records, built from ingest's participant
// events. A stage's session starts with its first event (usually a join)
// and ends Timeouts.SessionEnd after the last connected participant left,
// unless somebody joins before: as IVS, which ends a session "a few
// minutes" after its last participant. A session is a stored record
// (KindStageSession, under the stage) with its start, its end and, while
// nobody is connected, since when; a restart ends it when it should have
// ended, or keeps it open for the rest of its time. Each participant of a
// session has a record (KindParticipant, under the session's key) and an
// event list.

// DefaultSessionEnd is Timeouts.SessionEnd's default.
const DefaultSessionEnd = 3 * time.Minute

// stageSession tracks a stage's active session.
type stageSession struct {
	mu        sync.Mutex
	id        string // "" between sessions
	connected map[string]bool
	end       *time.Timer // armed while the session is open and nobody is connected
}

// openStage opens a stored stage on ingest, recording its participants'
// events.
func (s *Server) openStage(arn string) error {
	_, err := s.cfg.Ingest.OpenStage(arn, ingest.StageOptions{OnEvent: func(e ingest.Event) { s.participantEvent(arn, e) }})
	if err != nil {
		return fmt.Errorf("control: opening stage %s: %w", arn, err)
	}
	return nil
}

// stageSession returns a stage's session tracker, made on first use.
func (s *Server) stageSession(arn string) *stageSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[arn]
	if ss == nil {
		ss = &stageSession{connected: map[string]bool{}}
		s.sessions[arn] = ss
	}
	return ss
}

// participantEvent records an ingest event: the stage session, the
// participant's record and the event list.
func (s *Server) participantEvent(stageARN string, e ingest.Event) {
	// Not s.ctx: the LEFT events of a shutdown come after Close cancelled
	// it, and must be saved all the same.
	if s.Fenced() {
		s.log.Warn("participant event not saved: this node is fenced (its cluster membership is not known valid)", "stage", stageARN,
			"participant", e.ParticipantID, "event", e.Name)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ss := s.stageSession(stageARN)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.id == "" {
		// The first event (usually JOINED; a refusal before anybody
		// joined too) starts a session.
		ss.id = "st-" + randomID(13) // StageSessionId: 16 characters
		s.openSession(ctx, stageARN, ss.id, e.Time)
	}
	sessionID := ss.id
	switch e.Name {
	case ingest.EventJoined:
		ss.connected[e.ParticipantID] = true
	case ingest.EventLeft:
		delete(ss.connected, e.ParticipantID)
	}
	s.recordParticipant(ctx, stageARN, sessionID, e)
	switch e.Name {
	case ingest.EventPublishStarted:
		s.startParticipantRecording(ctx, stageARN, sessionID, e.ParticipantID, e.Time)
	case ingest.EventPublishStopped, ingest.EventLeft:
		s.stopParticipantRecording(stageARN, sessionID, e.ParticipantID)
	}
	doc, _ := json.Marshal(eventOf(e))
	if err := s.store.AppendEvent(ctx, stageARN, sessionID, e.ParticipantID, doc, e.Time); err != nil {
		s.log.Error("recording participant event", "err", err)
	}
	s.stageEvent(ctx, stageARN, sessionID, e)
	switch {
	case len(ss.connected) > 0 && ss.end != nil:
		ss.end.Stop()
		ss.end = nil
		s.setIdle(ctx, stageARN, sessionID, time.Time{})
	case len(ss.connected) == 0 && ss.end == nil:
		s.setIdle(ctx, stageARN, sessionID, e.Time)
		s.endSessionAt(stageARN, ss, e.Time.Add(s.cfg.Timeouts.SessionEnd))
	}
}

// endSessionAt arms ss.end to end the session ss has now at the time at,
// if nobody joined by then. The caller holds ss.mu. A server that closes
// first leaves the session to its next start-up (resumeSession).
func (s *Server) endSessionAt(stageARN string, ss *stageSession, at time.Time) {
	id := ss.id
	var t *time.Timer
	t = time.AfterFunc(time.Until(at), func() {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if ss.end != t || s.ctx.Err() != nil || s.Fenced() {
			return // somebody joined, or the server is closing, or it may no longer serve the stage
		}
		ss.end, ss.id = nil, ""
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		s.endSession(ctx, stageARN, id, at)
	})
	ss.end = t
}

// closeSession ends a stage's session now (the stage is deleted).
func (s *Server) closeSession(ctx context.Context, stageARN string) {
	s.mu.Lock()
	ss := s.sessions[stageARN]
	delete(s.sessions, stageARN)
	s.mu.Unlock()
	if ss == nil {
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.end != nil {
		ss.end.Stop()
		ss.end = nil
	}
	if ss.id != "" {
		s.endSession(ctx, stageARN, ss.id, time.Now().UTC())
		ss.id = ""
	}
}

// openSession stores a new session of a stage and makes it the stage's
// active one.
func (s *Server) openSession(ctx context.Context, stageARN, id string, at time.Time) {
	doc, _ := json.Marshal(storedSession{StageSession: StageSession{SessionID: id, StartTime: timestamp(at)}})
	err := s.store.Put(ctx, store.Resource{ARN: sessionKey(stageARN, id), Kind: store.KindStageSession, ID: id,
		Parent: stageARN, State: sessionActive, Created: at, Doc: doc})
	if err != nil {
		s.log.Error("recording the stage session", "err", err)
	}
	s.setActiveSession(ctx, stageARN, id)
}

// setIdle stores since when nobody is connected to a session (zero: somebody is).
func (s *Server) setIdle(ctx context.Context, stageARN, id string, since time.Time) {
	s.updateSession(ctx, stageARN, id, func(ss *storedSession) { ss.IdleSince = timestamp(since) })
}

// endSession stores a session's end and leaves its stage without an
// active session.
func (s *Server) endSession(ctx context.Context, stageARN, id string, at time.Time) {
	s.updateSession(ctx, stageARN, id, func(ss *storedSession) { ss.EndTime, ss.IdleSince = timestamp(at), "" })
	s.setActiveSession(ctx, stageARN, "")
	s.log.Info("stage session ended", "stage", stageARN, "session", id, "at", at)
}

// updateSession changes a stored session; its state follows its EndTime.
func (s *Server) updateSession(ctx context.Context, stageARN, id string, fn func(*storedSession)) {
	err := s.store.Update(ctx, sessionKey(stageARN, id), func(r *store.Resource) error {
		var ss storedSession
		if err := json.Unmarshal(r.Doc, &ss); err != nil {
			return err
		}
		fn(&ss)
		r.State = sessionActive
		if ss.EndTime != "" {
			r.State = sessionEnded
		}
		r.Doc, _ = json.Marshal(ss)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("recording the stage session", "err", err)
	}
}

// setActiveSession stores a stage's activeSessionId ("" for none).
func (s *Server) setActiveSession(ctx context.Context, stageARN, id string) {
	err := s.store.Update(ctx, stageARN, func(r *store.Resource) error {
		var st Stage
		if err := json.Unmarshal(r.Doc, &st); err != nil {
			return err
		}
		st.ActiveSessionID = id
		r.Doc, _ = json.Marshal(st)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("recording the stage session", "err", err)
	}
}

// sessionKey is the store key of a stage session, the parent of its
// participants' records.
func sessionKey(stageARN, sessionID string) string {
	return stageARN + "/session/" + sessionID
}

// participantKey is the store key of a participant's record.
func participantKey(stageARN, sessionID, id string) string {
	return sessionKey(stageARN, sessionID) + "/participant/" + id
}

// recordParticipant keeps the participant's record (state, published,
// attributes) current, in one store update: the recording fields a
// recording sets meanwhile are kept. A new record on a stage that does
// not record participants shows recordingState DISABLED.
func (s *Server) recordParticipant(ctx context.Context, stageARN, sessionID string, e ingest.Event) {
	var info *ingest.ParticipantInfo
	if st := s.cfg.Ingest.Stage(stageARN); st != nil {
		if live := st.Participant(e.ParticipantID); live != nil {
			i := live.Info()
			info = &i
		}
	}
	change := func(p *Participant) {
		switch e.Name {
		case ingest.EventJoined:
			p.State = "CONNECTED"
			if p.FirstJoinTime == "" {
				p.FirstJoinTime = timestamp(e.Time)
			}
			p.setClient(e.UserAgent)
		case ingest.EventLeft:
			p.State = "DISCONNECTED"
		case ingest.EventPublishStarted:
			p.Published = true
		}
		if info != nil {
			p.UserID, p.Attributes = info.UserID, info.Attributes
			if e.Name == ingest.EventJoined {
				p.Protocol, p.IngestConfigurationARN = info.Protocol, info.IngestConfigurationARN
				if p.Protocol == "" {
					p.Protocol = "WHIP"
				}
			}
		}
	}
	key := participantKey(stageARN, sessionID, e.ParticipantID)
	err := s.store.Update(ctx, key, func(r *store.Resource) error {
		var p Participant
		if err := json.Unmarshal(r.Doc, &p); err != nil {
			return err
		}
		change(&p)
		r.Doc, _ = json.Marshal(p)
		r.State = p.State
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		// Only this stage's events, which the caller serializes, create it.
		p := Participant{ParticipantID: e.ParticipantID, State: "DISCONNECTED", Protocol: "WHIP"}
		if _, ok := s.recordingPlan(ctx, stageARN, sessionID, e.ParticipantID); !ok {
			p.RecordingState = recordingDisabled
		}
		change(&p)
		doc, _ := json.Marshal(p)
		err = s.store.Put(ctx, store.Resource{ARN: key, Kind: store.KindParticipant, ID: e.ParticipantID,
			Parent: sessionKey(stageARN, sessionID), State: p.State, Doc: doc})
	}
	if err != nil {
		s.log.Error("recording participant", "err", err)
	}
}

// resumeSession takes up the session a stage had when the server stopped.
// After a crash its participants may still read CONNECTED: they become
// DISCONNECTED with a LEFT event at the time the server was last alive;
// their individual recordings left running become FAILED.
// The session then ends Timeouts.SessionEnd after its last participant
// left: at once (with that end time) when that time has passed, else it
// stays the stage's active session for the rest of it.
func (s *Server) resumeSession(ctx context.Context, stage store.Resource, alive time.Time) error {
	var st Stage
	if err := json.Unmarshal(stage.Doc, &st); err != nil || st.ActiveSessionID == "" {
		return nil
	}
	id := st.ActiveSessionID
	parent := sessionKey(stage.ARN, id)
	left := 0
	var lastLeft time.Time
	for {
		page, _, err := s.store.List(ctx, store.ListQuery{Kind: store.KindParticipant, Parent: parent, State: "CONNECTED", Limit: 100})
		if err != nil {
			return fmt.Errorf("control: ending stale session of %s: %w", stage.ARN, err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			err := s.store.Update(ctx, r.ARN, func(r *store.Resource) error {
				var p Participant
				if err := json.Unmarshal(r.Doc, &p); err != nil {
					return err
				}
				p.State = "DISCONNECTED"
				r.State = p.State
				r.Doc, _ = json.Marshal(p)
				return nil
			})
			at := alive
			if err == nil {
				if r.Updated.After(at) { // joined after the last mark
					at = r.Updated
				}
				doc, _ := json.Marshal(ParticipantEvent{Name: ingest.EventLeft, ParticipantID: r.ID, EventTime: timestamp(at)})
				err = s.store.AppendEvent(ctx, stage.ARN, id, r.ID, doc, at)
			}
			if err != nil {
				return fmt.Errorf("control: ending stale session of %s: %w", stage.ARN, err)
			}
			if at.After(lastLeft) {
				lastLeft = at
			}
			left++
		}
	}
	if left > 0 {
		s.log.Warn("stage session was open with participants when the server stopped; they left", "stage", stage.ARN, "session", id, "participants_left", left)
	}
	if err := s.failLeftRecordings(ctx, stage.ARN, id); err != nil {
		return err
	}

	// Since when nobody is connected.
	var ss storedSession
	r, err := s.store.Get(ctx, parent)
	switch {
	case errors.Is(err, store.ErrNotFound): // a session from before sessions were stored
		ss.StageSession = StageSession{SessionID: id, StartTime: timestamp(stage.Updated)}
		doc, _ := json.Marshal(ss)
		err = s.store.Put(ctx, store.Resource{ARN: parent, Kind: store.KindStageSession, ID: id, Parent: stage.ARN,
			State: sessionActive, Created: stage.Updated, Doc: doc})
	case err == nil:
		err = json.Unmarshal(r.Doc, &ss)
	}
	if err != nil {
		return fmt.Errorf("control: resuming the session of %s: %w", stage.ARN, err)
	}
	idle, _ := time.Parse(time.RFC3339Nano, ss.IdleSince)
	switch {
	case left > 0:
		idle = lastLeft
	case idle.IsZero():
		idle = alive
	}
	end := idle.Add(s.cfg.Timeouts.SessionEnd)
	if !end.After(time.Now()) {
		s.endSession(ctx, stage.ARN, id, end)
		return nil
	}
	s.setIdle(ctx, stage.ARN, id, idle)
	tracker := s.stageSession(stage.ARN)
	tracker.mu.Lock()
	defer tracker.mu.Unlock()
	tracker.id = id
	s.endSessionAt(stage.ARN, tracker, end)
	s.log.Info("stage session resumed", "stage", stage.ARN, "session", id, "ends", end)
	return nil
}
