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

func (s *Server) createEncoderConfiguration(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req struct {
		Name  string            `json:"name"`
		Video *Video            `json:"video"`
		Tags  map[string]string `json:"tags"`
	}
	if e := decode(in, &req); e != nil {
		return nil, e
	}
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
	return map[string]any{"encoderConfiguration": ec}, nil
}

func (s *Server) getEncoderConfiguration(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req arnInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	var ec EncoderConfiguration
	if _, e := s.getDoc(ctx, store.KindEncoderConfiguration, req.ARN, &ec); e != nil {
		return nil, e
	}
	ec.Tags = s.tags(ctx, ec.ARN)
	return map[string]any{"encoderConfiguration": ec}, nil
}

func (s *Server) listEncoderConfigurations(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req listInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	rs, next, e := s.page(ctx, store.ListQuery{Kind: store.KindEncoderConfiguration}, req.NextToken, req.MaxResults)
	if e != nil {
		return nil, e
	}
	out := []map[string]any{}
	for _, r := range rs {
		out = append(out, map[string]any{"arn": r.ARN, "name": r.Name, "tags": s.tags(ctx, r.ARN)})
	}
	return listOutput("encoderConfigurations", out, next), nil
}

func (s *Server) deleteEncoderConfiguration(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req arnInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	return s.deleteConfiguration(ctx, store.KindEncoderConfiguration, req.ARN)
}

// deleteConfiguration deletes an encoder or storage configuration unless a
// running composition uses it (ConflictException).
func (s *Server) deleteConfiguration(ctx context.Context, kind, arn string) (any, *wire.Error) {
	if _, e := s.getDoc(ctx, kind, arn, nil); e != nil {
		return nil, e
	}
	s.mu.Lock()
	for _, c := range s.comps {
		select {
		case <-c.done:
			continue
		default:
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
	return nil, nil
}

func (s *Server) createStorageConfiguration(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req struct {
		Name string                  `json:"name"`
		S3   *S3StorageConfiguration `json:"s3"`
		Tags map[string]string       `json:"tags"`
	}
	if e := decode(in, &req); e != nil {
		return nil, e
	}
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
	return map[string]any{"storageConfiguration": sc}, nil
}

func (s *Server) getStorageConfiguration(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req arnInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	var sc StorageConfiguration
	if _, e := s.getDoc(ctx, store.KindStorageConfiguration, req.ARN, &sc); e != nil {
		return nil, e
	}
	sc.Tags = s.tags(ctx, sc.ARN)
	return map[string]any{"storageConfiguration": sc}, nil
}

func (s *Server) listStorageConfigurations(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req listInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	rs, next, e := s.page(ctx, store.ListQuery{Kind: store.KindStorageConfiguration}, req.NextToken, req.MaxResults)
	if e != nil {
		return nil, e
	}
	out := []StorageConfiguration{}
	for _, r := range rs {
		var sc StorageConfiguration
		if err := json.Unmarshal(r.Doc, &sc); err != nil {
			return nil, s.internal("decoding "+r.ARN, err)
		}
		sc.Tags = s.tags(ctx, r.ARN)
		out = append(out, sc)
	}
	return listOutput("storageConfigurations", out, next), nil
}

func (s *Server) deleteStorageConfiguration(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req arnInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	return s.deleteConfiguration(ctx, store.KindStorageConfiguration, req.ARN)
}

// tagged are the kinds TagResource accepts.
var tagged = map[string]bool{store.KindStage: true, store.KindComposition: true,
	store.KindEncoderConfiguration: true, store.KindStorageConfiguration: true}

type tagInput struct {
	ResourceARN string            `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
	TagKeys     []string          `json:"tagKeys"`
}

func (s *Server) taggable(ctx context.Context, arn string) *wire.Error {
	r, err := s.store.Get(ctx, arn)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !tagged[r.Kind]) {
		return wire.ResourceNotFound("resource not found: " + arn)
	}
	if err != nil {
		return s.internal("loading "+arn, err)
	}
	return nil
}

func (s *Server) tagResource(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req tagInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	if e := s.taggable(ctx, req.ResourceARN); e != nil {
		return nil, e
	}
	cur := s.tags(ctx, req.ResourceARN)
	added := 0
	for k := range req.Tags {
		if _, ok := cur[k]; !ok {
			added++
		}
	}
	if len(cur)+added > 50 {
		return nil, wire.ValidationError("a resource can have at most 50 tags")
	}
	if err := s.store.SetTags(ctx, req.ResourceARN, req.Tags); err != nil {
		return nil, s.internal("tagging", err)
	}
	return nil, nil
}

func (s *Server) untagResource(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req tagInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	if e := s.taggable(ctx, req.ResourceARN); e != nil {
		return nil, e
	}
	if err := s.store.RemoveTags(ctx, req.ResourceARN, req.TagKeys); err != nil {
		return nil, s.internal("untagging", err)
	}
	return nil, nil
}

func (s *Server) listTagsForResource(ctx context.Context, in json.RawMessage) (any, *wire.Error) {
	var req tagInput
	if e := decode(in, &req); e != nil {
		return nil, e
	}
	if e := s.taggable(ctx, req.ResourceARN); e != nil {
		return nil, e
	}
	return map[string]any{"tags": s.tags(ctx, req.ResourceARN)}, nil
}
