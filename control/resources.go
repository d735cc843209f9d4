package control

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
)

// Resources: their ids and ARNs, their documents (the wire type as JSON)
// and tags in the store, and pages of them.

// idChars are the characters of resource ids (12, as IVS's).
const idChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func newID() string { return randomID(12) }

// randomID returns n random id characters.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b)
}

func (s *Server) arn(kind, id string) string {
	return "arn:aws:ivs:" + s.cfg.Region + ":" + s.cfg.AccountID + ":" + kind + "/" + id
}

// arnID returns the id part of an ARN.
func arnID(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// notFound is a ResourceNotFoundException naming the resource.
func notFound(kind, arn string) *wire.Error {
	return wire.ResourceNotFound(fmt.Sprintf("%s not found: %s", kind, arn))
}

// notSupported refuses a request member the server does not support yet:
// a ValidationException naming it, never a success that ignores it.
func notSupported(member, why string) *wire.Error {
	return wire.ValidationError(member + " is not supported by this server yet (" + why + "); leave it out of the request")
}

func kindName(kind string) string {
	switch kind {
	case store.KindStage:
		return "Stage"
	case store.KindComposition:
		return "Composition"
	case store.KindEncoderConfiguration:
		return "EncoderConfiguration"
	case store.KindStorageConfiguration:
		return "StorageConfiguration"
	case store.KindPublicKey:
		return "PublicKey"
	case store.KindIngestConfiguration:
		return "IngestConfiguration"
	}
	return kind
}

// putDoc stores a new resource and its tags.
func (s *Server) putDoc(ctx context.Context, kind, arn, parent, name, state string, doc any, tags map[string]string) *wire.Error {
	b, err := json.Marshal(doc)
	if err != nil {
		return s.internal("encoding", err)
	}
	if _, err := s.store.Create(ctx, store.Resource{ARN: arn, Kind: kind, ID: arnID(arn), Parent: parent, Name: name, State: state, Doc: b}); err != nil {
		return s.internal("storing "+arn, err)
	}
	if len(tags) > 0 {
		if err := s.store.SetTags(ctx, arn, tags); err != nil {
			return s.internal("storing tags", err)
		}
	}
	return nil
}

// getDoc loads a resource of a kind into v (unless v is nil).
func (s *Server) getDoc(ctx context.Context, kind, arn string, v any) (store.Resource, *wire.Error) {
	r, err := s.store.Get(ctx, arn)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.Kind != kind) {
		return r, notFound(kindName(kind), arn)
	}
	if err != nil {
		return r, s.internal("loading "+arn, err)
	}
	if v != nil {
		if err := json.Unmarshal(r.Doc, v); err != nil {
			return r, s.internal("decoding "+arn, err)
		}
	}
	return r, nil
}

// tags returns a resource's tags (an empty map when it has none or they cannot be read).
func (s *Server) tags(ctx context.Context, arn string) map[string]string {
	t, err := s.store.Tags(ctx, arn)
	if err != nil {
		s.log.Error("loading tags", "arn", arn, "err", err)
		return map[string]string{}
	}
	return t
}

// nonNil returns m, or an empty map for nil: tags are {} on the wire, never
// null.
func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// page lists one page of resources; nextToken is the cursor of the page
// before, as the API received it.
func (s *Server) page(ctx context.Context, q store.ListQuery, nextToken string, maxResults int) ([]store.Resource, string, *wire.Error) {
	if nextToken != "" {
		after, err := url.QueryUnescape(nextToken)
		if err != nil {
			return nil, "", wire.ValidationError("invalid nextToken")
		}
		q.After = after
	}
	q.Limit = maxResults
	if q.Limit <= 0 {
		q.Limit = 50
	}
	rs, next, err := s.store.List(ctx, q)
	if errors.Is(err, store.ErrInvalid) {
		return nil, "", wire.ValidationError("invalid nextToken")
	}
	if err != nil {
		return nil, "", s.internal("listing", err)
	}
	return rs, next, nil
}

// list answers a List* request: the items item makes of one page of
// resources, and the next page's token. item leaves a resource out by
// returning false; a page whose every resource was left out is followed by
// the next one, so that a filtered list is empty only at its end.
func list[T any](ctx context.Context, s *Server, q store.ListQuery, req listRequest, item func(store.Resource) (T, bool, *wire.Error)) ([]T, string, *wire.Error) {
	out := []T{}
	next := req.NextToken
	for {
		rs, n, e := s.page(ctx, q, next, req.MaxResults)
		if e != nil {
			return nil, "", e
		}
		for _, r := range rs {
			v, ok, e := item(r)
			if e != nil {
				return nil, "", e
			}
			if ok {
				out = append(out, v)
			}
		}
		next = n
		if next == "" || len(out) > 0 {
			return out, next, nil
		}
	}
}

// all decodes every resource q selects (q.After and q.Limit are its own)
// into a T, in the store's order.
func all[T any](ctx context.Context, s *Server, q store.ListQuery) ([]T, error) {
	var out []T
	q.After, q.Limit = "", store.MaxLimit
	for {
		page, next, err := s.store.List(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			var v T
			if err := json.Unmarshal(r.Doc, &v); err != nil {
				return nil, fmt.Errorf("%s: %w", r.ARN, err)
			}
			out = append(out, v)
		}
		if next == "" {
			return out, nil
		}
		q.After = next
	}
}
