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

type startCompositionInput struct {
	StageARN         string                     `json:"stageArn"`
	IdempotencyToken string                     `json:"idempotencyToken"`
	Layout           *layout.Config             `json:"layout"`
	Destinations     []DestinationConfiguration `json:"destinations"`
	Tags             map[string]string          `json:"tags"`
}

func (s *Server) startComposition(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req startCompositionInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	if _, e := s.getDoc(ctx, store.KindStage, req.StageARN, nil); e != nil {
		return nil, e
	}
	lay := layout.Config{}
	if req.Layout != nil {
		lay = *req.Layout
	}
	if err := lay.Validate(); err != nil {
		return nil, wire.ValidationError(err.Error())
	}
	lay = lay.WithDefaults()

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
		norm := req
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

	// Quotas.
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
	return map[string]any{"composition": comp}, nil
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
func (s *Server) existingComposition(ctx context.Context, r store.Resource) (any, *wire.Error) {
	var c Composition
	if err := json.Unmarshal(r.Doc, &c); err != nil {
		return nil, s.internal("decoding the composition", err)
	}
	c.Tags = s.tags(ctx, c.ARN)
	return map[string]any{"composition": c}, nil
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
			return d, ds, wire.ResourceNotFound("channel not found: " + dc.Channel.ChannelARN)
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

// liveStates are the states of compositions that count against the quotas.
var liveStates = []string{string(contract.StateStarting), string(contract.StateActive), string(contract.StateStopping)}

// run starts a composition's lifecycle.
func (s *Server) run(spec contract.CompositionSpec) {
	c := newComposition(spec, s.cfg.Ingest.Stage(spec.StageARN), s.cfg.Timeouts, s.log.With("composition", spec.ARN))
	c.events = func(name, dest, reason string) { s.compositionEvent(spec, name, dest, reason) }
	c.onChange = func(st CompositionStatus) { s.saveStatus(spec.ARN, st) }
	c.onGone = func() {
		s.mu.Lock()
		delete(s.comps, spec.ARN)
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.comps[spec.ARN] = c
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.run(s.ctx, s.cfg.Pipelines)
	}()
}

// saveStatus writes a composition's state into its stored document.
func (s *Server) saveStatus(arn string, st CompositionStatus) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.store.Update(ctx, arn, func(r *store.Resource) error {
		var c Composition
		if err := json.Unmarshal(r.Doc, &c); err != nil {
			return err
		}
		c.State, c.StartTime, c.EndTime = st.State, timestamp(st.StartTime), timestamp(st.EndTime)
		for i := range c.Destinations {
			d := &c.Destinations[i]
			if ds, ok := st.Destinations[d.ID]; ok {
				d.State, d.StartTime, d.EndTime = ds.State, timestamp(ds.StartTime), timestamp(ds.EndTime)
			}
		}
		r.State = string(st.State)
		r.Doc, _ = json.Marshal(c)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("saving composition state", "arn", arn, "err", err)
	}
}

// compositionEvent sends an EventBridge-shaped event.
func (s *Server) compositionEvent(spec contract.CompositionSpec, name, dest, reason string) {
	d := EventDetail{EventName: name, StageARN: spec.StageARN, DestinationID: dest, Reason: reason}
	for _, ds := range spec.Destinations {
		if ds.ID == dest {
			d.DestinationARN = ds.ChannelARN + ds.StorageARN
		}
	}
	s.notifier.Notify(Event{Version: "0", ID: newEventID(), DetailType: "IVS Composition State Change", Source: "aws.ivs",
		Account: s.cfg.AccountID, Time: time.Now().UTC().Format(time.RFC3339), Region: s.cfg.Region,
		Resources: []string{spec.ARN}, Detail: d})
}

func (s *Server) getComposition(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req arnInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	var c Composition
	if _, e := s.getDoc(ctx, store.KindComposition, req.ARN, &c); e != nil {
		return nil, e
	}
	c.Tags = s.tags(ctx, c.ARN)
	return map[string]any{"composition": c}, nil
}

func (s *Server) listCompositions(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req struct {
		FilterByStageARN                string `json:"filterByStageArn"`
		FilterByEncoderConfigurationARN string `json:"filterByEncoderConfigurationArn"`
		NextToken                       string `json:"nextToken"`
		MaxResults                      int    `json:"maxResults"`
	}
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	out := []CompositionSummary{}
	next := req.NextToken
	for {
		rs, n, e := s.page(ctx, store.ListQuery{Kind: store.KindComposition, Parent: req.FilterByStageARN}, next, req.MaxResults)
		if e != nil {
			return nil, e
		}
		for _, r := range rs {
			var c Composition
			if err := json.Unmarshal(r.Doc, &c); err != nil {
				return nil, s.internal("decoding "+r.ARN, err)
			}
			if req.FilterByEncoderConfigurationARN != "" && !usesEncoder(c, req.FilterByEncoderConfigurationARN) {
				continue
			}
			sum := CompositionSummary{ARN: c.ARN, StageARN: c.StageARN, State: c.State, Tags: s.tags(ctx, c.ARN),
				StartTime: c.StartTime, EndTime: c.EndTime, Destinations: []DestinationSummary{}}
			for _, d := range c.Destinations {
				sum.Destinations = append(sum.Destinations, DestinationSummary{ID: d.ID, State: d.State, StartTime: d.StartTime, EndTime: d.EndTime})
			}
			out = append(out, sum)
		}
		next = n
		if next == "" || len(out) > 0 {
			break
		}
	}
	return listOutput("compositions", out, next), nil
}

func usesEncoder(c Composition, arn string) bool {
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

func (s *Server) stopComposition(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req arnInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	if _, e := s.getDoc(ctx, store.KindComposition, req.ARN, nil); e != nil {
		return nil, e
	}
	s.mu.Lock()
	c := s.comps[req.ARN]
	s.mu.Unlock()
	if c != nil {
		c.stop("StopComposition")
	}
	return nil, nil
}

// janitor deletes ended compositions once their retention period passed
// (also those that ended before a restart).
func (s *Server) janitor() {
	defer s.wg.Done()
	t := time.NewTicker(max(s.cfg.Timeouts.Retention/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.sweep()
	}
}

func (s *Server) sweep() {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	for _, state := range []string{string(contract.StateStopped), string(contract.StateFailed)} {
		after := ""
		for {
			rs, next, err := s.store.List(ctx, store.ListQuery{Kind: store.KindComposition, State: state, After: after, Limit: 100})
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("sweeping compositions", "err", err)
				}
				return
			}
			for _, r := range rs {
				var c Composition
				if json.Unmarshal(r.Doc, &c) != nil {
					continue
				}
				end, err := time.Parse(time.RFC3339Nano, c.EndTime)
				if err == nil && time.Since(end) >= s.cfg.Timeouts.Retention {
					if err := s.store.Delete(ctx, r.ARN); err != nil && !errors.Is(err, store.ErrNotFound) {
						s.log.Error("deleting an ended composition", "arn", r.ARN, "err", err)
					}
				}
			}
			if next == "" {
				break
			}
			after = next
		}
	}
}
