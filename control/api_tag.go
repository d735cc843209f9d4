package control

import (
	"context"
	"errors"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
)

// maxTags is how many tags a resource can have (IVS's quota).
const maxTags = 50

// tagged are the kinds TagResource accepts.
var tagged = map[string]bool{store.KindStage: true, store.KindComposition: true,
	store.KindEncoderConfiguration: true, store.KindStorageConfiguration: true}

// taggable refuses an ARN that names no resource of a tagged kind.
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

func (s *Server) tagResource(ctx context.Context, req *tagResourceRequest) (*empty, *wire.Error) {
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
	if len(cur)+added > maxTags {
		return nil, wire.ValidationError("a resource can have at most 50 tags")
	}
	if err := s.store.SetTags(ctx, req.ResourceARN, req.Tags); err != nil {
		return nil, s.internal("tagging", err)
	}
	return &empty{}, nil
}

func (s *Server) untagResource(ctx context.Context, req *untagResourceRequest) (*empty, *wire.Error) {
	if e := s.taggable(ctx, req.ResourceARN); e != nil {
		return nil, e
	}
	if err := s.store.RemoveTags(ctx, req.ResourceARN, req.TagKeys); err != nil {
		return nil, s.internal("untagging", err)
	}
	return &empty{}, nil
}

func (s *Server) listTagsForResource(ctx context.Context, req *listTagsForResourceRequest) (*listTagsForResourceResponse, *wire.Error) {
	if e := s.taggable(ctx, req.ResourceARN); e != nil {
		return nil, e
	}
	return &listTagsForResourceResponse{Tags: s.tags(ctx, req.ResourceARN)}, nil
}
