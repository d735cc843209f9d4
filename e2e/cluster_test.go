package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/media"
)

// clusterNode is one tessera serve of a cluster test.
type clusterNode struct {
	*server
	name string
	rtmp string      // its RTMP URL: a stage's endpoints.rtmp names the node serving it
	gone atomic.Bool // killed, stopped, paused: not scraped
}

var servingRTMPRE = regexp.MustCompile(`msg="tessera serving" .* rtmp=(\S+)`)

// cluster is the nodes of one test, sharing one PostgreSQL database and
// one versitygw.
type cluster struct {
	t     *testing.T
	env   []string
	args  []string
	mu    sync.Mutex // guards nodes against watchOwners' goroutine
	nodes []*clusterNode
}

func (c *cluster) start() *clusterNode {
	c.t.Helper()
	srv := startServer(c.t, c.t.TempDir(), c.env, c.args...)
	m := servingRTMPRE.FindStringSubmatch(srv.log.String())
	if m == nil {
		c.t.Fatalf("no RTMP URL in the log:\n%s", srv.log)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := &clusterNode{server: srv, name: fmt.Sprintf("node%d", len(c.nodes)), rtmp: m[1]}
	c.nodes = append(c.nodes, n)
	return n
}

// live returns a node that is not gone.
func (c *cluster) live() *clusterNode {
	for _, n := range c.nodes {
		if !n.gone.Load() {
			return n
		}
	}
	c.t.Fatal("no live node")
	return nil
}

// owner returns the node serving the stage (by its endpoints.rtmp, asked
// through a live node), nil when none does.
func (c *cluster) owner(ctx context.Context, stageARN string) *clusterNode {
	got, err := c.live().API.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stageARN)})
	if err != nil {
		c.t.Fatal(err)
	}
	asked := c.live()
	for _, n := range c.nodes {
		if n.rtmp == aws.ToString(got.Stage.Endpoints.Rtmp) && (n != asked || c.served(n)[arnTail(stageARN)]) {
			return n
		}
	}
	return nil
}

var servedRE = regexp.MustCompile(`(?m)^tessera_node_stage_served\{stage="([^"]+)"\} 1$`)

// served returns the stages a node says it serves (nil when it does not
// answer within a second).
func (c *cluster) served(n *clusterNode) map[string]bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.URL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]bool{}
	for _, m := range servedRE.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = true
	}
	return out
}

// watchOwners checks, every 200 ms until the test ends, that no stage is
// served by two nodes at once (each node's tessera_node_stage_served,
// which a node reports only while its membership is known valid).
func (c *cluster) watchOwners() {
	var mu sync.Mutex
	var rounds int
	var twice []string
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			by := map[string][]string{}
			c.mu.Lock()
			nodes := slices.Clone(c.nodes)
			c.mu.Unlock()
			for _, n := range nodes {
				if n.gone.Load() {
					continue
				}
				for st := range c.served(n) {
					by[st] = append(by[st], n.name)
				}
			}
			mu.Lock()
			rounds++
			for st, ns := range by {
				if len(ns) > 1 {
					twice = append(twice, fmt.Sprintf("%s on %v", st, ns))
				}
			}
			mu.Unlock()
		}
	}()
	c.t.Cleanup(func() {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		if len(twice) > 0 {
			c.t.Errorf("stages served by two nodes at once: %v", twice)
		}
		c.t.Logf("ownership checked in %d rounds: no stage served by two nodes", rounds)
	})
}

func arnTail(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// clusterStage is a stage of the test with its publisher.
type clusterStage struct {
	arn  string
	comp string // its running composition
	pub  *publisher.Publisher
}

// publish starts a Go publisher on the stage through node via's WHIP
// endpoint (a token from node tokens).
func publish(ctx context.Context, t *testing.T, via, tokens *clusterNode, stageARN, user string, c media.YUV) *publisher.Publisher {
	t.Helper()
	tok, err := tokens.API.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(stageARN), UserId: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := publisher.Start(ctx, publisher.Config{WHIP: via.URL + "/whip", Token: *tok.ParticipantToken.Token,
		Color: &c, ToneHz: publisher.DefaultToneHz, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("publishing through %s: %v", via.name, err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })
	return pub
}

// Three (then four) tessera serve processes on one PostgreSQL database and
// one versitygw: six stages spread over them by load, publishers redirected
// to their stage's node, API calls through any node; compositions
// recording on every node; kill -9 of a node → its stages placed again
// within 10 s, its compositions FAILED with recordings finalized from
// storage, publishers and new compositions back; a node paused (SIGSTOP)
// for 20 s loses its stages and, resumed, writes nothing more and exits;
// SIGTERM drains a node: its compositions STOPPED, its stages handed over.
// No stage is ever served by two nodes at once.
func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	pg, s3, env, args := sharedBackends(t, true)
	c := &cluster{t: t, env: env, args: append(args, "--capacity-cores", "2")}
	for range 3 {
		c.start()
	}
	c.watchOwners()
	cfg := soloConfigurations(ctx, t, c.nodes[0].API)

	// Six stages, each created through one node, its token from another,
	// published through the third: the offer lands where the stage is
	// placed (307 when that is another node).
	colours := []media.YUV{media.RGBToYUV(230, 40, 40), media.RGBToYUV(40, 200, 60), media.RGBToYUV(40, 60, 230),
		media.RGBToYUV(230, 200, 40), media.RGBToYUV(200, 40, 200), media.RGBToYUV(40, 200, 200)}
	stages := make([]*clusterStage, 6)
	for i := range stages {
		st, err := c.nodes[i%3].API.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String(fmt.Sprintf("cluster-%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		stages[i] = &clusterStage{arn: *st.Stage.Arn}
		stages[i].pub = publish(ctx, t, c.nodes[(i+1)%3], c.nodes[(i+2)%3], stages[i].arn, "first", colours[i])
	}
	count := map[string]int{}
	for i, st := range stages {
		var o *clusterNode
		waitFor(ctx, t, fmt.Sprintf("stage %d served", i), func() bool { o = c.owner(ctx, st.arn); return o != nil })
		count[o.name]++
	}
	t.Logf("stages per node: %v", count)
	for _, n := range c.nodes {
		if count[n.name] < 1 || count[n.name] > 3 {
			t.Errorf("stages per node %v: not spread by load", count)
			break
		}
	}
	// Whichever node placed them, an offer through another node is
	// redirected to the stage's; the token names that node.
	o0 := c.owner(ctx, stages[0].arn)
	via := c.nodes[(slices.Index(c.nodes, o0)+1)%3]
	before := seriesValue(via.metrics(t), "tessera_ingest_whip_redirected_total")
	second := publish(ctx, t, via, via, stages[0].arn, "second", colours[0])
	if n := seriesValue(via.metrics(t), "tessera_ingest_whip_redirected_total") - before; n != 1 {
		t.Errorf("an offer through %s for a stage on %s: %v redirects, want 1", via.name, o0.name, n)
	}
	if !strings.HasPrefix(second.Location(), o0.URL+"/whip/") {
		t.Errorf("the redirected publisher's session is at %s, want on %s (%s)", second.Location(), o0.name, o0.URL)
	}
	second.Close(ctx)
	if st, _ := via.API.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stages[0].arn)}); aws.ToString(st.Stage.Endpoints.Whip) != o0.URL+"/whip" {
		t.Errorf("endpoints.whip %q through %s, want the serving node's %s/whip", aws.ToString(st.Stage.Endpoints.Whip), via.name, o0.URL)
	}

	// The same state through every node.
	for _, n := range c.nodes {
		l, err := n.API.ListStages(ctx, &ivsrealtime.ListStagesInput{})
		if err != nil || len(l.Stages) != 6 {
			t.Fatalf("ListStages through %s: %v %d", n.name, err, len(l.Stages))
		}
		for _, st := range stages {
			var ps *ivsrealtime.ListParticipantsOutput
			waitFor(ctx, t, "the participant through "+n.name, func() bool {
				s, err := n.API.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(st.arn)})
				if err != nil || s.Stage.ActiveSessionId == nil {
					return false
				}
				ps, err = n.API.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(st.arn), SessionId: s.Stage.ActiveSessionId})
				connected := 0
				for _, p := range ps.Participants {
					if p.State == types.ParticipantStateConnected {
						connected++
					}
				}
				return err == nil && connected == 1
			})
		}
	}

	// A recording composition on every stage, each started through a node
	// that does not serve it (forwarded), watched through a third.
	for i, st := range stages {
		o := c.owner(ctx, st.arn)
		via := c.nodes[(slices.Index(c.nodes, o)+1)%3]
		comp, err := via.API.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(st.arn),
			Destinations: []types.DestinationConfiguration{cfg.recording()}})
		if err != nil {
			t.Fatalf("StartComposition %d through %s (stage on %s): %v", i, via.name, o.name, err)
		}
		st.comp = *comp.Composition.Arn
	}
	for _, st := range stages {
		waitState(ctx, t, c.nodes[2].API, st.comp, types.CompositionStateActive)
	}
	// A forwarded call's refusal comes back as the serving node gave it;
	// a viewer token names the composition's node.
	o := c.owner(ctx, stages[0].arn)
	other := c.nodes[(slices.Index(c.nodes, o)+1)%3]
	_, err := other.API.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stages[0].arn),
		Destinations: []types.DestinationConfiguration{{S3: &types.S3DestinationConfiguration{StorageConfigurationArn: aws.String(cfg.storage),
			EncoderConfigurationArns: []string{cfg.encoder + "x"}}}}})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(aws.ToString(nf.ExceptionMessage), cfg.encoder+"x") {
		t.Errorf("a forwarded StartComposition naming a missing encoder configuration: %v", err)
	}
	var vt viewerToken
	if status := other.callExtension(ctx, t, "CreateViewerToken", map[string]any{"compositionArn": stages[0].comp}, &vt); status != http.StatusOK ||
		!strings.HasPrefix(vt.ViewerToken.WhepUrl, o.URL+"/view/") {
		t.Errorf("CreateViewerToken through %s for a composition on %s: %d %+v", other.name, o.name, status, vt)
	}
	forwarded := 0
	for _, n := range c.nodes {
		forwarded += int(seriesValue(n.metrics(t), `tessera_api_forwarded_total{operation="StartComposition",result="ok"}`))
	}
	if forwarded != 7 {
		t.Errorf("%d StartComposition calls forwarded, want 7", forwarded)
	}
	recDir := func(arn string) string {
		g, err := c.live().API.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Join(s3.Dir(), bucket, *g.Composition.Destinations[0].Detail.S3.RecordingPrefix)
	}
	for _, st := range stages {
		dir := recDir(st.comp)
		waitFor(ctx, t, "two segments of every recording", func() bool { return countFiles(dir, ".ts") >= 2 })
	}

	// PostgreSQL hangs for twice the nodes' TTL: the nodes are fenced
	// (their uploads wait in the spool), and when it answers again every
	// node renews before any takes another for dead: none exits, every
	// composition goes on, and no segment is missing from storage.
	ttl := 6 * time.Second
	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * ttl)
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * ttl)
	for _, n := range c.nodes {
		select {
		case <-n.exited:
			t.Fatalf("%s exited after a PostgreSQL outage: %v", n.name, n.err)
		default:
		}
		renewed := seriesValue(n.metrics(t), `tessera_node_renewals_total{result="error"}`)
		t.Logf("%s: %v renewals failed during the outage", n.name, renewed)
	}
	for _, st := range stages {
		waitState(ctx, t, c.live().API, st.comp, types.CompositionStateActive)
		dir := recDir(st.comp)
		var missing []int
		waitFor(ctx, t, "every segment cut during the outage in storage", func() bool {
			missing = missingSegments(dir)
			return len(missing) == 0
		})
	}
	t.Logf("a %v PostgreSQL outage: no node lost, every recording complete in storage", 2*ttl)

	// kill -9 of the node serving stage 0.
	victim := c.owner(ctx, stages[0].arn)
	var lost []*clusterStage
	for _, st := range stages {
		if c.owner(ctx, st.arn) == victim {
			lost = append(lost, st)
		}
	}
	victim.gone.Store(true)
	crash := time.Now()
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-victim.exited
	for _, st := range lost {
		waitFor(ctx, t, "the stage placed on a survivor", func() bool { o := c.owner(ctx, st.arn); return o != nil && o != victim })
	}
	placed := time.Since(crash)
	t.Logf("kill -9 of %s: its %d stages placed again %v later", victim.name, len(lost), placed.Round(time.Millisecond))
	if placed > 10*time.Second {
		t.Errorf("stages of the killed node placed again after %v, want ≤ 10 s", placed)
	}
	for _, st := range lost {
		waitState(ctx, t, c.live().API, st.comp, types.CompositionStateFailed)
		failed := filepath.Join(recDir(st.comp), "events", "recording-failed.json")
		waitFor(ctx, t, "recording-failed.json", func() bool { _, err := os.Stat(failed); return err == nil })
		readFailedRecording(t, failed, "work files are not on this server", time.Second, crash)
	}
	// Publishers come back (through any node: redirected to the new one)
	// and new compositions start there.
	for i, st := range lost {
		st.pub.Close(ctx)
		via := c.live()
		st.pub = publish(ctx, t, via, via, st.arn, "again", colours[i])
		comp, err := via.API.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(st.arn),
			Destinations: []types.DestinationConfiguration{cfg.recording()}})
		if err != nil {
			t.Fatal(err)
		}
		st.comp = *comp.Composition.Arn
		waitState(ctx, t, via.API, st.comp, types.CompositionStateActive)
	}

	// A fourth node joins; one of the survivors is paused for 20 s.
	c.start()
	var paused *clusterNode
	for _, n := range c.nodes {
		if !n.gone.Load() && n != c.nodes[len(c.nodes)-1] {
			paused = n
			break
		}
	}
	var pausedStages []*clusterStage
	for _, st := range stages {
		if c.owner(ctx, st.arn) == paused {
			pausedStages = append(pausedStages, st)
		}
	}
	if len(pausedStages) == 0 {
		t.Fatalf("%s serves no stage", paused.name)
	}
	paused.gone.Store(true)
	if err := paused.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stop := time.Now()
	for _, st := range pausedStages {
		waitFor(ctx, t, "a paused node's stage placed again", func() bool { o := c.owner(ctx, st.arn); return o != nil && o != paused })
		waitState(ctx, t, c.live().API, st.comp, types.CompositionStateFailed)
		failed := filepath.Join(recDir(st.comp), "events", "recording-failed.json")
		waitFor(ctx, t, "recording-failed.json", func() bool { _, err := os.Stat(failed); return err == nil })
	}
	t.Logf("SIGSTOP of %s: its %d stages placed again, compositions FAILED, recordings finalized %v later", paused.name,
		len(pausedStages), time.Since(stop).Round(time.Millisecond))
	snap := map[string]string{}
	for _, st := range pausedStages {
		snapshot(t, recDir(st.comp), snap)
	}
	time.Sleep(time.Until(stop.Add(20 * time.Second)))
	if err := paused.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-paused.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("the resumed node still runs 15 s after SIGCONT")
	}
	var ee *exec.ExitError
	if !errors.As(paused.err, &ee) || ee.ExitCode() != 3 || !strings.Contains(paused.log.String(), "lost its cluster membership") {
		t.Errorf("the resumed node's exit: %v", paused.err)
	}
	after := map[string]string{}
	for _, st := range pausedStages {
		snapshot(t, recDir(st.comp), after)
	}
	for k, v := range after {
		if snap[k] != v {
			t.Errorf("the resumed node wrote %s after its stages were taken over (%q, was %q)", k, v, snap[k])
		}
	}
	t.Logf("resumed %s exited (%v) and wrote nothing: %d objects of its recordings unchanged", paused.name, paused.err, len(after))

	// SIGTERM drains a node that serves stages: its compositions end
	// STOPPED and their recordings normally; its stages go to the others.
	var drained *clusterNode
	var drainedStages []*clusterStage
	for _, n := range c.nodes {
		if n.gone.Load() {
			continue
		}
		drainedStages = drainedStages[:0]
		for _, st := range stages {
			if c.owner(ctx, st.arn) == n {
				drainedStages = append(drainedStages, st)
			}
		}
		if len(drainedStages) > 0 {
			drained = n
			break
		}
	}
	if drained == nil {
		t.Fatal("no node serves a stage")
	}
	drained.gone.Store(true)
	if err := drained.stop(t); err != nil {
		t.Errorf("the drained node's exit: %v", err)
	}
	for _, st := range drainedStages {
		g, err := c.live().API.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(st.comp)})
		if err != nil || (g.Composition.State != types.CompositionStateStopped && g.Composition.State != types.CompositionStateFailed) {
			t.Fatalf("composition after the drain: %v %+v", err, g)
		}
		if g.Composition.State != types.CompositionStateStopped {
			t.Errorf("a drained composition ended %s, want STOPPED", g.Composition.State)
		}
		ended := filepath.Join(recDir(st.comp), "events", "recording-ended.json")
		if _, err := os.Stat(ended); err != nil {
			t.Errorf("drained composition's recording: %v", err)
		}
		waitFor(ctx, t, "a drained stage placed again", func() bool { o := c.owner(ctx, st.arn); return o != nil && o != drained })
	}
	t.Logf("SIGTERM of %s: %d compositions STOPPED, its stages handed over", drained.name, len(drainedStages))
}

// missingSegments lists the numbers of the segments missing from a
// recording's storage folder between its first and its last (1.ts…N.ts).
func missingSegments(dir string) []int {
	have := map[int]bool{}
	top := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".ts") {
			if n, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(p), ".ts")); err == nil {
				have[n] = true
				top = max(top, n)
			}
		}
		return nil
	})
	var missing []int
	for i := 1; i <= top; i++ {
		if !have[i] {
			missing = append(missing, i)
		}
	}
	return missing
}

// seriesValue returns the value of one series of a /metrics text, written
// as it appears there (name, or name{labels}); 0 when absent.
func seriesValue(text, series string) float64 {
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// snapshot records the size and modification time of every file under dir.
func snapshot(t *testing.T, dir string, into map[string]string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		into[p] = fmt.Sprintf("%d@%s", fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A stage whose session ended, with nothing running on it, is given up by
// its node: its next session is placed anew by load.
func TestClusterIdleStage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, _, env, _ := sharedBackends(t, false)
	c := &cluster{t: t, env: env, args: []string{"--stage-session-end", "2s"}}
	a, b := c.start(), c.start()
	st, err := a.API.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := *st.Stage.Arn
	servedBy := func() []string {
		var on []string
		for _, n := range c.nodes {
			if c.served(n)[arnTail(arn)] {
				on = append(on, n.name)
			}
		}
		return on
	}
	pub := publish(ctx, t, b, a, arn, "first", media.RGBToYUV(230, 40, 40))
	waitFor(ctx, t, "the stage served", func() bool { return len(servedBy()) == 1 })
	first := servedBy()[0]
	pub.Close(ctx)
	left := time.Now()
	waitFor(ctx, t, "the idle stage given up", func() bool { return len(servedBy()) == 0 })
	t.Logf("stage served by %s, given up %v after its last publisher left (session end 2 s)", first, time.Since(left).Round(100*time.Millisecond))
	sessions, err := a.API.ListStageSessions(ctx, &ivsrealtime.ListStageSessionsInput{StageArn: aws.String(arn)})
	if err != nil || len(sessions.StageSessions) != 1 || sessions.StageSessions[0].EndTime == nil {
		t.Fatalf("sessions after the stage was given up: %v %+v", err, sessions)
	}
	publish(ctx, t, a, b, arn, "again", media.RGBToYUV(40, 200, 60))
	waitFor(ctx, t, "the stage served again", func() bool { return len(servedBy()) == 1 })
	sessions, err = a.API.ListStageSessions(ctx, &ivsrealtime.ListStageSessionsInput{StageArn: aws.String(arn)})
	if err != nil || len(sessions.StageSessions) != 2 {
		t.Fatalf("sessions after a new publisher: %v %+v", err, sessions)
	}
}

// When no node has room for a stage: a WHIP offer is refused with 503 and
// StartComposition with ServiceQuotaExceededException, both naming the
// capacity.
func TestClusterFull(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _, env, _ := sharedBackends(t, false)
	c := &cluster{t: t, env: env, args: []string{"--capacity-cores", "0.01"}}
	n := c.start()
	st, err := n.API.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := soloConfigurations(ctx, t, n.API)
	_, err = n.API.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn,
		Destinations: []types.DestinationConfiguration{cfg.recording()}})
	var sq *types.ServiceQuotaExceededException
	if !errors.As(err, &sq) || !strings.Contains(aws.ToString(sq.ExceptionMessage), "--capacity-cores") {
		t.Errorf("StartComposition with no room: %v", err)
	}
	tok, err := n.API.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn})
	if err != nil {
		t.Fatal(err)
	}
	_, err = publisher.Start(ctx, publisher.Config{WHIP: n.URL + "/whip", Token: *tok.ParticipantToken.Token, NoAudio: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var we *publisher.WHIPError
	if !errors.As(err, &we) || we.Status != http.StatusServiceUnavailable || !strings.Contains(we.Reason, "--capacity-cores") {
		t.Errorf("a WHIP offer with no room: %v", err)
	}
	if v := seriesValue(n.metrics(t), "tessera_node_capacity_refused_total"); v != 2 {
		t.Errorf("tessera_node_capacity_refused_total %v, want 2", v)
	}
}
