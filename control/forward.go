package control

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/tessera-media/tessera/capacity"
	"github.com/tessera-media/tessera/control/sigv4"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
)

// In a cluster, the calls that act on live media run on the node serving
// their stage: any other node forwards them there, signed anew (SigV4)
// with the caller's own access key, and relays the answer as it came.

// forwardedHeader marks a forwarded call with the forwarding node's id: its
// receiver runs it or refuses it, never forwards it again.
const forwardedHeader = "X-Tessera-Forwarded-By"

// forwardTimeout bounds a forwarded call.
const forwardTimeout = 30 * time.Second

// forwardClient makes the forwarded calls.
var forwardClient = &http.Client{Timeout: forwardTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// liveOperations are the operations that run on the node serving their
// stage.
var liveOperations = map[string]bool{
	"StartComposition": true, "StopComposition": true, "UpdateComposition": true, "CreateViewerToken": true,
	"DisconnectParticipant": true, "DeleteStage": true,
}

// servingNode returns the node a live operation must run on, nil for this
// one. StartComposition places its stage when it has no node yet (the
// composition's cost, 720p30 at the preset, is the load it adds).
func (s *Server) servingNode(ctx context.Context, op string, in map[string]any) (*store.Node, *wire.Error) {
	str := func(k string) string { v, _ := in[k].(string); return v }
	var nodeID string
	switch op {
	case "StartComposition":
		arn := str("stageArn")
		owner, err := s.placeStage(ctx, arn, capacity.Composition(1280, 720, capacity.DefaultFPS, s.cfg.Preset), "")
		if errors.Is(err, store.ErrNoCapacity) {
			return nil, wire.ServiceQuotaExceeded(err.Error())
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil // no such stage: the operation answers it
		}
		if err != nil {
			return nil, s.internal("placing the stage", err)
		}
		if owner.ID == s.node.cfg.ID {
			if err := s.takeStage(ctx, arn, owner.Generation); err != nil {
				return nil, s.internal("opening the stage", err)
			}
			return nil, nil
		}
		return &owner.Node, nil
	case "DisconnectParticipant", "DeleteStage":
		arn := str("stageArn")
		if op == "DeleteStage" {
			arn = str("arn")
		}
		owner, found, err := s.store.StageOwner(ctx, arn)
		if err != nil {
			return nil, s.internal("finding the stage's node", err)
		}
		if !found || owner.ID == s.node.cfg.ID {
			return nil, nil
		}
		return &owner.Node, nil
	case "StopComposition", "UpdateComposition":
		id, err := s.store.CompositionNode(ctx, str("arn"))
		if err != nil {
			return nil, s.internal("finding the composition's node", err)
		}
		nodeID = id
	case "CreateViewerToken":
		id, err := s.store.CompositionNode(ctx, str("compositionArn"))
		if err != nil {
			return nil, s.internal("finding the composition's node", err)
		}
		nodeID = id
	}
	if nodeID == "" || nodeID == s.node.cfg.ID {
		return nil, nil
	}
	// Expired or not: until another node removes it, the composition is
	// its node's (a call to a dead node fails and is tried again).
	n, found, err := s.store.NodeByID(ctx, nodeID)
	if err != nil {
		return nil, s.internal("finding the composition's node", err)
	}
	if !found {
		return nil, nil // its node is gone: the composition has ended or soon will
	}
	return &n, nil
}

// forward runs the call on node to, as accessKey, and relays its answer.
func (c *call) forward(ctx context.Context, to *store.Node, accessKey, method, escapedPath string, query url.Values, body []byte) {
	s := c.s
	ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
	defer cancel()
	target := to.APIURL + escapedPath
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		c.fail(s.internal("forwarding the call", err))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(forwardedHeader, s.node.cfg.ID)
	if err := sigv4.Sign(req, body, accessKey, s.cfg.Credentials[accessKey], "ivs", s.cfg.Region, time.Now()); err != nil {
		c.fail(s.internal("signing the forwarded call", err))
		return
	}
	resp, err := forwardClient.Do(req)
	if err != nil {
		s.metrics.forwarded.WithLabelValues(c.op, "error").Inc()
		c.log.Warn("forwarding a call to the stage's node failed", "operation", c.op, "node", to.ID, "url", to.APIURL, "err", err)
		c.fail(wire.InternalServer("the node serving this stage (" + to.ID + ") did not answer; try again"))
		return
	}
	defer resp.Body.Close()
	s.metrics.forwarded.WithLabelValues(c.op, "ok").Inc()
	c.status = resp.StatusCode
	for _, h := range []string{"Content-Type", "X-Amzn-Errortype"} {
		if v := resp.Header.Get(h); v != "" {
			c.w.Header().Set(h, v)
		}
	}
	c.log.Debug("API call forwarded", "operation", c.op, "node", to.ID, "status", resp.StatusCode,
		"node_request_id", resp.Header.Get(requestIDHeader))
	c.w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(c.w, io.LimitReader(resp.Body, 4<<20))
}
