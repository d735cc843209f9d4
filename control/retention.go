package control

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/store"
)

// janitor deletes ended compositions once their retention period passed
// (also those that ended before a restart).
func (s *Server) janitor() {
	s.every(max(s.cfg.Timeouts.Retention/4, 10*time.Millisecond), s.sweep)
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
