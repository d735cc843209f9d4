package control

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
)

// The participants of a stage's sessions, as recorded from ingest's
// events (sessions.go), and DisconnectParticipant.

// listParticipants lists a session's participants, filtered by at most one
// of filterByUserId, filterByPublished, filterByState and
// filterByRecordingState (the model's rule; more is a ValidationException).
func (s *Server) listParticipants(ctx context.Context, req *listParticipantsRequest) (*listParticipantsResponse, *wire.Error) {
	filters := 0
	for _, set := range []bool{req.FilterByUserID != "", req.FilterByPublished != nil, req.FilterByState != "", req.FilterByRecordingState != ""} {
		if set {
			filters++
		}
	}
	if filters > 1 {
		return nil, wire.ValidationError("only one filter can be used at a time: filterByUserId, filterByPublished, filterByState or filterByRecordingState")
	}
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	q := store.ListQuery{Kind: store.KindParticipant, Parent: sessionKey(req.StageARN, req.SessionID), State: req.FilterByState}
	participants, next, e := list(ctx, s, q, req.listRequest, func(r store.Resource) (ParticipantSummary, bool, *wire.Error) {
		var p Participant
		if err := json.Unmarshal(r.Doc, &p); err != nil {
			return ParticipantSummary{}, false, s.internal("decoding a participant", err)
		}
		if (req.FilterByUserID != "" && p.UserID != req.FilterByUserID) || (req.FilterByPublished != nil && p.Published != *req.FilterByPublished) ||
			(req.FilterByRecordingState != "" && p.RecordingState != req.FilterByRecordingState) {
			return ParticipantSummary{}, false, nil
		}
		return p.summary(), true, nil
	})
	if e != nil {
		return nil, e
	}
	return &listParticipantsResponse{Participants: participants, NextToken: next}, nil
}

func (s *Server) getParticipant(ctx context.Context, req *getParticipantRequest) (*getParticipantResponse, *wire.Error) {
	r, err := s.store.Get(ctx, participantKey(req.StageARN, req.SessionID, req.ParticipantID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, wire.ResourceNotFound("participant not found: " + req.ParticipantID)
	}
	if err != nil {
		return nil, s.internal("loading a participant", err)
	}
	var p Participant
	if err := json.Unmarshal(r.Doc, &p); err != nil {
		return nil, s.internal("decoding a participant", err)
	}
	return &getParticipantResponse{Participant: p}, nil
}

func (s *Server) listParticipantEvents(ctx context.Context, req *listParticipantEventsRequest) (*listParticipantEventsResponse, *wire.Error) {
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
	events := []ParticipantEvent{}
	for _, e := range evs {
		var pe ParticipantEvent
		if err := json.Unmarshal(e.Doc, &pe); err != nil {
			return nil, s.internal("decoding an event", err)
		}
		events = append(events, pe)
	}
	return &listParticipantEventsResponse{Events: events, NextToken: next}, nil
}

// disconnectParticipant ends a participant's session on ingest and revokes
// its token. An RTMP(S) participant (an ingest configuration's, attached to
// the stage) is taken off the stage instead: its configuration's stageArn
// becomes "", which ends its publish; attaching it again lets it back.
func (s *Server) disconnectParticipant(ctx context.Context, req *disconnectParticipantRequest) (*empty, *wire.Error) {
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	st := s.cfg.Ingest.Stage(req.StageARN)
	if st == nil {
		return nil, notFound("Stage", req.StageARN)
	}
	rtmp, e := s.detachIngest(ctx, req.StageARN, req.ParticipantID)
	if e != nil {
		return nil, e
	}
	if rtmp {
		s.log.Info("RTMP participant disconnected: its ingest configuration was detached from the stage",
			"stage", req.StageARN, "participant", req.ParticipantID, "reason", req.Reason)
		return &empty{}, nil
	}
	st.Disconnect(req.ParticipantID, req.Reason)
	return &empty{}, nil
}
