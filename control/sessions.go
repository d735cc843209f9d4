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
// events: a stage's session starts with its first event and ends when the
// last participant left; each participant of a session has a record
// (KindParticipant, under the session's key) and an event list.

// stageSession tracks a stage's active session: it starts when the first
// participant joins and ends when the last one leaves.
type stageSession struct {
	mu        sync.Mutex
	id        string
	connected map[string]bool
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ss := s.stageSession(stageARN)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.id == "" {
		// The first event (usually JOINED; a refusal before anybody
		// joined too) starts a session.
		ss.id = "st-" + randomID(13) // StageSessionId: 16 characters
		s.setActiveSession(ctx, stageARN, ss.id)
	}
	sessionID := ss.id
	switch e.Name {
	case ingest.EventJoined:
		ss.connected[e.ParticipantID] = true
	case ingest.EventLeft:
		delete(ss.connected, e.ParticipantID)
	}
	s.recordParticipant(ctx, stageARN, sessionID, e)
	doc, _ := json.Marshal(ParticipantEvent{Name: e.Name, ParticipantID: e.ParticipantID, EventTime: timestamp(e.Time), ErrorCode: e.ErrorCode})
	if err := s.store.AppendEvent(ctx, stageARN, sessionID, e.ParticipantID, doc, e.Time); err != nil {
		s.log.Error("recording participant event", "err", err)
	}
	if e.Name == ingest.EventLeft && len(ss.connected) == 0 {
		ss.id = ""
		s.setActiveSession(ctx, stageARN, "")
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
// attributes) current.
func (s *Server) recordParticipant(ctx context.Context, stageARN, sessionID string, e ingest.Event) {
	key := participantKey(stageARN, sessionID, e.ParticipantID)
	var p Participant
	r, err := s.store.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p = Participant{ParticipantID: e.ParticipantID, State: "DISCONNECTED", Protocol: "WHIP"}
		r = store.Resource{ARN: key, Kind: store.KindParticipant, ID: e.ParticipantID, Parent: sessionKey(stageARN, sessionID)}
	case err != nil:
		s.log.Error("loading participant", "err", err)
		return
	default:
		_ = json.Unmarshal(r.Doc, &p)
	}
	switch e.Name {
	case ingest.EventJoined:
		p.State = "CONNECTED"
		if p.FirstJoinTime == "" {
			p.FirstJoinTime = timestamp(e.Time)
		}
	case ingest.EventLeft:
		p.State = "DISCONNECTED"
	case ingest.EventPublishStarted:
		p.Published = true
	}
	if st := s.cfg.Ingest.Stage(stageARN); st != nil {
		if live := st.Participant(e.ParticipantID); live != nil {
			info := live.Info()
			p.UserID, p.Attributes = info.UserID, info.Attributes
		}
	}
	r.Doc, _ = json.Marshal(p)
	r.State = p.State
	if err := s.store.Put(ctx, r); err != nil {
		s.log.Error("recording participant", "err", err)
	}
}

// endStaleSession ends the session a stage had when the server stopped
// without ending it (a crash): its participants still CONNECTED become
// DISCONNECTED with a LEFT event at the time the server was last alive,
// and the stage has no active session.
func (s *Server) endStaleSession(ctx context.Context, stage store.Resource, alive time.Time) error {
	var st Stage
	if err := json.Unmarshal(stage.Doc, &st); err != nil || st.ActiveSessionID == "" {
		return nil
	}
	parent := sessionKey(stage.ARN, st.ActiveSessionID)
	left := 0
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
			if err == nil {
				at := alive
				if r.Updated.After(at) { // joined after the last mark
					at = r.Updated
				}
				doc, _ := json.Marshal(ParticipantEvent{Name: ingest.EventLeft, ParticipantID: r.ID, EventTime: timestamp(at)})
				err = s.store.AppendEvent(ctx, stage.ARN, st.ActiveSessionID, r.ID, doc, at)
			}
			if err != nil {
				return fmt.Errorf("control: ending stale session of %s: %w", stage.ARN, err)
			}
			left++
		}
	}
	s.setActiveSession(ctx, stage.ARN, "")
	s.log.Warn("stage session was open when the server stopped; ended it", "stage", stage.ARN, "session", st.ActiveSessionID, "participants_left", left)
	return nil
}
