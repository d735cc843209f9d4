package control

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/capacity"
	"github.com/tessera-media/tessera/control/store"
)

// A server on a shared store (PostgreSQL) is one node of a cluster: it
// registers itself (store.Node) and renews its membership every TTL/5;
// a stage is owned by one node at a time (a lease, placed by free
// capacity when its first publisher arrives or its first composition
// starts); the owner opens the stage on its ingest and runs its
// compositions; the other nodes redirect WHIP offers to it and forward
// the API calls that act on live media (forward.go). A node whose
// membership ran out is expired by the others, which fail its compositions
// (finalizing their recordings from storage) and place its stages anew.
// A node that finds it lost its membership, or cannot tell (its last
// renewal is older than the TTL), is fenced: it writes nothing more, and
// NodeConfig.Lost ends it.

// NodeConfig makes the server one node of several sharing Config.Store.
type NodeConfig struct {
	// ID names the node (default "node"); a random suffix is added, as
	// every start is a new node (a restarted node's previous run is taken
	// over when it expires).
	ID string
	// APIURL is the base URL the other nodes reach this node's API at
	// (forwarded calls), e.g. "http://10.0.0.5:8080". Required.
	APIURL string
	// WHIPURL is this node's WHIP endpoint, where offers for its stages are
	// redirected; default Config.WHIPURL.
	WHIPURL string
	// UDPAddr is this node's media address (listed with the nodes).
	UDPAddr string
	// TTL is how long the node stays a member without renewing; default
	// 6 s. It renews every TTL/5, and the others take its work over within
	// 1.2 TTL of its last renewal (7.2 s by default).
	TTL time.Duration
	// Lost is called once when the node finds it is no longer a member
	// (another node took its work over): it must end the node's media
	// work without writing anything (the process exits). Nil: the server
	// stops its compositions and closes its stages itself, writing
	// nothing more.
	Lost func(reason string)
}

// descServed is the stages a node serves, each while its membership is
// known valid: no stage is ever served by two nodes at once.
var descServed = prometheus.NewDesc("tessera_node_stage_served", "1 for each stage this node serves (opened on its ingest, compositions run here), while its cluster membership is known valid.", []string{"stage"}, nil)

// servedCollector exports descServed.
type servedCollector struct{ s *Server }

func (c servedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descServed }

func (c servedCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.s.node
	if !n.valid() {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for arn := range n.opened {
		ch <- prometheus.MustNewConstMetric(descServed, prometheus.GaugeValue, 1, arnID(arn))
	}
}

// nodeTicks is how many renewals fit in a TTL.
const nodeTicks = 5

// node is the server's membership of a cluster.
type node struct {
	cfg   NodeConfig
	base  time.Time    // monotonic reference of until and steady
	until atomic.Int64 // the membership is known valid until base+until
	// steady is since when (base+steady) the membership has been known
	// valid without a break: a node expires others only after a TTL of it,
	// so that after an outage of the store every node renews before any
	// is taken for dead.
	steady atomic.Int64
	lost   atomic.Bool
	drain  atomic.Bool

	renewMu sync.Mutex // one renewal at a time

	mu     sync.Mutex
	opened map[string]time.Time // stages open here, since when
}

// valid reports whether the node is known to be a member now.
func (n *node) valid() bool {
	return !n.lost.Load() && time.Since(n.base) < time.Duration(n.until.Load())
}

// stageCost is what placing a stage adds to its node's load until the
// node's next renewal reports the real load: one 720p30 publisher.
var stageCost = capacity.Publisher(1280, 720, capacity.DefaultFPS)

// newNode checks cfg and fills in its defaults.
func newNode(cfg NodeConfig, whipURL string) (*node, error) {
	if cfg.APIURL == "" {
		return nil, errors.New("control: a node needs the URL its API is reached at by the other nodes (NodeConfig.APIURL)")
	}
	// Every start is a new node: the id gets a random suffix, so that a
	// restarted process never inherits what its previous run held (that
	// is taken over when the previous run expires).
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	cfg.ID = cmp.Or(cfg.ID, "node") + "-" + hex.EncodeToString(b)
	if cfg.WHIPURL == "" {
		cfg.WHIPURL = whipURL
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 6 * time.Second
	}
	return &node{cfg: cfg, base: time.Now(), opened: map[string]time.Time{}}, nil
}

// NodeID is this server's node id, "" when it is not in a cluster.
func (s *Server) NodeID() string {
	if s.node == nil {
		return ""
	}
	return s.node.cfg.ID
}

// Fenced reports whether the server must not write media to storage: it is
// a node that lost its membership or cannot tell whether it still has it
// (its last renewal is older than the TTL). Never true outside a cluster.
func (s *Server) Fenced() bool { return s.node != nil && !s.node.valid() }

// Draining reports whether the server hands its stages over and takes no
// new ones (Drain).
func (s *Server) Draining() bool { return s.node != nil && s.node.drain.Load() }

// nodeRecord is this node as the store lists it.
func (s *Server) nodeRecord() store.Node {
	capacityCores := s.cfg.CapacityCores
	if capacityCores <= 0 {
		capacityCores = 1e6 // no limit: placed by load alone
	}
	comps, pubs := s.load()
	return store.Node{ID: s.node.cfg.ID, APIURL: s.node.cfg.APIURL, WHIPURL: s.node.cfg.WHIPURL,
		RTMPURL: s.cfg.RTMPURL, RTMPSURL: s.cfg.RTMPSURL, UDPAddr: s.node.cfg.UDPAddr,
		CapacityCores: capacityCores, LoadCores: comps + pubs, Draining: s.node.drain.Load()}
}

// joinCluster registers the node.
func (s *Server) joinCluster(ctx context.Context) error {
	sent := time.Since(s.node.base)
	if err := s.store.RegisterNode(ctx, s.nodeRecord(), s.node.cfg.TTL); err != nil {
		return fmt.Errorf("control: joining the cluster: %w", err)
	}
	s.node.until.Store(int64(sent + s.node.cfg.TTL))
	s.node.steady.Store(int64(sent))
	s.log.Info("joined the cluster", "node", s.node.cfg.ID, "api_url", s.node.cfg.APIURL, "whip_url", s.node.cfg.WHIPURL,
		"ttl", s.node.cfg.TTL.String())
	return nil
}

// renewLoop renews the membership every TTL/5 until the server closes.
// It does nothing else, so that no slow work delays a renewal.
func (s *Server) renewLoop() {
	s.every(s.node.cfg.TTL/nodeTicks, func() {
		ctx, cancel := context.WithTimeout(s.ctx, s.node.cfg.TTL/2)
		defer cancel()
		s.renew(ctx)
	})
}

// nodeLoop, every TTL/5 while the membership is valid, expires dead nodes
// and takes their work over, opens and closes the stages this node owns
// and refreshes the keys, until the server closes.
func (s *Server) nodeLoop() {
	s.every(s.node.cfg.TTL/nodeTicks, func() {
		if !s.node.valid() {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.node.cfg.TTL)
		defer cancel()
		s.expireNodes(ctx)
		s.reconcileStages(ctx)
		s.keysMu.Lock()
		err := s.loadPublicKeys(ctx)
		s.keysMu.Unlock()
		if err != nil {
			s.log.Warn("refreshing the public keys", "err", err)
		}
		s.ingestMu.Lock()
		err = s.loadIngestConfigurations(ctx)
		s.ingestMu.Unlock()
		if err != nil {
			s.log.Warn("refreshing the ingest configurations", "err", err)
		}
	})
}

// renew extends the membership; false when the node is fenced. A renewal
// after the membership ran out succeeds as long as no other node removed
// this one (nothing was taken over); the node was fenced meanwhile.
func (s *Server) renew(ctx context.Context) bool {
	s.node.renewMu.Lock()
	defer s.node.renewMu.Unlock()
	if s.node.lost.Load() {
		return false
	}
	comps, pubs := s.load()
	sent := time.Since(s.node.base)
	ok, err := s.store.RenewNode(ctx, s.node.cfg.ID, comps+pubs, s.node.drain.Load(), s.node.cfg.TTL)
	switch {
	case err != nil:
		s.metrics.nodeRenewals.WithLabelValues("error").Inc()
		s.log.Error("renewing the cluster membership failed", "node", s.node.cfg.ID, "valid", s.node.valid(), "err", err)
		return s.node.valid()
	case !ok:
		s.metrics.nodeRenewals.WithLabelValues("lost").Inc()
		s.loseMembership("the node's membership expired and other nodes took its work over")
		return false
	}
	s.metrics.nodeRenewals.WithLabelValues("ok").Inc()
	if !s.node.valid() {
		s.node.steady.Store(int64(sent))
		s.log.Warn("cluster membership renewed after a break", "node", s.node.cfg.ID)
	}
	s.node.until.Store(int64(sent + s.node.cfg.TTL))
	return true
}

// loseMembership fences the node for good and ends its media work.
func (s *Server) loseMembership(reason string) {
	if s.node.lost.Swap(true) {
		return
	}
	s.log.Error("this node is no longer a member of the cluster: its media work ends, nothing more is written", "node", s.node.cfg.ID, "reason", reason)
	if s.node.cfg.Lost != nil {
		s.node.cfg.Lost(reason)
		return
	}
	s.node.mu.Lock()
	stages := s.node.opened
	s.node.opened = map[string]time.Time{}
	s.node.mu.Unlock()
	for arn := range stages {
		s.leaveStage(arn, "this node lost its cluster membership")
	}
}

// expireNodes removes the nodes whose membership ran out, then fails the
// compositions of nodes no longer registered and places their stages
// anew. Every step is conditional in the store, so that of several nodes
// doing it at once, one does each.
func (s *Server) expireNodes(ctx context.Context) {
	if time.Since(s.node.base)-time.Duration(s.node.steady.Load()) < s.node.cfg.TTL {
		return // not yet a TTL of unbroken membership
	}
	gone, err := s.store.ExpireNodes(ctx)
	if err != nil {
		s.log.Error("expiring nodes", "err", err)
		return
	}
	lastHeard := map[string]time.Time{}
	for _, n := range gone {
		s.metrics.nodesExpired.Inc()
		lastHeard[n.ID] = n.Expires.Add(-n.TTL)
		s.log.Warn("a node's membership ran out: taking its work over", "dead_node", n.ID, "api_url", n.APIURL,
			"last_heard", lastHeard[n.ID], "expired", n.Expires)
	}
	comps, err := s.store.OrphanCompositions(ctx, liveStates...)
	if err != nil {
		s.log.Error("finding the compositions of expired nodes", "err", err)
		return
	}
	var interrupted []interruptedRecording
	for _, o := range comps {
		// Failed first, then forgotten: a node that stops between the two
		// leaves the work to the next. Failing is conditional: of several
		// nodes, one fails it and finalizes its recordings.
		r, err := s.store.Get(ctx, o.ARN)
		if err == nil {
			// It ran until its node was last heard from (when another
			// node expired that one, about a TTL ago).
			ended, ok := lastHeard[o.NodeID]
			switch {
			case ok:
			case o.NodeID == "": // from a server alone on the store, before the cluster
				ended = s.lastAlive(ctx)
			default:
				ended = time.Now().Add(-s.node.cfg.TTL)
			}
			failed, err := s.failInterrupted(ctx, r, ended)
			if err != nil {
				s.log.Error("failing a composition of an expired node", "arn", o.ARN, "node", o.NodeID, "err", err)
				continue
			}
			if failed {
				s.log.Warn("composition of an expired node marked FAILED", "arn", o.ARN, "dead_node", o.NodeID)
				interrupted = append(interrupted, s.interruptedRecordings(ctx, o.ARN, ended)...)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			continue
		}
		if _, err := s.store.ForgetComposition(ctx, o.ARN, o.NodeID); err != nil {
			s.log.Warn("forgetting a composition of an expired node", "arn", o.ARN, "err", err)
		}
	}
	if len(interrupted) > 0 && s.cfg.FinalizeRecordings != nil {
		s.wg.Add(1)
		go s.finalizeInterrupted(interrupted)
	}
	stages, err := s.store.OrphanStages(ctx)
	if err != nil {
		s.log.Error("finding the stages of expired nodes", "err", err)
		return
	}
	for _, o := range stages {
		if mine, err := s.store.ReleaseStage(ctx, o.ARN, o.NodeID); err != nil || !mine {
			continue
		}
		owner, err := s.store.PlaceStage(ctx, o.ARN, stageCost, "", "")
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted
		}
		if err != nil {
			s.log.Warn("a stage of an expired node could not be placed again; its next publisher places it", "stage", o.ARN, "dead_node", o.NodeID, "err", err)
			continue
		}
		s.log.Info("stage of an expired node placed again", "stage", o.ARN, "dead_node", o.NodeID, "node", owner.ID, "generation", owner.Generation)
	}
}

// reconcileStages opens on ingest the stages this node owns and closes
// those it no longer does.
func (s *Server) reconcileStages(ctx context.Context) {
	owned, err := s.store.OwnedStages(ctx, s.node.cfg.ID)
	if err != nil {
		s.log.Error("listing this node's stages", "err", err)
		return
	}
	s.node.mu.Lock()
	var leaving []string
	for arn := range s.node.opened {
		if _, ok := owned[arn]; !ok {
			leaving = append(leaving, arn)
			delete(s.node.opened, arn)
		}
	}
	s.node.mu.Unlock()
	for _, arn := range leaving {
		s.leaveStage(arn, "the stage is now served by another node")
	}
	for arn, gen := range owned {
		if err := s.takeStage(ctx, arn, gen); err != nil {
			s.log.Error("opening a stage this node owns", "stage", arn, "err", err)
		}
	}
	s.releaseIdle(ctx)
}

// releaseIdle gives up the stages this node has served for at least
// Timeouts.SessionEnd that are idle — no session (none began here, or it
// ended), no participant, no composition — so that a stage's next session
// is placed by load anew rather than go back to where it once was.
func (s *Server) releaseIdle(ctx context.Context) {
	s.node.mu.Lock()
	defer s.node.mu.Unlock()
	for arn, since := range s.node.opened {
		if time.Since(since) < s.cfg.Timeouts.SessionEnd || !s.idle(arn) {
			continue
		}
		if _, err := s.store.ReleaseStage(ctx, arn, s.node.cfg.ID); err != nil {
			s.log.Warn("releasing an idle stage", "stage", arn, "err", err)
			continue
		}
		delete(s.node.opened, arn)
		s.cfg.Ingest.CloseStage(arn)
		s.mu.Lock()
		delete(s.sessions, arn)
		s.mu.Unlock()
		s.log.Info("idle stage released: its next session is placed anew", "stage", arn, "node", s.node.cfg.ID)
	}
}

// idle reports whether a stage served here has no session going, no
// participant and no composition.
func (s *Server) idle(arn string) bool {
	if st := s.cfg.Ingest.Stage(arn); st != nil && len(st.Roster()) > 0 {
		return false
	}
	for _, c := range s.stageCompositions(arn) {
		select {
		case <-c.done:
		default:
			return false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[arn]; ss != nil {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		return ss.id == ""
	}
	return true
}

// takeStage opens a stage this node owns (generation gen) unless it is
// open already: its session is taken up as after a restart.
func (s *Server) takeStage(ctx context.Context, arn string, gen int64) error {
	s.node.mu.Lock()
	defer s.node.mu.Unlock()
	if _, ok := s.node.opened[arn]; ok {
		return nil
	}
	if !s.node.valid() {
		return errors.New("this node's cluster membership is not known valid; try again")
	}
	if s.node.drain.Load() {
		return errors.New("this node is draining")
	}
	r, err := s.store.Get(ctx, arn)
	if errors.Is(err, store.ErrNotFound) {
		_, err = s.store.ReleaseStage(ctx, arn, s.node.cfg.ID) // deleted meanwhile
		return err
	}
	if err != nil {
		return err
	}
	if err := s.openStage(arn); err != nil {
		return err
	}
	if err := s.resumeSession(ctx, r, time.Now().UTC()); err != nil {
		return err
	}
	s.node.opened[arn] = time.Now()
	s.log.Info("serving a stage", "stage", arn, "node", s.node.cfg.ID, "generation", gen)
	return nil
}

// leaveStage stops serving a stage: its compositions here stop, its
// publishers are disconnected (they reconnect to its new node), its
// session tracker is dropped without ending the session.
func (s *Server) leaveStage(arn, reason string) {
	for _, c := range s.stageCompositions(arn) {
		c.stop(reason)
	}
	// Closed first: its participants' LEFT events go to the session they
	// were in; then its tracker goes, the session staying open for the
	// stage's next node.
	s.cfg.Ingest.CloseStage(arn)
	s.mu.Lock()
	ss := s.sessions[arn]
	delete(s.sessions, arn)
	s.mu.Unlock()
	if ss != nil {
		ss.mu.Lock()
		if ss.end != nil {
			ss.end.Stop()
			ss.end = nil
		}
		ss.mu.Unlock()
	}
	s.log.Info("no longer serving a stage", "stage", arn, "reason", reason)
}

// RouteStage is ingest's Route in a cluster: it places the stage if it has
// no owner and answers "" when this node serves it (opened), else the
// WHIP URL of the node that does. An RTMP(S) publisher, which cannot be
// redirected, places the stage on the node it reached when that node has
// room. A stage that does not exist (PlaceStage's ErrNotFound) is left to
// ingest to refuse.
func (s *Server) RouteStage(ctx context.Context, stageARN, protocol string) (string, error) {
	if s.node == nil {
		return "", nil
	}
	if !s.node.valid() {
		return "", errors.New("this node's cluster membership is not known valid; try again")
	}
	prefer := ""
	if protocol != "WHIP" {
		prefer = s.node.cfg.ID
	}
	owner, err := s.placeStage(ctx, stageARN, stageCost, prefer)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil // deleted meanwhile: ingest refuses it
	}
	if err != nil {
		return "", err
	}
	if owner.ID != s.node.cfg.ID {
		return owner.WHIPURL, nil
	}
	return "", s.takeStage(ctx, stageARN, owner.Generation)
}

// placeStage returns the stage's owner, placing it (cost: the load it
// adds; on prefer when it has room) when it has none; a draining node
// places nothing on itself.
func (s *Server) placeStage(ctx context.Context, stageARN string, cost float64, prefer string) (store.Owner, error) {
	exclude := ""
	if s.node.drain.Load() {
		exclude = s.node.cfg.ID
	}
	owner, err := s.store.PlaceStage(ctx, stageARN, cost, prefer, exclude)
	if errors.Is(err, store.ErrNoCapacity) {
		s.metrics.capacityRefused.Inc()
		return owner, fmt.Errorf("no node of the cluster has %.2f cores free for the stage (each node's --capacity-cores): %w", cost, err)
	}
	return owner, err
}

// Drain hands this node's stages over: it takes no new stage, stops the
// compositions it runs (STOPPED, their recordings finalized), disconnects
// its publishers and places each of its stages on another node, where
// publishers reconnect. The node stays a member until it closes.
func (s *Server) Drain(ctx context.Context) error {
	if s.node == nil || s.node.drain.Swap(true) {
		return nil
	}
	s.log.Info("draining: handing this node's stages over", "node", s.node.cfg.ID)
	if !s.renew(ctx) {
		return errors.New("control: drain: this node is no longer a member")
	}
	s.node.mu.Lock()
	stages := make([]string, 0, len(s.node.opened))
	for arn := range s.node.opened {
		stages = append(stages, arn)
	}
	s.node.opened = map[string]time.Time{}
	s.node.mu.Unlock()
	var errs []error
	for _, arn := range stages {
		s.leaveStage(arn, "the node is draining")
		s.waitCompositions(ctx, arn)
		if _, err := s.store.ReleaseStage(ctx, arn, s.node.cfg.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		owner, err := s.store.PlaceStage(ctx, arn, stageCost, "", s.node.cfg.ID)
		if err != nil {
			s.log.Warn("draining: no node took the stage; its next publisher places it", "stage", arn, "err", err)
			continue
		}
		s.log.Info("draining: stage handed over", "stage", arn, "node", owner.ID, "generation", owner.Generation)
	}
	return errors.Join(errs...)
}

// waitCompositions waits (bounded by ctx) for this node's compositions on
// a stage to end.
func (s *Server) waitCompositions(ctx context.Context, stageARN string) {
	for _, c := range s.stageCompositions(stageARN) {
		select {
		case <-c.done:
		case <-ctx.Done():
			return
		}
	}
}

// leaveCluster unregisters the node at Close (its stages released).
func (s *Server) leaveCluster(ctx context.Context) error {
	if s.node == nil || s.node.lost.Swap(true) { // fenced from now on: nothing more is written
		return nil
	}
	if err := s.store.RemoveNode(ctx, s.node.cfg.ID); err != nil {
		return fmt.Errorf("control: leaving the cluster: %w", err)
	}
	s.log.Info("left the cluster", "node", s.node.cfg.ID)
	return nil
}
