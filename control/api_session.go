package control

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
)

// GetStageSession and ListStageSessions: the stage sessions recorded by
// sessions.go, oldest first.

func (s *Server) getStageSession(ctx context.Context, req *getStageSessionRequest) (*getStageSessionResponse, *wire.Error) {
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	r, err := s.store.Get(ctx, sessionKey(req.StageARN, req.SessionID))
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.Kind != store.KindStageSession) {
		return nil, wire.ResourceNotFound("stage session not found: " + req.SessionID)
	}
	if err != nil {
		return nil, s.internal("loading a stage session", err)
	}
	var ss storedSession
	if err := json.Unmarshal(r.Doc, &ss); err != nil {
		return nil, s.internal("decoding a stage session", err)
	}
	return &getStageSessionResponse{StageSession: ss.StageSession}, nil
}

func (s *Server) listStageSessions(ctx context.Context, req *listStageSessionsRequest) (*listStageSessionsResponse, *wire.Error) {
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	q := store.ListQuery{Kind: store.KindStageSession, Parent: req.StageARN}
	sessions, next, e := list(ctx, s, q, req.listRequest, func(r store.Resource) (StageSession, bool, *wire.Error) {
		var ss storedSession
		if err := json.Unmarshal(r.Doc, &ss); err != nil {
			return StageSession{}, false, s.internal("decoding a stage session", err)
		}
		return ss.StageSession, true, nil
	})
	if e != nil {
		return nil, e
	}
	return &listStageSessionsResponse{StageSessions: sessions, NextToken: next}, nil
}
