package control

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
)

// maxTags is how many tags a resource can have (IVS's quota).
const maxTags = 50

// reservedPrefix starts the tag keys AWS keeps for itself, in any case: a
// caller can neither set nor remove them.
const reservedPrefix = "aws:"

// reservedTagKeys refuses an input whose tags (any operation's "tags" map)
// or tag keys (UntagResource's "tagKeys") use a key beginning "aws:".
func reservedTagKeys(in map[string]any) *wire.Error {
	var keys []string
	if tags, ok := in["tags"].(map[string]any); ok {
		for k := range tags {
			keys = append(keys, k)
		}
	}
	if list, ok := in["tagKeys"].([]any); ok {
		for _, k := range list {
			if k, ok := k.(string); ok {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(k) >= len(reservedPrefix) && strings.EqualFold(k[:len(reservedPrefix)], reservedPrefix) {
			return wire.ValidationError("Invalid tag key '" + k + "': tag keys beginning with '" + reservedPrefix + "' are reserved for AWS use")
		}
	}
	return nil
}

// tagged are the kinds TagResource accepts.
var tagged = map[string]bool{store.KindStage: true, store.KindComposition: true,
	store.KindEncoderConfiguration: true, store.KindStorageConfiguration: true, store.KindPublicKey: true,
	store.KindIngestConfiguration: true}

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
