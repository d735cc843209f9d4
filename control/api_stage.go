package control

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
)

// createStage stores a stage, opens it on ingest and issues the requested
// participant tokens.
func (s *Server) createStage(ctx context.Context, req *createStageRequest) (*createStageResponse, *wire.Error) {
	s.recordingMu.Lock() // the storage configuration stays until the stage is stored
	defer s.recordingMu.Unlock()
	ipr, e := s.participantRecording(ctx, req.AutoParticipantRecordingConfiguration)
	if e != nil {
		return nil, e
	}
	n, err := s.store.Count(ctx, store.KindStage, "")
	if err != nil {
		return nil, s.internal("counting stages", err)
	}
	if n >= s.cfg.Quotas.Stages {
		return nil, wire.ServiceQuotaExceeded(fmt.Sprintf("at most %d stages", s.cfg.Quotas.Stages))
	}
	for _, tc := range req.ParticipantTokenConfigurations {
		if e := checkTokenConfiguration(tc); e != nil {
			return nil, e // before the stage exists: a refused request creates nothing
		}
	}
	st := Stage{ARN: s.arn("stage", newID()), Name: req.Name, Tags: nonNil(req.Tags), Endpoints: s.endpoints(ctx, ""), AutoParticipantRecording: ipr}
	if e := s.putDoc(ctx, store.KindStage, st.ARN, "", st.Name, "", st, st.Tags); e != nil {
		return nil, e
	}
	if s.node == nil { // in a cluster, the node its first publisher lands on opens it
		if err := s.openStage(st.ARN); err != nil {
			return nil, s.internal("opening the stage", err)
		}
	}
	tokens := []ParticipantToken{}
	for _, tc := range req.ParticipantTokenConfigurations {
		tok, e := s.issueToken(ctx, st.ARN, tc)
		if e != nil {
			return nil, e
		}
		tokens = append(tokens, tok)
	}
	return &createStageResponse{Stage: st, ParticipantTokens: tokens}, nil
}

// endpoints are a stage's: WHIP at the URL the caller reached and RTMP(S)
// at this server's, or in a cluster at the node serving the stage when it
// has one (any node redirects a WHIP offer there; RTMP has no redirect).
func (s *Server) endpoints(ctx context.Context, stageARN string) StageEndpoints {
	ep := StageEndpoints{WHIP: s.whipURL(ctx), RTMP: s.cfg.RTMPURL, RTMPS: s.cfg.RTMPSURL}
	if s.node != nil && stageARN != "" {
		if owner, found, err := s.store.StageOwner(ctx, stageARN); err == nil && found {
			ep.WHIP, ep.RTMP, ep.RTMPS = cmp.Or(owner.WHIPURL, ep.WHIP), owner.RTMPURL, owner.RTMPSURL
		}
	}
	return ep
}

func (s *Server) getStage(ctx context.Context, req *arnRequest) (*stageResponse, *wire.Error) {
	var st Stage
	if _, e := s.getDoc(ctx, store.KindStage, req.ARN, &st); e != nil {
		return nil, e
	}
	st.Tags = s.tags(ctx, st.ARN)
	st.Endpoints = s.endpoints(ctx, st.ARN)
	st.AutoParticipantRecording = st.AutoParticipantRecording.withDefaults()
	return &stageResponse{Stage: st}, nil
}

func (s *Server) listStages(ctx context.Context, req *listRequest) (*listStagesResponse, *wire.Error) {
	stages, next, e := list(ctx, s, store.ListQuery{Kind: store.KindStage}, *req, func(r store.Resource) (StageSummary, bool, *wire.Error) {
		var st Stage
		if err := json.Unmarshal(r.Doc, &st); err != nil {
			return StageSummary{}, false, s.internal("decoding "+r.ARN, err)
		}
		st.Tags = s.tags(ctx, st.ARN)
		return st.summary(), true, nil
	})
	if e != nil {
		return nil, e
	}
	return &listStagesResponse{Stages: stages, NextToken: next}, nil
}

// updateStage changes a stage's name and autoParticipantRecordingConfiguration;
// the latter cannot change while a participant recording of the stage runs
// (ConflictException, as IVS).
func (s *Server) updateStage(ctx context.Context, req *updateStageRequest) (*stageResponse, *wire.Error) {
	s.recordingMu.Lock()
	defer s.recordingMu.Unlock()
	var ipr AutoParticipantRecordingConfiguration
	if req.AutoParticipantRecordingConfiguration != nil {
		var e *wire.Error
		if ipr, e = s.participantRecording(ctx, req.AutoParticipantRecordingConfiguration); e != nil {
			return nil, e
		}
	}
	var st Stage
	var err error
	update := func(recording bool) {
		err = s.store.Update(ctx, req.ARN, func(r *store.Resource) error {
			if r.Kind != store.KindStage {
				return store.ErrNotFound
			}
			if err := json.Unmarshal(r.Doc, &st); err != nil {
				return err
			}
			if req.Name != nil {
				st.Name, r.Name = *req.Name, *req.Name
			}
			if req.AutoParticipantRecordingConfiguration != nil {
				if recording && !reflect.DeepEqual(st.AutoParticipantRecording.withDefaults(), ipr) {
					return errRecording
				}
				st.AutoParticipantRecording = ipr
			}
			r.Doc, _ = json.Marshal(st)
			return nil
		})
	}
	if req.AutoParticipantRecordingConfiguration != nil {
		s.recs.withStage(req.ARN, update)
	} else {
		update(false)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound("Stage", req.ARN)
	case errors.Is(err, errRecording):
		return nil, wire.Conflict("autoParticipantRecordingConfiguration cannot change while participants of the stage are recorded")
	case err != nil:
		return nil, s.internal("updating "+req.ARN, err)
	}
	st.Tags = s.tags(ctx, st.ARN)
	st.Endpoints = s.endpoints(ctx, st.ARN)
	st.AutoParticipantRecording = st.AutoParticipantRecording.withDefaults()
	return &stageResponse{Stage: st}, nil
}

// errRecording refuses a change of autoParticipantRecordingConfiguration.
var errRecording = errors.New("participants of the stage are recorded")

// deleteStage stops the stage's compositions, disconnects its
// participants, finalizes their recordings (reconnect windows or not),
// deletes it and takes its ingest configurations off it
// (after the stage is gone, so that none is attached to it meanwhile).
func (s *Server) deleteStage(ctx context.Context, req *arnRequest) (*empty, *wire.Error) {
	if _, e := s.getDoc(ctx, store.KindStage, req.ARN, nil); e != nil {
		return nil, e
	}
	for _, c := range s.stageCompositions(req.ARN) {
		c.stop("stage deleted")
	}
	s.cfg.Ingest.CloseStage(req.ARN)
	s.closeSession(ctx, req.ARN)
	if s.node != nil {
		s.node.mu.Lock()
		delete(s.node.opened, req.ARN)
		s.node.mu.Unlock()
	}
	err := s.store.Delete(ctx, req.ARN)
	if err == nil && s.node != nil {
		// After the delete, no node can place it again; whichever holds
		// it now closes it at its next tick.
		if ferr := s.store.ForgetStage(ctx, req.ARN); ferr != nil {
			s.log.Warn("ending a deleted stage's lease", "stage", req.ARN, "err", ferr)
		}
	}
	s.recs.finishStage(req.ARN) // after the delete: a publish event still on its way cannot start one
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, s.internal("deleting "+req.ARN, err)
	}
	if _, e := s.detachIngest(ctx, req.ARN, ""); e != nil {
		return nil, e
	}
	return &empty{}, nil
}

// participantRecording validates a requested autoParticipantRecordingConfiguration
// (its storage configuration must exist) and returns it with its defaults;
// nil is the defaults (disabled).
func (s *Server) participantRecording(ctx context.Context, c *AutoParticipantRecordingConfiguration) (AutoParticipantRecordingConfiguration, *wire.Error) {
	if c == nil {
		return AutoParticipantRecordingConfiguration{}.withDefaults(), nil
	}
	if e := c.check(); e != nil {
		return AutoParticipantRecordingConfiguration{}, e
	}
	if c.StorageConfigurationARN != "" && s.cfg.ParticipantRecorders == nil {
		return AutoParticipantRecordingConfiguration{}, notSupported("autoParticipantRecordingConfiguration", noParticipantRecording)
	}
	if c.StorageConfigurationARN != "" {
		if _, e := s.getDoc(ctx, store.KindStorageConfiguration, c.StorageConfigurationARN, nil); e != nil {
			return AutoParticipantRecordingConfiguration{}, e
		}
	}
	return c.withDefaults(), nil
}
