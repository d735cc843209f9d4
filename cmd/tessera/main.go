// Command tessera is the compositing worker: `tessera serve` serves the
// ivs-realtime API, the WHIP endpoint, /metrics, /healthz and /readyz from
// one process and runs the compositions. Run `tessera serve -h` for the
// settings. `tessera api-model` prints the API's model with Tessera's
// extensions, for the AWS CLI (aws configure add-model); `tessera version`
// the build. Anything else that is not a flag is refused (exit status 2).
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-media/tessera/console"
	"github.com/tessera-media/tessera/control"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/schedkeep"
	"github.com/tessera-media/tessera/output"
	"github.com/tessera-media/tessera/worker"
)

func main() {
	cmd, args, err := command(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "tessera: %v\n%s", err, commands)
		os.Exit(2)
	}
	switch cmd {
	case "demo":
		if err := demo(args); err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tessera demo:", err)
			os.Exit(exitStatus(err))
		}
		return
	case "api-model":
		if err := apiModel(args, os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tessera api-model:", err)
			os.Exit(2)
		}
		return
	case "version":
		fmt.Println(version())
		return
	case "help":
		fmt.Print(commands)
		return
	}
	s, _, err := parseSettings(args, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tessera:", err)
		os.Exit(2)
	}
	ctx, stop := signalContext()
	defer stop()
	if err := serve(ctx, s, nil); err != nil {
		fmt.Fprintln(os.Stderr, "tessera:", err)
		os.Exit(1)
	}
}

// commands is the top-level usage.
const commands = `usage: tessera serve [flags]      run the server (tessera serve -h lists the flags)
       tessera demo [flags]       a server with four synthetic participants recording a grid (tessera demo -h)
       tessera api-model          print the API's model with Tessera's extensions, for aws configure add-model
       tessera version            print the build's version
`

// command splits args into the command and its arguments: serve, demo,
// api-model, version or help; no command, or flags alone (tessera
// --listen …), is serve. A word that is no command is an error, so that a
// mistyped one (tessera serv --listen …) starts nothing.
func command(args []string) (string, []string, error) {
	if len(args) == 0 {
		return "serve", nil, nil
	}
	switch a := args[0]; a {
	case "serve", "demo", "api-model", "version", "help":
		return a, args[1:], nil
	case "-version", "--version":
		return "version", args[1:], nil
	case "-h", "-help", "--help":
		return "help", args[1:], nil
	default:
		if strings.HasPrefix(a, "-") {
			return "serve", args, nil
		}
		return "", nil, fmt.Errorf("unknown command %q", a)
	}
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

// serve runs the server until ctx ends, then shuts down gracefully:
// running compositions stop and their recordings are finalized. ready, if
// set, receives the bound address once the server accepts requests.
func serve(ctx context.Context, s *settings, ready chan<- string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	av.SetLogger(log.With("component", "ffmpeg"))
	if s.SchedKeeper {
		defer schedkeep.Start()()
	}
	if err := os.MkdirAll(s.Data, 0o755); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	// Go runtime (with the GC and scheduler groups of runtime/metrics:
	// pauses and scheduling latency matter to a frame clock) and process.
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	tlsConfig, err := httpsConfig(s, log, reg)
	if err != nil {
		return err
	}
	where := s.Store
	if where == "" {
		where = filepath.Join(s.Data, "tessera.db")
	}
	clustered := store.IsPostgresURL(where)
	st, err := store.Open(ctx, where)
	if err != nil {
		return err
	}
	serving := false // from then on, the shutdown below closes the store
	defer func() {
		if !serving {
			st.Close()
		}
	}()
	var key *ingest.TokenKey
	if clustered {
		key, err = clusterTokenKey(ctx, st, filepath.Join(s.Data, "token-key.pem"))
	} else {
		key, err = ingest.LoadOrCreateTokenKey(filepath.Join(s.Data, "token-key.pem"))
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return err
	}
	urls := publicURLs{fixed: s.PublicURL, base: "http://" + ln.Addr().String(), trusted: s.trustedProxies}
	if tlsConfig != nil {
		urls.base = "https://" + ln.Addr().String()
	}
	publicURL := cmp.Or(s.PublicURL, urls.base)
	host, _, _ := net.SplitHostPort(s.Listen)
	loopback := isLoopback(host)
	udpHost := host
	if !loopback {
		udpHost = ""
	}
	// In a cluster, ingest asks the control plane where each stage is
	// served (set below, before any request is served).
	var route atomic.Pointer[control.Server]
	var routeStage func(ctx context.Context, stageARN, protocol string) (string, error)
	if clustered {
		routeStage = func(ctx context.Context, stageARN, protocol string) (string, error) {
			return route.Load().RouteStage(ctx, stageARN, protocol)
		}
	}
	ing, err := ingest.New(ingest.Config{Key: key, Route: routeStage, UDPAddr: net.JoinHostPort(udpHost, strconv.Itoa(s.UDPPort)),
		PublicIPs: s.PublicIPs, Loopback: loopback, LoopbackOnly: loopback, MaxPublishers: s.MaxPubs,
		MaxSessions: s.WHIPMaxSessions, MaxHalfOpen: s.WHIPMaxHalfOpen, ConnectTimeout: s.WHIPConnectTimeout,
		ReconnectWindow: s.ingestReconnectWindow(), RTMPHandshakeTimeout: s.RTMPHandshakeTimeout, RTMPMaxPending: s.RTMPMaxPending,
		Logger: log, Registerer: reg})
	if err != nil {
		ln.Close()
		return err
	}
	rtmp, err := listenRTMP(s, ing, log)
	if err != nil {
		ln.Close()
		return err
	}
	var storage output.Storage
	if s.S3Endpoint != "" {
		storage, err = output.NewS3Storage(output.S3Config{Endpoint: s.S3Endpoint, Region: s.S3Region, PathStyle: true,
			AccessKeyID: s.S3AccessKeyID, SecretAccessKey: s.S3SecretAccessKey})
	} else {
		storage, err = output.NewFolderStorage(filepath.Join(s.Data, "buckets"))
	}
	if err != nil {
		ln.Close()
		rtmp.close()
		return err
	}
	fenced := newFence(storage)
	storage = fenced
	views, viewTokens, err := startViews(s, ing, loopback, log, reg)
	if err != nil {
		ln.Close()
		rtmp.close()
		return err
	}
	w, err := worker.New(worker.Config{Ingest: ing, Storage: storage, SpoolDir: filepath.Join(s.Data, "spool"),
		Delay: s.AVDelay, MinDelay: s.AVDelayMin, MaxDelay: s.AVDelayMax, Preset: s.Preset, CAFile: s.CAFile, Views: views, Logger: log, Registerer: reg})
	if err != nil {
		ln.Close()
		rtmp.close()
		return err
	}
	// Finish what a crash left: interrupted recordings, spooled uploads.
	if err := w.Recover(); err != nil {
		log.Error("recovering recordings", "err", err)
	}
	defer w.Close()
	var node *control.NodeConfig
	if clustered {
		node = &control.NodeConfig{ID: s.NodeID, APIURL: cmp.Or(s.NodeURL, publicURL), WHIPURL: publicURL + "/whip",
			UDPAddr: ing.UDPAddr().String(), TTL: s.NodeTTL,
			Lost: func(reason string) {
				// Like a crash: nothing more is written; the next start
				// recovers what this node holds, as a new node.
				log.Error("exiting: this node lost its cluster membership", "reason", reason)
				os.Exit(3)
			}}
	}
	api, err := control.New(ctx, control.Config{Node: node,
		Region: s.Region, AccountID: s.AccountID, Credentials: map[string]string{s.AccessKeyID: s.SecretAccessKey},
		Store: st, Ingest: ing, TokenKey: key, WHIPURL: publicURL + "/whip", Channels: s.Channels,
		ViewerTokens: viewTokens,
		RTMPURL:      rtmp.plainURL, RTMPSURL: rtmp.secureURL,
		Pipelines: w.Start, ParticipantRecorders: w.RecordParticipant, FinalizeRecordings: w.FinalizeInterrupted,
		CapacityCores: s.CapacityCores, Preset: s.Preset, Webhooks: s.Webhooks, WebhookSecret: []byte(s.WebhookSecret), Logger: log, Registerer: reg,
		PreAuthBytes: s.APIPreAuthBytes, RateLimit: s.rateLimit(),
		Quotas: control.Quotas{Compositions: s.MaxCompositions, CompositionsPerStage: s.MaxCompositionsPerStage,
			EncoderConfigurations: s.MaxEncoderConfigs, StorageConfigurations: s.MaxStorageConfigs},
		Timeouts: control.Timeouts{Idle: s.IdleTimeout, NoPublisher: s.NoPublisherTimeout, MaxDuration: s.MaxDuration, Retention: s.Retention,
			SessionEnd: s.SessionEnd},
	})
	if err != nil {
		ln.Close()
		rtmp.close()
		return err
	}
	route.Store(api)
	fenced.check(api.Fenced)
	if clustered && s.S3Endpoint == "" {
		log.Warn("a node of a cluster recording to folders of its own (no --s3-endpoint): the other nodes cannot finalize its recordings if it dies; use S3-compatible storage shared by every node")
	}
	if len(s.Webhooks) > 0 && s.WebhookSecret == "" {
		log.Warn("webhook requests are unsigned: set TESSERA_WEBHOOK_SECRET so receivers can verify them")
	}

	var readyFlag atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("/whip", ing.Handler())
	mux.Handle("/whip/", ing.Handler())
	mux.Handle("/view/", views.Handler())
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !readyFlag.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if api.Draining() {
			http.Error(w, "draining: handing stages over to other nodes", http.StatusServiceUnavailable)
			return
		}
		if api.Fenced() {
			http.Error(w, "fenced: this node's cluster membership is not known valid", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("/", urls.api(api))
	cc := console.Config{API: api, Ingest: ing, Channels: slices.Collect(maps.Keys(s.Channels)), Logger: log,
		SecureCookies: strings.HasPrefix(publicURL, "https://")}
	cc.Recordings, _ = storage.(output.Lister)
	if s.AccessKeyID == DevAccessKeyID && s.SecretAccessKey == DevSecretAccessKey {
		cc.Development = &console.Credentials{AccessKeyID: DevAccessKeyID, SecretAccessKey: DevSecretAccessKey}
	}
	con := urls.api(console.New(cc)) // the console's API calls hand out the same endpoints.whip
	for _, pattern := range console.Routes {
		mux.Handle(pattern, con)
	}
	hs := newHTTPServer(s, mux)
	hs.TLSConfig = tlsConfig
	errc := make(chan error, 1)
	go func() { errc <- serveHTTP(hs, ln) }()
	readyFlag.Store(true)
	serving = true
	log.Info("tessera serving", "listen", ln.Addr().String(), "console", publicURL+"/", "whip", publicURL+"/whip", "https", tlsConfig != nil, "udp", ing.UDPAddr().String(),
		"rtmp", rtmp.plainURL, "rtmps", rtmp.secureURL,
		"data", s.Data, "s3", s.S3Endpoint != "", "channels", len(s.Channels), "node", api.NodeID())
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case <-ctx.Done():
	case err := <-errc:
		log.Error("HTTP server", "err", err)
	}
	log.Info("shutting down: stopping compositions and finalizing recordings")
	readyFlag.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errs []error
	if err := api.Close(sctx); err != nil {
		errs = append(errs, err)
	}
	if err := hs.Shutdown(sctx); err != nil {
		errs = append(errs, err)
	}
	views.Close() // before ingest: they share its UDP port
	if err := ing.Close(sctx); err != nil {
		errs = append(errs, err)
	}
	if err := st.Close(); err != nil {
		errs = append(errs, err)
	}
	log.Info("stopped")
	return errors.Join(errs...)
}
