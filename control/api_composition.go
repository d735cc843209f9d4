package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/layout"
)

// startComposition resolves the destinations (defaults filled in),
// answers a repeated idempotency token with the composition it started,
// applies the quotas, stores the composition and starts it.
func (s *Server) startComposition(ctx context.Context, req *startCompositionRequest) (*compositionResponse, *wire.Error) {
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	lay, e := resolveLayout(req.Layout)
	if e != nil {
		return nil, e
	}

	// Resolve the destinations before anything is created.
	compID := newID()
	comp := Composition{ARN: s.arn("composition", compID), StageARN: req.StageARN, State: contract.StateStarting,
		Layout: lay, Tags: nonNil(req.Tags), StartTime: timestamp(time.Now())}
	spec := contract.CompositionSpec{ARN: comp.ARN, ID: compID, StageARN: req.StageARN, Layout: lay}
	var channels, s3s int
	for i, dc := range req.Destinations {
		d, ds, e := s.destination(ctx, i, arnID(req.StageARN), compID, dc)
		if e != nil {
			return nil, e
		}
		if dc.Channel != nil {
			channels++
		} else {
			s3s++
		}
		comp.Destinations = append(comp.Destinations, d)
		spec.Destinations = append(spec.Destinations, ds)
	}
	if channels > 1 || s3s > 1 {
		return nil, wire.ValidationError("at most one channel and one s3 destination per composition")
	}

	// A repeated request (same idempotency token) returns what the first
	// one created, before any quota applies.
	idemKey, idemHash := "", ""
	if req.IdempotencyToken != "" {
		idemKey = "StartComposition/" + req.IdempotencyToken
		norm := *req
		norm.IdempotencyToken, norm.Tags = "", nonNil(req.Tags)
		h := sha256.New()
		_ = json.NewEncoder(h).Encode(norm)
		idemHash = hex.EncodeToString(h.Sum(nil))
		got, found, err := s.store.LookupIdempotent(ctx, idemKey, idemHash)
		if e := s.idempotencyError(err); e != nil {
			return nil, e
		}
		if found {
			return s.existingComposition(ctx, got)
		}
	}

	// Quotas, then the capacity, checked and taken one composition at a
	// time.
	s.admitMu.Lock()
	defer s.admitMu.Unlock()
	running, err := s.store.Count(ctx, store.KindComposition, "", liveStates...)
	if err != nil {
		return nil, s.internal("counting compositions", err)
	}
	if running >= s.cfg.Quotas.Compositions {
		return nil, wire.ServiceQuotaExceeded(fmt.Sprintf("at most %d compositions at once", s.cfg.Quotas.Compositions))
	}
	onStage, err := s.store.Count(ctx, store.KindComposition, req.StageARN, liveStates...)
	if err != nil {
		return nil, s.internal("counting compositions", err)
	}
	if onStage >= s.cfg.Quotas.CompositionsPerStage {
		return nil, wire.ServiceQuotaExceeded(fmt.Sprintf("at most %d compositions per stage", s.cfg.Quotas.CompositionsPerStage))
	}
	if e := s.admit(spec); e != nil {
		return nil, e
	}

	if s.node != nil { // before it exists: a node that dies then leaves no composition unowned
		if err := s.store.SetCompositionNode(ctx, comp.ARN, s.node.cfg.ID); err != nil {
			return nil, s.internal("recording the composition's node", err)
		}
	}
	doc, _ := json.Marshal(comp)
	r := store.Resource{ARN: comp.ARN, Kind: store.KindComposition, ID: compID, Parent: req.StageARN, State: string(contract.StateStarting), Doc: doc}
	if idemKey != "" {
		got, created, err := s.store.PutIdempotent(ctx, idemKey, idemHash, r)
		if e := s.idempotencyError(err); e != nil {
			return nil, e
		}
		if !created {
			return s.existingComposition(ctx, got)
		}
	} else if _, err := s.store.Create(ctx, r); err != nil {
		return nil, s.internal("storing the composition", err)
	}
	if len(comp.Tags) > 0 {
		if err := s.store.SetTags(ctx, comp.ARN, comp.Tags); err != nil {
			return nil, s.internal("storing tags", err)
		}
	}
	s.run(spec)
	return &compositionResponse{Composition: comp}, nil
}

// resolveLayout checks a requested layout (nil: none given) and fills in
// the API's defaults: the layout a composition runs, stores and echoes, as
// StartComposition and UpdateComposition take it.
func resolveLayout(l *layout.Config) (layout.Config, *wire.Error) {
	var c layout.Config
	if l != nil {
		c = *l
	}
	if err := c.Validate(); err != nil {
		return layout.Config{}, wire.ValidationError(err.Error())
	}
	return c.WithDefaults(), nil
}

// idempotencyError maps the store's idempotency outcomes to API errors.
func (s *Server) idempotencyError(err error) *wire.Error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConflict):
		return wire.Conflict("idempotencyToken was used with a different request")
	case errors.Is(err, store.ErrNotFound):
		return wire.Conflict("idempotencyToken belongs to a composition that no longer exists")
	}
	return s.internal("storing the composition", err)
}

// existingComposition answers a repeated StartComposition.
func (s *Server) existingComposition(ctx context.Context, r store.Resource) (*compositionResponse, *wire.Error) {
	var c Composition
	if err := json.Unmarshal(r.Doc, &c); err != nil {
		return nil, s.internal("decoding the composition", err)
	}
	c.Tags = s.tags(ctx, c.ARN)
	return &compositionResponse{Composition: c}, nil
}

// destination resolves one requested destination, filling in defaults.
func (s *Server) destination(ctx context.Context, i int, stageID, compID string, dc DestinationConfiguration) (Destination, contract.DestinationSpec, *wire.Error) {
	id := newID()
	d := Destination{ID: id, State: contract.StateStarting, Configuration: dc}
	ds := contract.DestinationSpec{ID: id}
	switch {
	case (dc.Channel == nil) == (dc.S3 == nil):
		return d, ds, wire.ValidationError(fmt.Sprintf("destinations.%d: exactly one of channel and s3 must be set", i+1))
	case dc.Channel != nil:
		url, ok := s.cfg.Channels[dc.Channel.ChannelARN]
		if !ok {
			return d, ds, wire.ResourceNotFound(fmt.Sprintf("channel not found: %s (channels are the server's to configure: tessera serve --channel ARN=rtmp[s]://…; it has %d)",
				dc.Channel.ChannelARN, len(s.cfg.Channels)))
		}
		enc, e := s.encoder(ctx, dc.Channel.EncoderConfigurationARN)
		if e != nil {
			return d, ds, e
		}
		ds.ChannelARN, ds.ChannelURL, ds.Encoder = dc.Channel.ChannelARN, url, enc
	default:
		c := *dc.S3
		var sc StorageConfiguration
		if _, e := s.getDoc(ctx, store.KindStorageConfiguration, c.StorageConfigurationARN, &sc); e != nil {
			return d, ds, e
		}
		if len(c.EncoderConfigurationARNs) != 1 {
			return d, ds, wire.ValidationError(fmt.Sprintf("destinations.%d.s3.encoderConfigurationArns: exactly one encoder configuration is supported", i+1))
		}
		enc, e := s.encoder(ctx, c.EncoderConfigurationARNs[0])
		if e != nil {
			return d, ds, e
		}
		if c.RecordingConfiguration == nil {
			c.RecordingConfiguration = &RecordingConfiguration{}
		}
		rc := *c.RecordingConfiguration
		if rc.Format == "" {
			rc.Format = "HLS"
		}
		if rc.HLSConfiguration == nil {
			rc.HLSConfiguration = &HLSConfiguration{}
		}
		hls := *rc.HLSConfiguration
		if hls.TargetSegmentDurationSeconds == nil {
			two := 2
			hls.TargetSegmentDurationSeconds = &two
		}
		rc.HLSConfiguration = &hls
		c.RecordingConfiguration = &rc
		if len(c.ThumbnailConfigurations) == 0 {
			c.ThumbnailConfigurations = []ThumbnailConfiguration{{}}
		}
		for j := range c.ThumbnailConfigurations {
			tc := &c.ThumbnailConfigurations[j]
			if tc.TargetIntervalSeconds == nil {
				sixty := 60
				tc.TargetIntervalSeconds = &sixty
			}
			if len(tc.Storage) == 0 {
				tc.Storage = []string{"SEQUENTIAL"}
			}
		}
		d.Configuration.S3 = &c
		prefix := stageID + "/" + compID + "/" + id + "/composite"
		d.Detail = &DestinationDetail{S3: &S3Detail{RecordingPrefix: prefix}}
		tc := c.ThumbnailConfigurations[0]
		ds.StorageARN, ds.Bucket, ds.RecordingPrefix, ds.Encoder = c.StorageConfigurationARN, sc.S3.BucketName, prefix, enc
		ds.TargetSegment = time.Duration(*hls.TargetSegmentDurationSeconds) * time.Second
		ds.ThumbnailInterval = time.Duration(*tc.TargetIntervalSeconds) * time.Second
		ds.ThumbnailStorage = tc.Storage
		ds.ThumbnailsRecorded = true
	}
	return d, ds, nil
}

// encoder loads an encoder configuration; "" is the default one.
func (s *Server) encoder(ctx context.Context, arn string) (contract.EncoderSpec, *wire.Error) {
	if arn == "" {
		return contract.EncoderSpec{Width: defaultWidth, Height: defaultHeight, Framerate: defaultFramerate, Bitrate: defaultBitrate}, nil
	}
	var ec EncoderConfiguration
	if _, e := s.getDoc(ctx, store.KindEncoderConfiguration, arn, &ec); e != nil {
		return contract.EncoderSpec{}, e
	}
	return contract.EncoderSpec{ARN: arn, Width: *ec.Video.Width, Height: *ec.Video.Height, Framerate: *ec.Video.Framerate, Bitrate: *ec.Video.Bitrate}, nil
}

func (s *Server) getComposition(ctx context.Context, req *arnRequest) (*compositionResponse, *wire.Error) {
	var c Composition
	if _, e := s.getDoc(ctx, store.KindComposition, req.ARN, &c); e != nil {
		return nil, e
	}
	c.Tags = s.tags(ctx, c.ARN)
	return &compositionResponse{Composition: c}, nil
}

func (s *Server) listCompositions(ctx context.Context, req *listCompositionsRequest) (*listCompositionsResponse, *wire.Error) {
	q := store.ListQuery{Kind: store.KindComposition, Parent: req.FilterByStageARN}
	comps, next, e := list(ctx, s, q, req.listRequest, func(r store.Resource) (CompositionSummary, bool, *wire.Error) {
		var c Composition
		if err := json.Unmarshal(r.Doc, &c); err != nil {
			return CompositionSummary{}, false, s.internal("decoding "+r.ARN, err)
		}
		if req.FilterByEncoderConfigurationARN != "" && !c.usesEncoder(req.FilterByEncoderConfigurationARN) {
			return CompositionSummary{}, false, nil
		}
		c.Tags = s.tags(ctx, c.ARN)
		return c.summary(), true, nil
	})
	if e != nil {
		return nil, e
	}
	return &listCompositionsResponse{Compositions: comps, NextToken: next}, nil
}

// usesEncoder tells whether a destination of c uses the encoder
// configuration arn.
func (c Composition) usesEncoder(arn string) bool {
	for _, d := range c.Destinations {
		if d.Configuration.Channel != nil && d.Configuration.Channel.EncoderConfigurationARN == arn {
			return true
		}
		if d.Configuration.S3 != nil && slices.Contains(d.Configuration.S3.EncoderConfigurationARNs, arn) {
			return true
		}
	}
	return false
}

// stopComposition asks a running composition to stop; a composition that
// already ended is left as it is.
func (s *Server) stopComposition(ctx context.Context, req *arnRequest) (*empty, *wire.Error) {
	if _, e := s.getDoc(ctx, store.KindComposition, req.ARN, nil); e != nil {
		return nil, e
	}
	s.mu.Lock()
	c := s.comps[req.ARN]
	s.mu.Unlock()
	if c != nil {
		c.stop("StopComposition")
	}
	return &empty{}, nil
}
