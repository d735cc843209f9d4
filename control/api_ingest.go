package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/ingest"
)

// Ingest configurations (CreateIngestConfiguration and its siblings): the
// stream keys with which RTMP(S) publishers (OBS, FFmpeg) join a stage as
// a participant of their own. Each is stored (under its stage, the store's
// parent) and put in ingest's set (ingest.IngestKeys) under its ARN; every
// change reaches the set before its operation answers, so a configuration
// deleted or taken off its stage stops publishing at once. Its state is
// read from the set on every read: ACTIVE while its key publishes.
// DeleteStage, and DisconnectParticipant of its participant, take a
// configuration off its stage (stageArn ""). Changes are serialized
// (Server.ingestMu), so the store and the set never disagree.

// The states of an ingest configuration.
const (
	ingestActive   = "ACTIVE"
	ingestInactive = "INACTIVE"
)

// streamKeySecretLen is the length of a stream key's secret part: 32
// random id characters, more than 128 bits.
const streamKeySecretLen = 32

// noRedundantIngest is why redundantIngest is refused.
const noRedundantIngest = "a configuration has one stream key"

// key is c as ingest checks publishers against it.
func (c storedIngestConfiguration) key() ingest.IngestKey {
	return ingest.IngestKey{ARN: c.ARN, StreamKey: c.StreamKey, StageARN: c.StageARN, ParticipantID: c.ParticipantID,
		UserID: c.UserID, Attributes: c.Attributes, Insecure: c.InsecureIngest}
}

// ingestState is a configuration's state now.
func (s *Server) ingestState(arn string) string {
	if s.cfg.Ingest.IngestKeys().Live(arn) {
		return ingestActive
	}
	return ingestInactive
}

// shown is c as the API shows it: with its state and tags now.
func (s *Server) shown(ctx context.Context, c storedIngestConfiguration) *ingestConfigurationResponse {
	out := c.IngestConfiguration
	out.State = s.ingestState(c.ARN)
	out.Tags = s.tags(ctx, c.ARN)
	return &ingestConfigurationResponse{IngestConfiguration: out}
}

// attachable refuses a stage ARN that is neither "" nor an existing
// stage's.
func (s *Server) attachable(ctx context.Context, stageARN string) *wire.Error {
	if stageARN == "" {
		return nil
	}
	_, e := s.getDoc(ctx, store.KindStage, stageARN, nil)
	return e
}

// createIngestConfiguration stores a configuration with a new stream key
// and participant id, and puts it in ingest's set.
func (s *Server) createIngestConfiguration(ctx context.Context, req *createIngestConfigurationRequest) (*ingestConfigurationResponse, *wire.Error) {
	if req.RedundantIngest {
		return nil, notSupported("redundantIngest", noRedundantIngest)
	}
	if req.IngestProtocol == "RTMP" && !req.InsecureIngest {
		return nil, wire.ValidationError("ingestProtocol RTMP requires insecureIngest: true (RTMP is not encrypted); use RTMPS, or set insecureIngest to true")
	}
	if e := checkAttributes(req.Attributes); e != nil {
		return nil, e
	}
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	if e := s.attachable(ctx, req.StageARN); e != nil {
		return nil, e
	}
	n, err := s.store.Count(ctx, store.KindIngestConfiguration, "")
	if err != nil {
		return nil, s.internal("counting ingest configurations", err)
	}
	if n >= s.cfg.Quotas.IngestConfigurations {
		return nil, wire.ServiceQuotaExceeded(fmt.Sprintf("at most %d ingest configurations", s.cfg.Quotas.IngestConfigurations))
	}
	id := newID()
	c := storedIngestConfiguration{IngestConfiguration: IngestConfiguration{
		ARN: s.arn("ingest-configuration", id), Name: req.Name, IngestProtocol: req.IngestProtocol,
		StreamKey: "rt_" + s.cfg.AccountID + "_" + s.cfg.Region + "_" + id + "_" + randomID(streamKeySecretLen),
		StageARN:  req.StageARN, ParticipantID: newID(), UserID: req.UserID, Attributes: req.Attributes, Tags: nonNil(req.Tags),
	}, InsecureIngest: req.InsecureIngest}
	if e := s.putDoc(ctx, store.KindIngestConfiguration, c.ARN, c.StageARN, c.Name, "", c, c.Tags); e != nil {
		return nil, e
	}
	s.cfg.Ingest.IngestKeys().Set(c.key())
	return s.shown(ctx, c), nil
}

func (s *Server) getIngestConfiguration(ctx context.Context, req *arnRequest) (*ingestConfigurationResponse, *wire.Error) {
	var c storedIngestConfiguration
	if _, e := s.getDoc(ctx, store.KindIngestConfiguration, req.ARN, &c); e != nil {
		return nil, e
	}
	return s.shown(ctx, c), nil
}

// updateIngestConfiguration attaches a configuration to a stage, or
// detaches it; not while it publishes.
func (s *Server) updateIngestConfiguration(ctx context.Context, req *updateIngestConfigurationRequest) (*ingestConfigurationResponse, *wire.Error) {
	if req.RedundantIngest {
		return nil, notSupported("redundantIngest", noRedundantIngest)
	}
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	var c storedIngestConfiguration
	if _, e := s.getDoc(ctx, store.KindIngestConfiguration, req.ARN, &c); e != nil {
		return nil, e
	}
	if s.ingestState(c.ARN) == ingestActive {
		return nil, wire.Conflict("ingest configuration " + c.ARN + " is ACTIVE (publishing): it can be updated once its publisher stopped")
	}
	if req.StageARN != nil {
		if e := s.attachable(ctx, *req.StageARN); e != nil {
			return nil, e
		}
		c.StageARN = *req.StageARN
	}
	if e := s.saveIngestConfiguration(ctx, c); e != nil {
		return nil, e
	}
	return s.shown(ctx, c), nil
}

// deleteIngestConfiguration deletes a configuration; one that publishes
// only with force, which ends the publish.
func (s *Server) deleteIngestConfiguration(ctx context.Context, req *deleteIngestConfigurationRequest) (*empty, *wire.Error) {
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	if _, e := s.getDoc(ctx, store.KindIngestConfiguration, req.ARN, nil); e != nil {
		return nil, e
	}
	if !req.Force && s.ingestState(req.ARN) == ingestActive {
		return nil, wire.Conflict("ingest configuration " + req.ARN + " is ACTIVE (publishing): delete it with force to disconnect its publisher")
	}
	if err := s.store.Delete(ctx, req.ARN); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, s.internal("deleting "+req.ARN, err)
	}
	s.cfg.Ingest.IngestKeys().Delete(req.ARN)
	return &empty{}, nil
}

func (s *Server) listIngestConfigurations(ctx context.Context, req *listIngestConfigurationsRequest) (*listIngestConfigurationsResponse, *wire.Error) {
	if req.FilterByStageARN != "" && req.FilterByState != "" {
		return nil, wire.ValidationError("only one filter can be used at a time: filterByStageArn or filterByState")
	}
	q := store.ListQuery{Kind: store.KindIngestConfiguration, Parent: req.FilterByStageARN}
	configs, next, e := list(ctx, s, q, req.listRequest, func(r store.Resource) (IngestConfigurationSummary, bool, *wire.Error) {
		var c IngestConfiguration
		if err := json.Unmarshal(r.Doc, &c); err != nil {
			return IngestConfigurationSummary{}, false, s.internal("decoding "+r.ARN, err)
		}
		c.State = s.ingestState(c.ARN)
		return c.summary(), req.FilterByState == "" || c.State == req.FilterByState, nil
	})
	if e != nil {
		return nil, e
	}
	return &listIngestConfigurationsResponse{IngestConfigurations: configs, NextToken: next}, nil
}

// saveIngestConfiguration stores a changed configuration and puts it in
// ingest's set, which ends its publish if its stage changed. The caller
// holds ingestMu (or is New).
func (s *Server) saveIngestConfiguration(ctx context.Context, c storedIngestConfiguration) *wire.Error {
	c.State = ""
	doc, err := json.Marshal(c)
	if err != nil {
		return s.internal("encoding", err)
	}
	err = s.store.Update(ctx, c.ARN, func(r *store.Resource) error {
		r.Parent, r.Doc = c.StageARN, doc
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound(kindName(store.KindIngestConfiguration), c.ARN)
	}
	if err != nil {
		return s.internal("updating "+c.ARN, err)
	}
	s.cfg.Ingest.IngestKeys().Set(c.key())
	return nil
}

// ingestConfigurations returns the stored configurations attached to a
// stage, or all of them for "".
func (s *Server) ingestConfigurations(ctx context.Context, stageARN string) ([]storedIngestConfiguration, error) {
	return all[storedIngestConfiguration](ctx, s, store.ListQuery{Kind: store.KindIngestConfiguration, Parent: stageARN})
}

// detachIngest takes a stage's configurations off it (all of them, or the
// one whose participant is participantID when that is not ""), ending
// their publishes; it reports whether it found any.
func (s *Server) detachIngest(ctx context.Context, stageARN, participantID string) (bool, *wire.Error) {
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	configs, err := s.ingestConfigurations(ctx, stageARN)
	if err != nil {
		return false, s.internal("loading ingest configurations", err)
	}
	found := false
	for _, c := range configs {
		if participantID != "" && c.ParticipantID != participantID {
			continue
		}
		c.StageARN = ""
		if e := s.saveIngestConfiguration(ctx, c); e != nil {
			return found, e
		}
		found = true
	}
	return found, nil
}

// loadIngestConfigurations puts every stored configuration in ingest's
// set, and removes from it those no longer stored (at start-up, and on
// every tick of a node in a cluster). One still attached to a stage that no longer exists
// (a crash between DeleteStage's steps) is detached first.
func (s *Server) loadIngestConfigurations(ctx context.Context) error {
	configs, err := s.ingestConfigurations(ctx, "")
	if err != nil {
		return fmt.Errorf("control: loading ingest configurations: %w", err)
	}
	stored := map[string]bool{}
	for _, c := range configs {
		if c.StageARN != "" {
			_, err := s.store.Get(ctx, c.StageARN)
			if errors.Is(err, store.ErrNotFound) {
				s.log.Warn("ingest configuration attached to a deleted stage; detaching it", "arn", c.ARN, "stage", c.StageARN)
				c.StageARN = ""
				if e := s.saveIngestConfiguration(ctx, c); e != nil {
					return fmt.Errorf("control: detaching %s: %w", c.ARN, e)
				}
				stored[c.ARN] = true // and put in the set, detached
				continue
			}
			if err != nil {
				return fmt.Errorf("control: loading ingest configuration %s: %w", c.ARN, err)
			}
		}
		s.cfg.Ingest.IngestKeys().Set(c.key())
		stored[c.ARN] = true
	}
	for _, arn := range s.cfg.Ingest.IngestKeys().ARNs() {
		if !stored[arn] {
			s.cfg.Ingest.IngestKeys().Delete(arn) // deleted through another node
		}
	}
	return nil
}
