package control

import (
	"context"
	"fmt"

	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/layout"
)

// updateCompositionRequest is UpdateComposition's input (a Tessera
// extension).
type updateCompositionRequest struct {
	ARN    string         `json:"arn"`
	Layout *layout.Config `json:"layout"`
}

// updateComposition changes a running composition's layout: checked and
// completed with defaults as StartComposition's, stored in the
// composition's document and shown by its pipeline from the next canvas
// on. Only a STARTING or ACTIVE composition changes; the answer is the
// composition as GetComposition shows it.
func (s *Server) updateComposition(ctx context.Context, req *updateCompositionRequest) (*compositionResponse, *wire.Error) {
	var comp Composition
	if _, e := s.getDoc(ctx, store.KindComposition, req.ARN, &comp); e != nil {
		return nil, e
	}
	lay, e := resolveLayout(req.Layout)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	c := s.comps[req.ARN]
	s.mu.Unlock()
	running := false
	if c != nil {
		var err error
		running, err = c.setLayout(lay, func() error {
			return s.editComposition(ctx, req.ARN, func(doc *Composition) { doc.Layout = lay })
		})
		if err != nil {
			return nil, s.internal("changing the layout", err)
		}
	}
	if !running {
		if c != nil {
			comp.State = c.Status().State
		}
		return nil, wire.Conflict(fmt.Sprintf("composition is %s: only a STARTING or ACTIVE composition's layout can change", comp.State))
	}
	return s.getComposition(ctx, &arnRequest{ARN: req.ARN})
}
