package control

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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
	start := time.Now()
	id := newUUID()
	w.Header().Set(requestIDHeader, id)
	log := s.log.With("request_id", id)
	opName := "unknown"
	status := http.StatusOK
	defer func() {
		d := time.Since(start)
		s.metrics.observe(opName, status, d)
		log.Debug("API request", "operation", opName, "status", status, "duration", d)
	}()
	fail := func(e *wire.Error) {
		status = e.Status
		log.Info("API request refused", "operation", opName, "status", e.Status, "type", e.Type, "message", e.Message)
		wire.WriteError(w, e)
	}
	auth, err := s.verifier.VerifyRequest(r)
	if err != nil {
		var ae *sigv4.Error
		if errors.As(err, &ae) {
			status = ae.Status
			if ae.Type == sigv4.TypeServiceUnavailable {
				s.metrics.busy.Inc()
			}
			s.refusals.do(ae.Type, func(unlogged int) {
				log.Info("API request not authenticated", "status", ae.Status, "type", ae.Type, "message", ae.Message,
					"unlogged", unlogged)
			})
			// Whatever is left of the body is not read: net/http would
			// drain up to 256 KiB of it before answering.
			w.Header().Set("Connection", "close")
			sigv4.WriteError(w, ae)
			return
		}
		fail(wire.InternalServer("reading the request failed"))
		return
	}
	modelOp, params, ok := s.model.Route(r.Method, r.URL.EscapedPath())
	if !ok {
		fail(wire.UnknownOperation(r.Method, r.URL.EscapedPath()))
		return
	}
	opName = modelOp.Name
	run := s.ops[modelOp.Name]
	if run == nil {
		fail(wire.AccessDenied(modelOp.Name + " is not supported by this server"))
		return
	}
	if !s.throttle.allow(auth.AccessKey, opName) {
		e := wire.Throttling()
		status = e.Status
		s.metrics.throttled.WithLabelValues(opName).Inc()
		s.refusals.do("throttled "+auth.AccessKey+" "+opName, func(unlogged int) {
			log.Warn("API calls throttled", "access_key", auth.AccessKey, "operation", opName,
				"tps", s.throttle.limit.rate(opName), "burst", s.throttle.limit.burst(opName), "unlogged", unlogged)
		})
		wire.WriteError(w, e)
		return
	}
	in, werr := s.model.DecodeInput(modelOp, params, r.URL.Query(), r.Header, auth.Body)
	if werr == nil {
		werr = reservedTagKeys(in)
	}
	if werr != nil {
		fail(werr)
		return
	}
	out, werr := run(r.Context(), in)
	if werr != nil {
		fail(werr)
		return
	}
	wire.WriteJSON(w, modelOp.ResponseCode, out)
}

// internal logs err and returns an InternalServerException.
func (s *Server) internal(what string, err error) *wire.Error {
	s.log.Error(what, "err", err)
	return wire.InternalServer(what + " failed")
}
