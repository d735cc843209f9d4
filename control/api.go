package control

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/tessera-media/tessera/control/sigv4"
	"github.com/tessera-media/tessera/control/wire"
)

// operation runs one API operation on its input as the model decoded and
// validated it (member name → value, see wire.DecodeInput) and returns the
// response body; nil is the empty body {}.
type operation func(ctx context.Context, in map[string]any) (any, *wire.Error)

// op makes an operation of a handler with typed input and output. The input
// reaches the handler as a Req, filled by the members' JSON names (the
// model's member names); the handler's *Resp is the response body. The
// model has refused malformed input and every broken constraint before:
// a handler checks only what the model cannot express.
func op[Req, Resp any](handle func(context.Context, *Req) (*Resp, *wire.Error)) operation {
	return func(ctx context.Context, in map[string]any) (any, *wire.Error) {
		raw, err := json.Marshal(in)
		if err != nil {
			return nil, wire.InternalServer("encoding the input failed")
		}
		req := new(Req)
		if err := json.Unmarshal(raw, req); err != nil {
			return nil, wire.ValidationError("invalid request: " + err.Error())
		}
		resp, e := handle(ctx, req)
		if e != nil || resp == nil {
			return nil, e
		}
		return resp, nil
	}
}

// operations maps the supported operations' names to their handlers.
func (s *Server) operations() map[string]operation {
	return map[string]operation{
		"CreateStage": op(s.createStage),
		"GetStage":    op(s.getStage),
		"ListStages":  op(s.listStages),
		"UpdateStage": op(s.updateStage),
		"DeleteStage": op(s.deleteStage),

		"CreateParticipantToken": op(s.createParticipantToken),

		"ListParticipants":      op(s.listParticipants),
		"GetParticipant":        op(s.getParticipant),
		"ListParticipantEvents": op(s.listParticipantEvents),
		"DisconnectParticipant": op(s.disconnectParticipant),

		"CreateEncoderConfiguration": op(s.createEncoderConfiguration),
		"GetEncoderConfiguration":    op(s.getEncoderConfiguration),
		"ListEncoderConfigurations":  op(s.listEncoderConfigurations),
		"DeleteEncoderConfiguration": op(s.deleteEncoderConfiguration),
		"CreateStorageConfiguration": op(s.createStorageConfiguration),
		"GetStorageConfiguration":    op(s.getStorageConfiguration),
		"ListStorageConfigurations":  op(s.listStorageConfigurations),
		"DeleteStorageConfiguration": op(s.deleteStorageConfiguration),

		"StartComposition":  op(s.startComposition),
		"GetComposition":    op(s.getComposition),
		"ListCompositions":  op(s.listCompositions),
		"StopComposition":   op(s.stopComposition),
		"UpdateComposition": op(s.updateComposition), // a Tessera extension

		"GetStageSession":   op(s.getStageSession),
		"ListStageSessions": op(s.listStageSessions),

		"TagResource":         op(s.tagResource),
		"UntagResource":       op(s.untagResource),
		"ListTagsForResource": op(s.listTagsForResource),

		"ImportPublicKey": op(s.importPublicKey),
		"GetPublicKey":    op(s.getPublicKey),
		"ListPublicKeys":  op(s.listPublicKeys),
		"DeletePublicKey": op(s.deletePublicKey),

		"CreateIngestConfiguration": op(s.createIngestConfiguration),
		"GetIngestConfiguration":    op(s.getIngestConfiguration),
		"ListIngestConfigurations":  op(s.listIngestConfigurations),
		"UpdateIngestConfiguration": op(s.updateIngestConfiguration),
		"DeleteIngestConfiguration": op(s.deleteIngestConfiguration),

		"CreateViewerToken": op(s.createViewerToken),
	}
}

// ServeHTTP serves the API: it verifies the signature, routes the request
// to its operation, applies the caller's rate limit, decodes and validates
// the input with the model, runs the operation and writes its response or
// error. A request that fails authentication is answered at once and its
// connection closed. Every response carries a new request id
// (requestIDHeader), which the request's log lines name (request_id).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.newCall(w)
	defer c.done()
	auth, err := s.verifier.VerifyRequest(r)
	if err != nil {
		var ae *sigv4.Error
		if errors.As(err, &ae) {
			c.status = ae.Status
			if ae.Type == sigv4.TypeServiceUnavailable {
				s.metrics.busy.Inc()
			}
			s.refusals.do(ae.Type, func(unlogged int) {
				c.log.Info("API request not authenticated", "status", ae.Status, "type", ae.Type, "message", ae.Message,
					"unlogged", unlogged)
			})
			// Whatever is left of the body is not read: net/http would
			// drain up to 256 KiB of it before answering.
			w.Header().Set("Connection", "close")
			sigv4.WriteError(w, ae)
			return
		}
		c.fail(wire.InternalServer("reading the request failed"))
		return
	}
	c.run(r.Context(), auth.AccessKey, r.Method, r.URL.EscapedPath(), r.URL.Query(), r.Header, auth.Body)
}

// call is one authenticated or not yet authenticated API request being
// answered: its response, log lines and metrics.
type call struct {
	s      *Server
	w      http.ResponseWriter
	log    *slog.Logger
	start  time.Time
	op     string // "unknown" until routed
	status int
}

// newCall starts answering a request on w with a new request id.
func (s *Server) newCall(w http.ResponseWriter) *call {
	id := newUUID()
	w.Header().Set(requestIDHeader, id)
	return &call{s: s, w: w, log: s.log.With("request_id", id), start: time.Now(), op: "unknown", status: http.StatusOK}
}

// done records the call's metrics and debug log line.
func (c *call) done() {
	d := time.Since(c.start)
	c.s.metrics.observe(c.op, c.status, d)
	c.log.Debug("API request", "operation", c.op, "status", c.status, "duration", d)
}

// fail logs and writes e.
func (c *call) fail(e *wire.Error) {
	c.status = e.Status
	c.log.Info("API request refused", "operation", c.op, "status", e.Status, "type", e.Type, "message", e.Message)
	wire.WriteError(c.w, e)
}

// run answers a request authenticated as accessKey: it routes method and
// path to the operation, applies accessKey's rate limit, decodes and
// validates the input with the model, runs the operation and writes its
// response or error.
func (c *call) run(ctx context.Context, accessKey, method, escapedPath string, query url.Values, header http.Header, body []byte) {
	s := c.s
	modelOp, params, ok := s.model.Route(method, escapedPath)
	if !ok {
		c.fail(wire.UnknownOperation(method, escapedPath))
		return
	}
	c.op = modelOp.Name
	run := s.ops[modelOp.Name]
	if run == nil {
		c.fail(wire.AccessDenied(modelOp.Name + " is not supported by this server"))
		return
	}
	if !s.throttle.allow(accessKey, c.op) {
		e := wire.Throttling()
		c.status = e.Status
		s.metrics.throttled.WithLabelValues(c.op).Inc()
		s.refusals.do("throttled "+accessKey+" "+c.op, func(unlogged int) {
			c.log.Warn("API calls throttled", "access_key", accessKey, "operation", c.op,
				"tps", s.throttle.limit.rate(c.op), "burst", s.throttle.limit.burst(c.op), "unlogged", unlogged)
		})
		wire.WriteError(c.w, e)
		return
	}
	in, werr := s.model.DecodeInput(modelOp, params, query, header, body)
	if werr == nil {
		werr = reservedTagKeys(in)
	}
	if werr != nil {
		c.fail(werr)
		return
	}
	if s.node != nil && liveOperations[c.op] {
		to, werr := s.servingNode(ctx, c.op, in)
		if werr != nil {
			c.fail(werr)
			return
		}
		if to != nil {
			if header.Get(forwardedHeader) != "" {
				c.fail(wire.InternalServer("the stage moved to another node while this call was forwarded; try again"))
				return
			}
			c.forward(ctx, to, accessKey, method, escapedPath, query, body)
			return
		}
	}
	out, werr := run(ctx, in)
	if werr != nil {
		c.fail(werr)
		return
	}
	wire.WriteJSON(c.w, modelOp.ResponseCode, out)
}

// internal logs err and returns an InternalServerException.
func (s *Server) internal(what string, err error) *wire.Error {
	s.log.Error(what, "err", err)
	return wire.InternalServer(what + " failed")
}
