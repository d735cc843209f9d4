package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/sigv4"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/control/wire"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/whep"
)

// Quotas bound what the API creates (defaults from IVS's service quotas).
type Quotas struct {
	Compositions          int // running at once; default 20
	CompositionsPerStage  int // default 5
	EncoderConfigurations int // default 20
	StorageConfigurations int // default 5
	Stages                int // default 1000
	PublicKeys            int // default 3 (IVS: not adjustable)
	IngestConfigurations  int // default 100
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
	def(&q.PublicKeys, 3)
	def(&q.IngestConfigurations, 100)
	return q
}

// DefaultPreAuthBytes is Config.PreAuthBytes's default: 8 MiB.
const DefaultPreAuthBytes = 8 << 20

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
	// WHIPURL is the stages' endpoints.whip (the public URL of /whip), unless
	// a request's context names another (WithWHIPURL).
	WHIPURL string
	// ViewerTokens signs the viewer tokens of CreateViewerToken (the WHEP
	// views are at /view beside WHIP's /whip); without it
	// CreateViewerToken answers AccessDenied.
	ViewerTokens *whep.Tokens
	// RTMPURL and RTMPSURL are the stages' endpoints.rtmp and
	// endpoints.rtmps: the public URLs RTMP(S) publishers append an ingest
	// configuration's stream key to (e.g. "rtmp://127.0.0.1:1935/app/");
	// "" leaves the endpoint out.
	RTMPURL, RTMPSURL string
	// Channels resolves channel ARNs to push URLs (ARN → rtmp[s]:// URL).
	Channels map[string]string
	// Pipelines starts the media side of compositions. Required.
	Pipelines contract.PipelineFactory
	// CapacityCores is how many cores the server commits to media work:
	// StartComposition refuses (ServiceQuotaExceededException) a
	// composition whose estimate (package capacity) would take the
	// running compositions and the publishers past it. 0: no limit.
	CapacityCores float64
	// Preset is the x264 preset compositions are encoded with, for the
	// estimates; default veryfast.
	Preset string
	// FinalizeRecordings finalizes from storage the recordings of
	// compositions that were running when the server stopped (for those
	// whose work files are elsewhere); nil leaves them to the worker's own
	// recovery.
	FinalizeRecordings contract.RecordingFinalizer
	// ParticipantRecorders records publishers individually (stages'
	// autoParticipantRecordingConfiguration); nil refuses that field.
	ParticipantRecorders contract.ParticipantRecorderFactory
	Quotas               Quotas
	Timeouts             Timeouts
	// Webhooks receive the events (events.go), signed with WebhookSecret
	// when it is set (SignWebhook).
	Webhooks      []string
	WebhookSecret []byte
	// MaxBody bounds a request body; default 1 MiB.
	MaxBody int64
	// PreAuthBytes bounds the bytes of request bodies held, across all
	// requests, before their signature is checked (see sigv4.Budget);
	// default DefaultPreAuthBytes. A body larger than SmallBody may hold
	// only half of it, so it must be at least twice MaxBody.
	PreAuthBytes int64
	// RateLimit, when set, throttles each access key's calls (see
	// RateLimit); nil throttles nothing.
	RateLimit *RateLimit
	// Node, when set, makes the server one node of several sharing Store
	// (cluster.go); nil: the only server on its store.
	Node *NodeConfig
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
	ops      map[string]operation // by operation name
	throttle *throttle            // nil: no rate limit
	node     *node                // nil: not in a cluster
	refusals *sampledLog          // the edge's refusals, logged at a bounded rate
	keysMu   sync.Mutex           // one ImportPublicKey at a time: its quota and duplicate checks hold until it stored the key
	ingestMu sync.Mutex           // one change of ingest configurations at a time: the store and ingest's set agree, quota and stage checks hold

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	comps    map[string]*composition // by ARN, while running or retained
	sessions map[string]*stageSession

	recs        *participantRecordings // running individual participant recordings
	recordingMu sync.Mutex             // stages' references to storage configurations and the deletion of those, one at a time
	admitMu     sync.Mutex             // StartComposition's quota and capacity checks, one composition at a time
}

// New starts the control plane: it reopens the stored stages on Ingest,
// takes up their sessions (the participants a crash left CONNECTED are
// DISCONNECTED, with LEFT events; a session past its end is ended) and marks compositions that were running
// when the server stopped as FAILED, ended when they last made progress.
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
	if cfg.CapacityCores < 0 {
		return nil, fmt.Errorf("control: CapacityCores %v: 0 (no limit) or more", cfg.CapacityCores)
	}
	if cfg.PreAuthBytes <= 0 {
		cfg.PreAuthBytes = DefaultPreAuthBytes
	}
	if cfg.PreAuthBytes < 2*cfg.MaxBody {
		return nil, fmt.Errorf("control: PreAuthBytes %d is less than twice MaxBody (%d): larger bodies could never be read", cfg.PreAuthBytes, cfg.MaxBody)
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
	budget := sigv4.NewBudget(cfg.PreAuthBytes)
	s := &Server{
		cfg: cfg, log: log, model: model, store: cfg.Store,
		verifier: &sigv4.Verifier{Credentials: cfg.Credentials, Service: "ivs", MaxBody: cfg.MaxBody, Budget: budget},
		notifier: NewNotifier(cfg.Webhooks, log, NotifierOptions{Secret: cfg.WebhookSecret, Registerer: cfg.Registerer}),
		metrics:  newAPIMetrics(cfg.Registerer, budget),
		refusals: newSampledLog(refusalLogEvery, time.Now),
		comps:    map[string]*composition{}, sessions: map[string]*stageSession{},
	}
	if cfg.RateLimit != nil {
		s.throttle = newThrottle(*cfg.RateLimit, time.Now)
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(loadCollector{s})
	}
	if cfg.Node != nil {
		if s.node, err = newNode(*cfg.Node, cfg.WHIPURL); err != nil {
			return nil, err
		}
		if cfg.Registerer != nil {
			cfg.Registerer.MustRegister(servedCollector{s})
		}
	}
	s.recs = newParticipantRecordings(cfg.ParticipantRecorders, s, log, &s.wg, cfg.Registerer)
	s.ops = s.operations()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	err = s.recover(ctx)
	if err == nil && s.node != nil {
		err = s.joinCluster(ctx)
	}
	if err != nil {
		s.cancel()
		s.recs.abort()
		return nil, err
	}
	s.wg.Add(2)
	go s.janitor()
	if s.node != nil {
		s.wg.Add(1)
		go s.renewLoop()
		go s.nodeLoop()
	} else {
		go s.heartbeat()
	}
	return s, nil
}

// recover loads the imported public keys and the ingest configurations
// into ingest, reopens stages, takes up their sessions and fails
// compositions left running.
func (s *Server) recover(ctx context.Context) error {
	if err := s.loadPublicKeys(ctx); err != nil {
		return err
	}
	if err := s.loadIngestConfigurations(ctx); err != nil {
		return err
	}
	if s.node != nil {
		// In a cluster, the stages are opened by the nodes that own them,
		// and the compositions of a node that stopped are failed by the
		// others once its membership runs out (cluster.go).
		return nil
	}
	alive := s.lastAlive(ctx)
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
			if err := s.resumeSession(ctx, r, alive); err != nil {
				return err
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	var interrupted []interruptedRecording
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
				// It ran until the server was last known alive.
				s.log.Warn("composition was running when the server stopped; marking it FAILED", "arn", r.ARN, "last_alive", alive)
				if _, err := s.failInterrupted(ctx, r, alive); err != nil {
					return fmt.Errorf("control: failing %s: %w", r.ARN, err)
				}
				interrupted = append(interrupted, s.interruptedRecordings(ctx, r.ARN, alive)...)
			}
		}
	}
	if len(interrupted) > 0 && s.cfg.FinalizeRecordings != nil {
		s.wg.Add(1)
		go s.finalizeInterrupted(interrupted)
	}
	return nil
}

// failInterrupted marks a composition whose server stopped as FAILED,
// ended at alive (when its server was last known alive; not before it
// started), with its unfinished destinations; false when it had ended
// already.
func (s *Server) failInterrupted(ctx context.Context, r store.Resource, alive time.Time) (bool, error) {
	failed := false
	err := s.store.Update(ctx, r.ARN, func(r *store.Resource) error {
		var c Composition
		if err := json.Unmarshal(r.Doc, &c); err != nil {
			return err
		}
		if c.State.Final() {
			return nil
		}
		end := alive
		if start, err := time.Parse(time.RFC3339Nano, c.StartTime); err == nil && end.Before(start) {
			end = start
		}
		now := timestamp(end)
		c.State, c.EndTime = contract.StateFailed, now
		for i := range c.Destinations {
			if d := &c.Destinations[i]; !d.State.Final() {
				d.State, d.EndTime = contract.StateFailed, now
			}
		}
		r.State = string(contract.StateFailed)
		r.Doc, _ = json.Marshal(c)
		failed = true
		return nil
	})
	return failed, err
}

// Close stops every running composition and finalizes every participant
// recording (bounded by ctx), then stops the notifier. A node of a cluster
// first drains (its stages placed on other nodes) and last leaves.
func (s *Server) Close(ctx context.Context) error {
	if err := s.Drain(ctx); err != nil {
		s.log.Warn("draining at close", "err", err)
	}
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
	s.recs.close()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.recs.abort()
		err = fmt.Errorf("control: close: %w", ctx.Err())
	}
	if nerr := s.notifier.Close(ctx); err == nil {
		err = nerr
	}
	if lerr := s.leaveCluster(ctx); err == nil {
		err = lerr
	}
	return err
}
