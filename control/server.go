package control

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/sigv4"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/ingest"
)

// Quotas bound what the API creates (defaults from IVS's service quotas).
type Quotas struct {
	Compositions          int // running at once; default 20
	CompositionsPerStage  int // default 5
	EncoderConfigurations int // default 20
	StorageConfigurations int // default 5
	Stages                int // default 1000
}

func (q Quotas) withDefaults() Quotas {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&q.Compositions, 20)
	def(&q.CompositionsPerStage, 5)
	def(&q.EncoderConfigurations, 20)
	def(&q.StorageConfigurations, 5)
	def(&q.Stages, 1000)
	return q
}

// Config configures the control plane.
type Config struct {
	// Region and AccountID make the ARNs; defaults us-east-1 and
	// 123456789012.
	Region, AccountID string
	// Credentials are the API's access keys (id → secret). Required.
	Credentials map[string]string
	// Store persists the resources. Required.
	Store *store.Store
	// Ingest is the WHIP side: stages are opened on it, tokens signed with
	// its key. Required.
	Ingest *ingest.Server
	// TokenKey signs participant tokens (the key Ingest verifies with).
	TokenKey *ingest.TokenKey
	// WHIPURL is the stages' endpoints.whip (the public URL of /whip).
	WHIPURL string
	// Channels resolves channel ARNs to push URLs (ARN → rtmp[s]:// URL).
	Channels map[string]string
	// Pipelines starts the media side of compositions. Required.
	Pipelines contract.PipelineFactory
	Quotas    Quotas
	Timeouts  Timeouts
	// Webhooks receive the composition events.
	Webhooks []string
	// MaxBody bounds a request body; default 1 MiB.
	MaxBody int64
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the API metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Server is the ivs-realtime API: an http.Handler verifying SigV4, routing
// and validating with the API model, and running compositions.
type Server struct {
	cfg      Config
	log      *slog.Logger
	model    *wire.Model
	verifier *sigv4.Verifier
	store    *store.Store
	notifier *Notifier
	metrics  *apiMetrics
	ops      map[string]handler // by operation name

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	comps    map[string]*composition // by ARN, while running or retained
	sessions map[string]*stageSession
}

// New starts the control plane: it reopens the stored stages on Ingest and
// marks compositions that were running when the server stopped as FAILED.
func New(ctx context.Context, cfg Config) (*Server, error) {
	switch {
	case cfg.Store == nil || cfg.Ingest == nil || cfg.TokenKey == nil || cfg.Pipelines == nil:
		return nil, errors.New("control: Store, Ingest, TokenKey and Pipelines are required")
	case len(cfg.Credentials) == 0:
		return nil, errors.New("control: no API credentials configured")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "123456789012"
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Quotas = cfg.Quotas.withDefaults()
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	model, err := wire.Load()
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	log := cfg.Logger.With("component", "control")
	s := &Server{
		cfg: cfg, log: log, model: model, store: cfg.Store,
		verifier: &sigv4.Verifier{Credentials: cfg.Credentials, Service: "ivs", MaxBody: cfg.MaxBody},
		notifier: NewNotifier(cfg.Webhooks, log, NotifierOptions{}),
		metrics:  newAPIMetrics(cfg.Registerer),
		comps:    map[string]*composition{}, sessions: map[string]*stageSession{},
	}
	s.ops = s.handlers()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.recover(ctx); err != nil {
		s.cancel()
		return nil, err
	}
	s.wg.Add(1)
	go s.janitor()
	return s, nil
}

// recover reopens stages and fails compositions left running.
func (s *Server) recover(ctx context.Context) error {
	after := ""
	for {
		page, next, err := s.store.List(ctx, store.ListQuery{Kind: store.KindStage, After: after, Limit: 100})
		if err != nil {
			return fmt.Errorf("control: loading stages: %w", err)
		}
		for _, r := range page {
			if err := s.openStage(r.ARN); err != nil {
				return err
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	for _, state := range liveStates {
		for {
			page, _, err := s.store.List(ctx, store.ListQuery{Kind: store.KindComposition, State: state, Limit: 100})
			if err != nil {
				return fmt.Errorf("control: loading compositions: %w", err)
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				s.log.Warn("composition was running when the server stopped; marking it FAILED", "arn", r.ARN)
				err := s.store.Update(ctx, r.ARN, func(r *store.Resource) error {
					var c Composition
					if err := json.Unmarshal(r.Doc, &c); err != nil {
						return err
					}
					now := timestamp(time.Now())
					c.State, c.EndTime = contract.StateFailed, now
					for i := range c.Destinations {
						if d := &c.Destinations[i]; !d.State.Final() {
							d.State, d.EndTime = contract.StateFailed, now
						}
					}
					r.State = string(contract.StateFailed)
					r.Doc, _ = json.Marshal(c)
					return nil
				})
				if err != nil {
					return fmt.Errorf("control: failing %s: %w", r.ARN, err)
				}
			}
		}
	}
	return nil
}

// Close stops every running composition (bounded by ctx) and the notifier.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	comps := make([]*composition, 0, len(s.comps))
	for _, c := range s.comps {
		comps = append(comps, c)
	}
	s.mu.Unlock()
	for _, c := range comps {
		c.stop("server shutting down")
	}
	var err error
	for _, c := range comps {
		select {
		case <-c.done:
		case <-ctx.Done():
			err = fmt.Errorf("control: close: %w", ctx.Err())
		}
	}
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("control: close: %w", ctx.Err())
	}
	if nerr := s.notifier.Close(ctx); err == nil {
		err = nerr
	}
	return err
}

// handler is one operation: it gets the validated input as JSON.
type handler func(ctx context.Context, in json.RawMessage) (any, *wire.Error)

// handlers maps the supported operations to their handlers.
func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		"CreateStage": s.createStage, "GetStage": s.getStage, "ListStages": s.listStages,
		"UpdateStage": s.updateStage, "DeleteStage": s.deleteStage,
		"CreateParticipantToken": s.createParticipantToken, "DisconnectParticipant": s.disconnectParticipant,
		"ListParticipants": s.listParticipants, "GetParticipant": s.getParticipant,
		"ListParticipantEvents":      s.listParticipantEvents,
		"CreateEncoderConfiguration": s.createEncoderConfiguration, "GetEncoderConfiguration": s.getEncoderConfiguration,
		"ListEncoderConfigurations": s.listEncoderConfigurations, "DeleteEncoderConfiguration": s.deleteEncoderConfiguration,
		"CreateStorageConfiguration": s.createStorageConfiguration, "GetStorageConfiguration": s.getStorageConfiguration,
		"ListStorageConfigurations": s.listStorageConfigurations, "DeleteStorageConfiguration": s.deleteStorageConfiguration,
		"StartComposition": s.startComposition, "GetComposition": s.getComposition,
		"ListCompositions": s.listCompositions, "StopComposition": s.stopComposition,
		"TagResource": s.tagResource, "UntagResource": s.untagResource, "ListTagsForResource": s.listTagsForResource,
	}
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	opName := "unknown"
	status := http.StatusOK
	defer func() {
		s.metrics.observe(opName, status, time.Since(start))
	}()
	fail := func(e *wire.Error) {
		status = e.Status
		s.log.Info("API request refused", "operation", opName, "status", e.Status, "type", e.Type, "message", e.Message)
		wire.WriteError(w, e)
	}
	body, _, err := s.verifier.Verify(r)
	if err != nil {
		var ae *sigv4.Error
		if errors.As(err, &ae) {
			status = ae.Status
			s.log.Info("API request not authenticated", "status", ae.Status, "type", ae.Type, "message", ae.Message)
			sigv4.WriteError(w, ae)
			return
		}
		fail(wire.InternalServer("reading the request failed"))
		return
	}
	op, params, ok := s.model.Route(r.Method, r.URL.EscapedPath())
	if !ok {
		fail(wire.UnknownOperation(r.Method, r.URL.EscapedPath()))
		return
	}
	opName = op.Name
	h := s.ops[op.Name]
	if h == nil {
		fail(wire.AccessDenied(op.Name + " is not supported by this server"))
		return
	}
	in, werr := s.model.DecodeInput(op, params, r.URL.Query(), r.Header, body)
	if werr != nil {
		fail(werr)
		return
	}
	raw, err := json.Marshal(in)
	if err != nil {
		fail(wire.InternalServer("encoding the input failed"))
		return
	}
	out, werr := h(r.Context(), raw)
	if werr != nil {
		fail(werr)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	wire.WriteJSON(w, op.ResponseCode, out)
}

// decode unmarshals validated input into v.
func decode(in json.RawMessage, v any) *wire.Error {
	if err := json.Unmarshal(in, v); err != nil {
		return wire.ValidationError("invalid request: " + err.Error())
	}
	return nil
}

// internal logs err and returns an InternalServerException.
func (s *Server) internal(what string, err error) *wire.Error {
	s.log.Error(what, "err", err)
	return wire.InternalServer(what + " failed")
}

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

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// notFound is a ResourceNotFoundException naming the resource.
func notFound(kind, arn string) *wire.Error {
	return wire.ResourceNotFound(fmt.Sprintf("%s not found: %s", kind, arn))
}

// getDoc loads a resource of a kind into v.
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
	}
	return kind
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
