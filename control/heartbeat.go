package control

import (
	"context"
	"time"

	"github.com/tessera-media/tessera/control/store"
)

// The server's liveness mark: a stored resource rewritten every
// aliveInterval, whose Updated time tells a later start-up when this server
// was last known alive — when the compositions and sessions a crash left
// running ended.
const (
	aliveInterval = time.Second
	heartbeatARN  = "tessera:server/heartbeat"
	kindHeartbeat = "server-heartbeat"
)

// heartbeat rewrites the liveness mark until the server closes.
func (s *Server) heartbeat() {
	s.every(aliveInterval, func() {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		err := s.store.Put(ctx, store.Resource{ARN: heartbeatARN, Kind: kindHeartbeat})
		if err != nil && s.ctx.Err() == nil {
			s.log.Error("saving the liveness mark", "err", err)
		}
	})
}

// every runs fn every interval until the server closes; it is one of the
// server's goroutines (s.wg).
func (s *Server) every(interval time.Duration, fn func()) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}

// lastAlive is when the previous server on the store was last known alive:
// its liveness mark, or now when there is none.
func (s *Server) lastAlive(ctx context.Context) time.Time {
	r, err := s.store.Get(ctx, heartbeatARN)
	if err != nil {
		return time.Now().UTC()
	}
	return r.Updated
}
