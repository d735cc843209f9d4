package control

import "context"

type whipURLKey struct{}

// WithWHIPURL returns a context under which the API hands out whipURL,
// instead of Config.WHIPURL, as stages' endpoints.whip and participant
// tokens' whip_url: the WHIP endpoint as the client of one request reaches
// it (through a reverse proxy, say). ServeHTTP runs operations with its
// request's context.
func WithWHIPURL(ctx context.Context, whipURL string) context.Context {
	return context.WithValue(ctx, whipURLKey{}, whipURL)
}

// whipURL is the WHIP endpoint handed out under ctx.
func (s *Server) whipURL(ctx context.Context) string {
	if u, ok := ctx.Value(whipURLKey{}).(string); ok {
		return u
	}
	return s.cfg.WHIPURL
}

// stageWHIPURL is the WHIP endpoint handed out for a stage under ctx: in a
// cluster, the one of the node serving the stage when it has one (a
// client that posts there needs no redirect), else whipURL's.
func (s *Server) stageWHIPURL(ctx context.Context, stageARN string) string {
	if s.node != nil && stageARN != "" {
		if owner, found, err := s.store.StageOwner(ctx, stageARN); err == nil && found && owner.WHIPURL != "" {
			return owner.WHIPURL
		}
	}
	return s.whipURL(ctx)
}
