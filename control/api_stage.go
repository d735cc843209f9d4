package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/ingest"
)

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
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
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

func participantKey(stageARN, sessionID, id string) string {
	return stageARN + "/session/" + sessionID + "/participant/" + id
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
		r = store.Resource{ARN: key, Kind: store.KindParticipant, ID: e.ParticipantID, Parent: stageARN + "/session/" + sessionID}
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

type createStageInput struct {
	Name                           string                          `json:"name"`
	ParticipantTokenConfigurations []ParticipantTokenConfiguration `json:"participantTokenConfigurations"`
	Tags                           map[string]string               `json:"tags"`
}

func (s *Server) createStage(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req createStageInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	n, err := s.store.Count(ctx, store.KindStage, "")
	if err != nil {
		return nil, s.internal("counting stages", err)
	}
	if n >= s.cfg.Quotas.Stages {
		return nil, wire.ServiceQuotaExceeded(fmt.Sprintf("at most %d stages", s.cfg.Quotas.Stages))
	}
	id := newID()
	st := Stage{ARN: s.arn("stage", id), Name: req.Name, Tags: nonNil(req.Tags), Endpoints: s.endpoints()}
	if e := s.putDoc(ctx, store.KindStage, st.ARN, "", st.Name, "", st, st.Tags); e != nil {
		return nil, e
	}
	if err := s.openStage(st.ARN); err != nil {
		return nil, s.internal("opening the stage", err)
	}
	tokens := []ParticipantToken{}
	for _, tc := range req.ParticipantTokenConfigurations {
		tok, e := s.issueToken(st.ARN, tc)
		if e != nil {
			return nil, e
		}
		tokens = append(tokens, tok)
	}
	return map[string]any{"stage": st, "participantTokens": tokens}, nil
}

func (s *Server) endpoints() StageEndpoints {
	return StageEndpoints{WHIP: s.cfg.WHIPURL}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// putDoc stores a new resource and its tags.
func (s *Server) putDoc(ctx context.Context, kind, arn, parent, name, state string, doc any, tags map[string]string) *wire.Error {
	b, err := json.Marshal(doc)
	if err != nil {
		return s.internal("encoding", err)
	}
	if _, err := s.store.Create(ctx, store.Resource{ARN: arn, Kind: kind, ID: arnID(arn), Parent: parent, Name: name, State: state, Doc: b}); err != nil {
		return s.internal("storing "+arn, err)
	}
	if len(tags) > 0 {
		if err := s.store.SetTags(ctx, arn, tags); err != nil {
			return s.internal("storing tags", err)
		}
	}
	return nil
}

// tags returns a resource's tags (an empty map when it has none or they cannot be read).
func (s *Server) tags(ctx context.Context, arn string) map[string]string {
	t, err := s.store.Tags(ctx, arn)
	if err != nil {
		s.log.Error("loading tags", "arn", arn, "err", err)
		return map[string]string{}
	}
	return t
}

type arnInput struct {
	ARN string `json:"arn"`
}

func (s *Server) getStage(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req arnInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	var st Stage
	if _, e := s.getDoc(ctx, store.KindStage, req.ARN, &st); e != nil {
		return nil, e
	}
	st.Tags = s.tags(ctx, st.ARN)
	st.Endpoints = s.endpoints()
	return map[string]any{"stage": st}, nil
}

type listInput struct {
	NextToken  string `json:"nextToken"`
	MaxResults int    `json:"maxResults"`
}

func (s *Server) listStages(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req listInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	rs, next, e := s.page(ctx, store.ListQuery{Kind: store.KindStage}, req.NextToken, req.MaxResults)
	if e != nil {
		return nil, e
	}
	out := []StageSummary{}
	for _, r := range rs {
		var st Stage
		if err := json.Unmarshal(r.Doc, &st); err != nil {
			return nil, s.internal("decoding "+r.ARN, err)
		}
		out = append(out, StageSummary{ARN: st.ARN, Name: st.Name, ActiveSessionID: st.ActiveSessionID, Tags: s.tags(ctx, st.ARN)})
	}
	return listOutput("stages", out, next), nil
}

func listOutput(key string, items any, next string) map[string]any {
	m := map[string]any{key: items}
	if next != "" {
		m["nextToken"] = next
	}
	return m
}

func (s *Server) updateStage(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req struct {
		ARN  string  `json:"arn"`
		Name *string `json:"name"`
	}
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	var st Stage
	err := s.store.Update(ctx, req.ARN, func(r *store.Resource) error {
		if r.Kind != store.KindStage {
			return store.ErrNotFound
		}
		if err := json.Unmarshal(r.Doc, &st); err != nil {
			return err
		}
		if req.Name != nil {
			st.Name, r.Name = *req.Name, *req.Name
		}
		r.Doc, _ = json.Marshal(st)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("Stage", req.ARN)
	}
	if err != nil {
		return nil, s.internal("updating "+req.ARN, err)
	}
	st.Tags = s.tags(ctx, st.ARN)
	st.Endpoints = s.endpoints()
	return map[string]any{"stage": st}, nil
}

func (s *Server) deleteStage(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req arnInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	if _, e := s.getDoc(ctx, store.KindStage, req.ARN, nil); e != nil {
		return nil, e
	}
	// Compositions on the stage stop; its participants are disconnected.
	s.mu.Lock()
	var stopping []*composition
	for _, c := range s.comps {
		if c.spec.StageARN == req.ARN {
			stopping = append(stopping, c)
		}
	}
	s.mu.Unlock()
	for _, c := range stopping {
		c.stop("stage deleted")
	}
	s.cfg.Ingest.CloseStage(req.ARN)
	if err := s.store.Delete(ctx, req.ARN); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, s.internal("deleting "+req.ARN, err)
	}
	return nil, nil
}

// issueToken signs a participant token for a stage.
func (s *Server) issueToken(stageARN string, tc ParticipantTokenConfiguration) (ParticipantToken, *wire.Error) {
	duration := 720
	if tc.Duration != nil {
		duration = *tc.Duration
	}
	caps := tc.Capabilities
	if len(caps) == 0 {
		caps = []string{"PUBLISH", "SUBSCRIBE"}
	}
	total := 0
	for k, v := range tc.Attributes {
		total += len(k) + len(v)
	}
	if total > 1024 {
		return ParticipantToken{}, wire.ValidationError("attributes exceed 1 KB in total")
	}
	now := time.Now().UTC()
	exp := now.Add(time.Duration(duration) * time.Minute)
	id := newID()
	c := ingest.Claims{
		ParticipantID: id, StageARN: stageARN, Topic: arnID(stageARN), WHIPURL: s.cfg.WHIPURL,
		UserID: tc.UserID, Attributes: tc.Attributes, Version: ingest.TokenVersion,
		IssuedAt: now.Unix(), ExpiresAt: exp.Unix(),
	}
	for _, cp := range caps {
		switch cp {
		case "PUBLISH":
			c.Capabilities.AllowPublish = true
		case "SUBSCRIBE":
			c.Capabilities.AllowSubscribe = true
		}
	}
	tok, err := s.cfg.TokenKey.Sign(c)
	if err != nil {
		return ParticipantToken{}, s.internal("signing a token", err)
	}
	return ParticipantToken{ParticipantID: id, Token: tok, UserID: tc.UserID, Attributes: tc.Attributes,
		Duration: duration, Capabilities: caps, ExpirationTime: timestamp(exp)}, nil
}

func (s *Server) createParticipantToken(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req struct {
		StageARN string `json:"stageArn"`
		ParticipantTokenConfiguration
	}
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	tok, e := s.issueToken(req.StageARN, req.ParticipantTokenConfiguration)
	if e != nil {
		return nil, e
	}
	return map[string]any{"participantToken": tok}, nil
}

func (s *Server) disconnectParticipant(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req struct {
		StageARN      string `json:"stageArn"`
		ParticipantID string `json:"participantId"`
		Reason        string `json:"reason"`
	}
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	st := s.cfg.Ingest.Stage(req.StageARN)
	if st == nil {
		return nil, notFound("Stage", req.StageARN)
	}
	st.Disconnect(req.ParticipantID, req.Reason)
	return nil, nil
}

type participantQuery struct {
	StageARN          string `json:"stageArn"`
	SessionID         string `json:"sessionId"`
	ParticipantID     string `json:"participantId"`
	FilterByUserID    string `json:"filterByUserId"`
	FilterByPublished *bool  `json:"filterByPublished"`
	FilterByState     string `json:"filterByState"`
	NextToken         string `json:"nextToken"`
	MaxResults        int    `json:"maxResults"`
}

func (s *Server) listParticipants(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req participantQuery
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	q := store.ListQuery{Kind: store.KindParticipant, Parent: req.StageARN + "/session/" + req.SessionID, State: req.FilterByState}
	out := []Participant{}
	next := req.NextToken
	for {
		rs, n, e := s.page(ctx, q, next, req.MaxResults)
		if e != nil {
			return nil, e
		}
		for _, r := range rs {
			var p Participant
			if err := json.Unmarshal(r.Doc, &p); err != nil {
				return nil, s.internal("decoding a participant", err)
			}
			if (req.FilterByUserID != "" && p.UserID != req.FilterByUserID) || (req.FilterByPublished != nil && p.Published != *req.FilterByPublished) {
				continue
			}
			p.Attributes = nil // ParticipantSummary has none
			p.Protocol = ""
			out = append(out, p)
		}
		next = n
		if next == "" || len(out) > 0 {
			break
		}
	}
	return listOutput("participants", out, next), nil
}

func (s *Server) getParticipant(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req participantQuery
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	var p Participant
	r, err := s.store.Get(ctx, participantKey(req.StageARN, req.SessionID, req.ParticipantID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, wire.ResourceNotFound("participant not found: " + req.ParticipantID)
	}
	if err != nil {
		return nil, s.internal("loading a participant", err)
	}
	if err := json.Unmarshal(r.Doc, &p); err != nil {
		return nil, s.internal("decoding a participant", err)
	}
	return map[string]any{"participant": p}, nil
}

func (s *Server) listParticipantEvents(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req participantQuery
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	limit := req.MaxResults
	if limit <= 0 {
		limit = 50
	}
	evs, next, err := s.store.Events(ctx, req.StageARN, req.SessionID, req.ParticipantID, req.NextToken, limit)
	if errors.Is(err, store.ErrInvalid) {
		return nil, wire.ValidationError("invalid nextToken")
	}
	if err != nil {
		return nil, s.internal("listing events", err)
	}
	out := []ParticipantEvent{}
	for _, e := range evs {
		var pe ParticipantEvent
		if err := json.Unmarshal(e.Doc, &pe); err != nil {
			return nil, s.internal("decoding an event", err)
		}
		out = append(out, pe)
	}
	return listOutput("events", out, next), nil
}
