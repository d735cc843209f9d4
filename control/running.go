package control

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/store"
)

// The server's compositions: run starts one's lifecycle (lifecycle.go), whose
// changes are saved into its stored document and sent as events.

// liveStates are the states of compositions that count against the quotas.
var liveStates = []string{string(contract.StateStarting), string(contract.StateActive), string(contract.StateStopping)}

// run starts a composition's lifecycle.
func (s *Server) run(spec contract.CompositionSpec) {
	var stage roster // a nil interface, not a nil *ingest.Stage, when the stage is not open
	if st := s.cfg.Ingest.Stage(spec.StageARN); st != nil {
		stage = st
	}
	c := newComposition(spec, stage, s.cfg.Timeouts, s.log.With("composition", spec.ARN))
	c.events = func(name, dest, reason string) { s.compositionEvent(spec, name, dest, reason) }
	c.onChange = func(st CompositionStatus) { s.saveStatus(spec.ARN, st) }
	c.onGone = func() {
		s.mu.Lock()
		delete(s.comps, spec.ARN)
		s.mu.Unlock()
		if s.node != nil && s.node.valid() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := s.store.ForgetComposition(ctx, spec.ARN, s.node.cfg.ID); err != nil {
				s.log.Warn("forgetting an ended composition's node", "arn", spec.ARN, "err", err)
			}
		}
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

// stageCompositions returns the stage's compositions this server runs or
// retains.
func (s *Server) stageCompositions(stageARN string) []*composition {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*composition
	for _, c := range s.comps {
		if c.spec.StageARN == stageARN {
			out = append(out, c)
		}
	}
	return out
}

// saveStatus writes a composition's state into its stored document.
func (s *Server) saveStatus(arn string, st CompositionStatus) {
	if s.Fenced() {
		s.log.Warn("composition state not saved: this node is fenced (its cluster membership is not known valid)", "arn", arn, "state", st.State)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.editComposition(ctx, arn, func(c *Composition) {
		c.State, c.StartTime, c.EndTime = st.State, timestamp(st.StartTime), timestamp(st.EndTime)
		for i := range c.Destinations {
			d := &c.Destinations[i]
			if ds, ok := st.Destinations[d.ID]; ok {
				d.State, d.StartTime, d.EndTime = ds.State, timestamp(ds.StartTime), timestamp(ds.EndTime)
			}
		}
	})
	switch {
	case errors.Is(err, store.ErrNotOwner):
		s.log.Warn("composition state not saved: another node ended the composition (this node was taken for dead)", "arn", arn, "state", st.State)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		s.log.Error("saving composition state", "arn", arn, "err", err)
	}
}

// editComposition changes a composition's stored document with edit (the
// resource's state follows the document's). In a cluster, only while this
// node runs it (store.ErrNotOwner once another node ended it).
func (s *Server) editComposition(ctx context.Context, arn string, edit func(*Composition)) error {
	update := s.store.Update
	if s.node != nil {
		update = func(ctx context.Context, arn string, fn func(r *store.Resource) error) error {
			return s.store.UpdateComposition(ctx, arn, s.node.cfg.ID, fn)
		}
	}
	return update(ctx, arn, func(r *store.Resource) error {
		var c Composition
		if err := json.Unmarshal(r.Doc, &c); err != nil {
			return err
		}
		edit(&c)
		r.State = string(c.State)
		r.Doc, _ = json.Marshal(c)
		return nil
	})
}
