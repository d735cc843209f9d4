package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
)

// Encoder configuration defaults (IVS).
const (
	defaultWidth     = 1280
	defaultHeight    = 720
	defaultFramerate = 30.0
	defaultBitrate   = 2_500_000
	maxPixels        = 2_073_600
)

// createEncoderConfiguration stores an encoder configuration with every
// video member given or defaulted, and echoes them.
func (s *Server) createEncoderConfiguration(ctx context.Context, req *createEncoderConfigurationRequest) (*encoderConfigurationResponse, *wire.Error) {
	v := Video{}
	if req.Video != nil {
		v = *req.Video
	}
	w, h, fr, br := defaultWidth, defaultHeight, defaultFramerate, defaultBitrate
	if v.Width != nil {
		w = *v.Width
	}
	if v.Height != nil {
		h = *v.Height
	}
	if v.Framerate != nil {
		fr = *v.Framerate
	}
	if v.Bitrate != nil {
		br = *v.Bitrate
	}
	switch {
	case w%2 != 0:
		return nil, wire.ValidationError(fmt.Sprintf("video.width %d must be even", w))
	case h%2 != 0:
		return nil, wire.ValidationError(fmt.Sprintf("video.height %d must be even", h))
	case w*h > maxPixels:
		return nil, wire.ValidationError(fmt.Sprintf("video.width × video.height (%d × %d) must not exceed %d pixels", w, h, maxPixels))
	}
	n, err := s.store.Count(ctx, store.KindEncoderConfiguration, "")
	if err != nil {
		return nil, s.internal("counting encoder configurations", err)
	}
	if n >= s.cfg.Quotas.EncoderConfigurations {
		return nil, wire.ServiceQuotaExceeded(fmt.Sprintf("at most %d encoder configurations", s.cfg.Quotas.EncoderConfigurations))
	}
	ec := EncoderConfiguration{ARN: s.arn("encoder-configuration", newID()), Name: req.Name,
		Video: Video{Width: &w, Height: &h, Framerate: &fr, Bitrate: &br}, Tags: nonNil(req.Tags)}
	if e := s.putDoc(ctx, store.KindEncoderConfiguration, ec.ARN, "", ec.Name, "", ec, ec.Tags); e != nil {
		return nil, e
	}
	return &encoderConfigurationResponse{EncoderConfiguration: ec}, nil
}

func (s *Server) getEncoderConfiguration(ctx context.Context, req *arnRequest) (*encoderConfigurationResponse, *wire.Error) {
	var ec EncoderConfiguration
	if _, e := s.getDoc(ctx, store.KindEncoderConfiguration, req.ARN, &ec); e != nil {
		return nil, e
	}
	ec.Tags = s.tags(ctx, ec.ARN)
	return &encoderConfigurationResponse{EncoderConfiguration: ec}, nil
}

func (s *Server) listEncoderConfigurations(ctx context.Context, req *listRequest) (*listEncoderConfigurationsResponse, *wire.Error) {
	ecs, next, e := list(ctx, s, store.ListQuery{Kind: store.KindEncoderConfiguration}, *req, func(r store.Resource) (EncoderConfigurationSummary, bool, *wire.Error) {
		return EncoderConfigurationSummary{ARN: r.ARN, Name: r.Name, Tags: s.tags(ctx, r.ARN)}, true, nil
	})
	if e != nil {
		return nil, e
	}
	return &listEncoderConfigurationsResponse{EncoderConfigurations: ecs, NextToken: next}, nil
}

func (s *Server) deleteEncoderConfiguration(ctx context.Context, req *arnRequest) (*empty, *wire.Error) {
	return s.deleteConfiguration(ctx, store.KindEncoderConfiguration, req.ARN)
}

func (s *Server) createStorageConfiguration(ctx context.Context, req *createStorageConfigurationRequest) (*storageConfigurationResponse, *wire.Error) {
	n, err := s.store.Count(ctx, store.KindStorageConfiguration, "")
	if err != nil {
		return nil, s.internal("counting storage configurations", err)
	}
	if n >= s.cfg.Quotas.StorageConfigurations {
		return nil, wire.ServiceQuotaExceeded(fmt.Sprintf("at most %d storage configurations", s.cfg.Quotas.StorageConfigurations))
	}
	sc := StorageConfiguration{ARN: s.arn("storage-configuration", newID()), Name: req.Name, S3: req.S3, Tags: nonNil(req.Tags)}
	if e := s.putDoc(ctx, store.KindStorageConfiguration, sc.ARN, "", sc.Name, "", sc, sc.Tags); e != nil {
		return nil, e
	}
	return &storageConfigurationResponse{StorageConfiguration: sc}, nil
}

func (s *Server) getStorageConfiguration(ctx context.Context, req *arnRequest) (*storageConfigurationResponse, *wire.Error) {
	var sc StorageConfiguration
	if _, e := s.getDoc(ctx, store.KindStorageConfiguration, req.ARN, &sc); e != nil {
		return nil, e
	}
	sc.Tags = s.tags(ctx, sc.ARN)
	return &storageConfigurationResponse{StorageConfiguration: sc}, nil
}

func (s *Server) listStorageConfigurations(ctx context.Context, req *listRequest) (*listStorageConfigurationsResponse, *wire.Error) {
	scs, next, e := list(ctx, s, store.ListQuery{Kind: store.KindStorageConfiguration}, *req, func(r store.Resource) (StorageConfiguration, bool, *wire.Error) {
		var sc StorageConfiguration
		if err := json.Unmarshal(r.Doc, &sc); err != nil {
			return sc, false, s.internal("decoding "+r.ARN, err)
		}
		sc.Tags = s.tags(ctx, r.ARN)
		return sc, true, nil
	})
	if e != nil {
		return nil, e
	}
	return &listStorageConfigurationsResponse{StorageConfigurations: scs, NextToken: next}, nil
}

// deleteStorageConfiguration deletes a storage configuration unless a
// running composition uses it or a stage's autoParticipantRecordingConfiguration
// names it (ConflictException).
func (s *Server) deleteStorageConfiguration(ctx context.Context, req *arnRequest) (*empty, *wire.Error) {
	s.recordingMu.Lock() // no stage comes to name it meanwhile
	defer s.recordingMu.Unlock()
	if _, e := s.getDoc(ctx, store.KindStorageConfiguration, req.ARN, nil); e != nil {
		return nil, e
	}
	after := ""
	for {
		page, next, err := s.store.List(ctx, store.ListQuery{Kind: store.KindStage, After: after, Limit: 100})
		if err != nil {
			return nil, s.internal("listing stages", err)
		}
		for _, r := range page {
			var st Stage
			if err := json.Unmarshal(r.Doc, &st); err != nil {
				return nil, s.internal("decoding "+r.ARN, err)
			}
			if st.AutoParticipantRecording.StorageConfigurationARN == req.ARN {
				return nil, wire.Conflict(fmt.Sprintf("%s is the storage configuration of the autoParticipantRecordingConfiguration of stage %s", req.ARN, r.ARN))
			}
		}
		if next == "" {
			return s.deleteConfiguration(ctx, store.KindStorageConfiguration, req.ARN)
		}
		after = next
	}
}

// deleteConfiguration deletes an encoder or storage configuration unless a
// composition STARTING or ACTIVE uses it (ConflictException). One that is
// STOPPING keeps what it resolved at start: once StopComposition answered,
// its configurations can go.
func (s *Server) deleteConfiguration(ctx context.Context, kind, arn string) (*empty, *wire.Error) {
	if _, e := s.getDoc(ctx, kind, arn, nil); e != nil {
		return nil, e
	}
	s.mu.Lock()
	for _, c := range s.comps {
		if !c.running() {
			continue
		}
		for _, d := range c.spec.Destinations {
			if d.Encoder.ARN == arn || d.StorageARN == arn {
				s.mu.Unlock()
				return nil, wire.Conflict(fmt.Sprintf("%s is used by the running composition %s", arn, c.spec.ARN))
			}
		}
	}
	s.mu.Unlock()
	if err := s.store.Delete(ctx, arn); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, s.internal("deleting "+arn, err)
	}
	return &empty{}, nil
}
