package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-media/tessera/control"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/output"
	"github.com/tessera-media/tessera/worker"
)

// Development credentials: what `make run` uses when none are configured.
// The server refuses them on a non-loopback address.
const (
	DevAccessKeyID     = "AKIATESSERADEV000001"
	DevSecretAccessKey = "tessera-development-secret"
)

// settings are the server's configuration: flags, TESSERA_* environment
// variables and an optional JSON config file, in that order of precedence.
type settings struct {
	Listen, Data, Config, PublicURL string
	Store                           string
	// A node of a cluster (a PostgreSQL --store).
	NodeID, NodeURL                               string
	NodeTTL                                       time.Duration
	Region, AccountID                             string
	AccessKeyID, SecretAccessKey                  string
	Channels                                      output.Channels
	Webhooks, PublicIPs                           listFlag
	S3Endpoint, S3Region                          string
	S3AccessKeyID, S3SecretAccessKey              string
	UDPPort                                       int
	IdleTimeout, NoPublisherTimeout, MaxDuration  time.Duration
	Retention, AVDelay                            time.Duration
	AVDelayMin, AVDelayMax                        time.Duration
	MaxCompositions, MaxCompositionsPerStage      int
	CapacityCores                                 float64
	MaxEncoderConfigs, MaxStorageConfigs, MaxPubs int
	CAFile, LogLevel, Preset                      string
	// WHIP session caps (ingest.Config).
	WHIPMaxSessions, WHIPMaxHalfOpen int
	MaxViewers                       int
	SchedKeeper                      bool
	WHIPConnectTimeout               time.Duration
	// RTMP(S) ingest (cmd/tessera/rtmp.go).
	RTMPListen, RTMPSListen       string
	RTMPPublicURL, RTMPSPublicURL string
	RTMPSCert, RTMPSKey           string
	RTMPHandshakeTimeout          time.Duration
	RTMPMaxPending                int

	// The HTTP listener's limits and the API's edge (httpserver.go,
	// control.RateLimit, sigv4.Budget).
	HTTPReadHeaderTimeout, HTTPReadTimeout time.Duration
	HTTPWriteTimeout, HTTPIdleTimeout      time.Duration
	HTTPMaxHeaderBytes                     int
	// HTTPS (https.go) and reverse proxies (publicurl.go).
	TLSCert, TLSKey string
	TLSSelfSigned   bool
	TrustedProxies  listFlag
	trustedProxies  []netip.Prefix // TrustedProxies, parsed by check
	APIPreAuthBytes int64
	APITPS          float64
	APIBurst        int

	// ReconnectWindow: a participant publishing again within it keeps its
	// place in the arrival order; 0 turns that off.
	ReconnectWindow time.Duration

	// Stage sessions and events (control): a session ends SessionEnd
	// after its last participant left; webhook requests are signed with
	// WebhookSecret (control.SignWebhook) when it is set.
	SessionEnd    time.Duration
	WebhookSecret string
}

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

type channelFlag struct{ c output.Channels }

func (f channelFlag) String() string { return fmt.Sprint(len(f.c), " channels") }
func (f channelFlag) Set(v string) error {
	for _, spec := range strings.Fields(strings.ReplaceAll(v, ",", " ")) {
		if err := f.c.Set(spec); err != nil {
			return err
		}
	}
	return nil
}

// parseSettings reads the settings from args, the environment and the
// config file named by --config (or TESSERA_CONFIG).
func parseSettings(args []string, env func(string) string) (*settings, *flag.FlagSet, error) {
	s := &settings{Channels: output.Channels{}}
	fs := newFlagSet("tessera serve")
	fs.StringVar(&s.Listen, "listen", "127.0.0.1:8080", "HTTP address of the API, WHIP (/whip), /metrics, /healthz and /readyz")
	fs.StringVar(&s.TLSCert, "tls-cert", "", "certificate chain (PEM file, with --tls-key): --listen serves HTTPS; re-read when it or the key changes on disk (a renewal needs no restart)")
	fs.StringVar(&s.TLSKey, "tls-key", "", "private key (PEM file) of --tls-cert")
	fs.BoolVar(&s.SchedKeeper, "sched-keeper", true, "keep one of the Go scheduler's processors from idling, so that its monitor thread backs off instead of polling every 20 µs between packets (less CPU; see README's Performance)")
	fs.BoolVar(&s.TLSSelfSigned, "tls-self-signed", false, "--listen serves HTTPS with a self-signed certificate kept in <data>/tls (clients must trust its cert.pem; its SHA-256 fingerprint is logged)")
	fs.Var(&s.TrustedProxies, "trusted-proxy", "address or CIDR of a reverse proxy whose X-Forwarded-Proto and X-Forwarded-Host (or Forwarded: proto=…;host=…) give the scheme and host of the URLs its requests are answered with, when --public-url is unset (repeatable)")
	durationVar(fs, &s.HTTPReadHeaderTimeout, "http-read-header-timeout", 10*time.Second, "longest a client may take to send a request's headers")
	durationVar(fs, &s.HTTPReadTimeout, "http-read-timeout", 20*time.Second, "longest a client may take to send a whole request, body included; a stalled upload's connection is closed then (the handler's own time does not count)")
	durationVar(fs, &s.HTTPWriteTimeout, "http-write-timeout", time.Minute, "longest from the end of a request's headers to the end of its response (bounds a WHIP offer's negotiation and a client that does not read)")
	durationVar(fs, &s.HTTPIdleTimeout, "http-idle-timeout", 2*time.Minute, "how long a kept-alive HTTP connection may wait for its next request")
	fs.IntVar(&s.HTTPMaxHeaderBytes, "http-max-header-bytes", 64<<10, "largest request line and headers, in bytes")
	fs.Int64Var(&s.APIPreAuthBytes, "api-preauth-bytes", 8<<20, "bytes of API request bodies held, across all requests, before their signature is checked (bodies without a signed X-Amz-Content-Sha256; those over 16 KiB may use half; at least 2 MiB); past it: 503 ServiceUnavailableException")
	fs.Float64Var(&s.APITPS, "api-tps", 0, "API calls per second per access key and operation; 0: IVS's quotas (5, CreateParticipantToken 50, tag operations 10); negative: no limit; past it: 429 ThrottlingException")
	fs.IntVar(&s.APIBurst, "api-burst", 0, "API calls per access key and operation allowed at once after a quiet spell; 0: ten seconds of the rate")
	fs.StringVar(&s.Data, "data", "./data", "data directory: SQLite database, token key, upload spool, and the buckets when no S3 endpoint is set")
	fs.Float64Var(&s.CapacityCores, "capacity-cores", float64(runtime.NumCPU()), "cores this server commits to compositions and publishers: StartComposition is refused (ServiceQuotaExceededException) when the estimated load would pass it; 0: no limit (the load is still exported)")
	fs.StringVar(&s.Store, "store", "", "where the API's resources are kept: empty, SQLite in <data>/tessera.db; or a PostgreSQL URL postgres://user:password@host:5432/db?sslmode=… (better: TESSERA_STORE, which keeps the password off the command line), shared by every node of a cluster (each tessera serve on it is a node: stages placed by load, work taken over when a node dies)")
	fs.StringVar(&s.NodeID, "node-id", "node", "with a PostgreSQL --store: this node's name in the cluster; a random suffix is added at every start (a restarted node is a new node)")
	fs.StringVar(&s.NodeURL, "node-url", "", "with a PostgreSQL --store: base URL the other nodes reach this node's API at (forwarded calls), e.g. http://10.0.0.5:8080; default --public-url, else http://<listen> (publishers are sent to --public-url)")
	durationVar(fs, &s.NodeTTL, "node-ttl", 6*time.Second, "with a PostgreSQL --store: how long a node that stops renewing (every ttl/5) keeps its stages; the others take them over, and fail its compositions, within 1.2 ttl")
	fs.StringVar(&s.Config, "config", "", "optional JSON file of settings, keyed by flag name (e.g. {\"listen\": \":8080\", \"channel\": [\"ARN=rtmp://…\"]})")
	fs.StringVar(&s.PublicURL, "public-url", "", "base URL clients reach this server at (stages' endpoints.whip is <public-url>/whip); default http://<listen>, or https://<listen> with --tls-cert or --tls-self-signed")
	fs.StringVar(&s.Region, "region", "us-east-1", "region in ARNs")
	fs.StringVar(&s.AccountID, "account-id", "123456789012", "account id in ARNs")
	fs.StringVar(&s.AccessKeyID, "access-key-id", "", "API access key id (better: TESSERA_ACCESS_KEY_ID); default the development key, loopback only")
	fs.StringVar(&s.SecretAccessKey, "secret-access-key", "", "API secret (better: TESSERA_SECRET_ACCESS_KEY)")
	fs.Var(channelFlag{s.Channels}, "channel", "channel push target ARN=rtmp[s]://host/app/streamkey (repeatable)")
	fs.Var(&s.Webhooks, "webhook", "URL receiving the events (IVS Stage Update, IVS Composition State Change) as EventBridge-shaped JSON (repeatable)")
	fs.StringVar(&s.WebhookSecret, "webhook-secret", "", "secret signing the webhook requests (better: TESSERA_WEBHOOK_SECRET): X-Tessera-Signature: v1=<hex HMAC-SHA256 of X-Tessera-Timestamp + \".\" + body>; unset: unsigned")
	fs.StringVar(&s.S3Endpoint, "s3-endpoint", "", "S3-compatible endpoint for recordings (credentials: TESSERA_S3_ACCESS_KEY_ID, TESSERA_S3_SECRET_ACCESS_KEY); unset: buckets are folders under <data>/buckets")
	fs.StringVar(&s.S3Region, "s3-region", "us-east-1", "region to sign S3 requests for")
	fs.Var(&s.PublicIPs, "public-ip", "public address announced in ICE candidates (1:1 NAT; repeatable)")
	fs.IntVar(&s.UDPPort, "udp-port", 0, "the one UDP port for all WebRTC media; 0 picks a free one (set it for firewalls)")
	durationVar(fs, &s.IdleTimeout, "idle-timeout", time.Minute, "a composition stops this long after its last publisher left")
	durationVar(fs, &s.NoPublisherTimeout, "no-publisher-timeout", time.Minute, "a composition stops this long after start when nobody published")
	durationVar(fs, &s.MaxDuration, "max-duration", 24*time.Hour, "longest a composition runs")
	durationVar(fs, &s.Retention, "retention", 5*time.Minute, "how long ended compositions stay visible")
	durationVar(fs, &s.AVDelay, "av-delay", 0, "how far behind real time compositions render (the A/V sync budget), fixed; 0: each composition finds its own from its participants' measured lag, within --av-delay-min and --av-delay-max")
	durationVar(fs, &s.AVDelayMin, "av-delay-min", worker.DefaultMinDelay, "the smallest A/V delay a composition finds for itself")
	durationVar(fs, &s.AVDelayMax, "av-delay-max", worker.DefaultMaxDelay, "the largest A/V delay a composition finds for itself (a participant whose media takes longer has late pictures)")
	fs.IntVar(&s.MaxCompositions, "max-compositions", 20, "compositions running at once")
	fs.IntVar(&s.MaxCompositionsPerStage, "max-compositions-per-stage", 5, "compositions per stage")
	fs.IntVar(&s.MaxEncoderConfigs, "max-encoder-configurations", 20, "encoder configurations")
	fs.IntVar(&s.MaxStorageConfigs, "max-storage-configurations", 5, "storage configurations")
	fs.IntVar(&s.MaxPubs, "max-publishers", 12, "publishers per stage")
	fs.IntVar(&s.MaxViewers, "max-viewers", 200, "live viewers (WHEP, /view/…) of all compositions together; more are answered 503")
	fs.IntVar(&s.WHIPMaxSessions, "whip-max-sessions", 0, "WHIP publishing sessions held at once, over all stages; more are answered 503 with Retry-After: 10 (0: 256, lowered to (open-file limit − 256) / 2)")
	fs.IntVar(&s.WHIPMaxHalfOpen, "whip-max-half-open", 0, "WHIP sessions answered but not yet connected (ICE and DTLS pending) at once; more are answered 503 with Retry-After: 1 (0: 32, at most --whip-max-sessions)")
	durationVar(fs, &s.WHIPConnectTimeout, "whip-connect-timeout", 15*time.Second, "a WHIP session that has not connected (ICE and DTLS) this long after its answer is ended")
	fs.StringVar(&s.RTMPListen, "rtmp-listen", "127.0.0.1:1935", "TCP address of RTMP ingest (publishers with an ingest configuration's stream key: rtmp://host:port/app/<streamKey>); \"\" turns it off")
	fs.StringVar(&s.RTMPSListen, "rtmps-listen", "127.0.0.1:1936", "TCP address of RTMPS ingest (RTMP over TLS); \"\" turns it off")
	fs.StringVar(&s.RTMPPublicURL, "rtmp-public-url", "", "stages' endpoints.rtmp (what publishers connect to, ending in /app/); default rtmp://<rtmp-listen>/app/")
	fs.StringVar(&s.RTMPSPublicURL, "rtmps-public-url", "", "stages' endpoints.rtmps; default rtmps://<rtmps-listen>/app/")
	fs.StringVar(&s.RTMPSCert, "rtmps-cert", "", "RTMPS certificate chain (PEM file, with --rtmps-key); unset: a self-signed certificate kept in <data>/rtmps (publishers must trust its cert.pem)")
	fs.StringVar(&s.RTMPSKey, "rtmps-key", "", "RTMPS private key (PEM file)")
	durationVar(fs, &s.RTMPHandshakeTimeout, "rtmp-handshake-timeout", 10*time.Second, "longest an RTMP(S) connection may take from connecting to its first audio and video headers")
	fs.IntVar(&s.RTMPMaxPending, "rtmp-max-pending", 16, "RTMP(S) connections not yet publishing (stream key not yet accepted) at once; more are closed at once")
	durationVar(fs, &s.ReconnectWindow, "reconnect-window", 10*time.Second,
		"a participant that publishes again within this long of its session's end (a reconnect) keeps its place in the arrival order, so its tile stays where it was in a grid; 0 turns it off")
	durationVar(fs, &s.SessionEnd, "stage-session-end", control.DefaultSessionEnd,
		"a stage session ends this long after its last participant left (IVS: a few minutes); a join before then continues it")
	fs.StringVar(&s.Preset, "encoder-preset", "veryfast", "x264 speed preset of the composition encoders (ultrafast, superfast, veryfast, faster, fast, medium, …): faster presets cost less CPU, slower ones give more quality per bit")
	fs.StringVar(&s.CAFile, "ca-file", "", "extra CA certificate (PEM) trusted for rtmps:// channels")
	s.LogLevel = "info"
	fs.Var(levelFlag{&s.LogLevel}, "log-level", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return nil, fs, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// Environment: TESSERA_<FLAG_NAME>.
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v := env("TESSERA_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("TESSERA_%s: %w", strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_")), err))
			}
			set[f.Name] = true
		}
	})
	// Config file.
	if s.Config != "" {
		b, err := os.ReadFile(s.Config)
		if err != nil {
			return nil, fs, fmt.Errorf("config file: %w", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fs, fmt.Errorf("config file %s: %w", s.Config, err)
		}
		for k, v := range m {
			f := fs.Lookup(k)
			if f == nil {
				errs = append(errs, fmt.Errorf("config file %s: unknown setting %q", s.Config, k))
				continue
			}
			if set[k] {
				continue
			}
			vals := []any{v}
			if l, ok := v.([]any); ok {
				vals = l
			}
			for _, one := range vals {
				str := fmt.Sprint(one)
				if f, ok := one.(float64); ok { // 1048576, not 1.048576e+06
					str = strconv.FormatFloat(f, 'f', -1, 64)
				}
				if err := fs.Set(k, str); err != nil {
					errs = append(errs, fmt.Errorf("config file %s: %s: %w", s.Config, k, err))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fs, err
	}
	s.S3AccessKeyID, s.S3SecretAccessKey = env("TESSERA_S3_ACCESS_KEY_ID"), env("TESSERA_S3_SECRET_ACCESS_KEY")
	return s, fs, s.check()
}

// check validates the combination of settings.
func (s *settings) check() error {
	host, _, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", s.Listen, err)
	}
	if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
		return errors.New("set both TESSERA_ACCESS_KEY_ID and TESSERA_SECRET_ACCESS_KEY, or neither (development credentials)")
	}
	if s.AccessKeyID == "" {
		s.AccessKeyID, s.SecretAccessKey = DevAccessKeyID, DevSecretAccessKey
	}
	if s.AccessKeyID == DevAccessKeyID && !isLoopback(host) {
		return fmt.Errorf("refusing to listen on %s with the development credentials: set TESSERA_ACCESS_KEY_ID and TESSERA_SECRET_ACCESS_KEY", s.Listen)
	}
	if s.AVDelay < 0 || s.AVDelayMin <= 0 || s.AVDelayMax < s.AVDelayMin {
		return fmt.Errorf("--av-delay %v, --av-delay-min %v, --av-delay-max %v: want 0 or more, more than 0, and at least --av-delay-min", s.AVDelay, s.AVDelayMin, s.AVDelayMax)
	}
	if s.UDPPort < 0 || s.UDPPort > 65535 {
		return fmt.Errorf("--udp-port %d: must be 0–65535", s.UDPPort)
	}
	if s.CapacityCores < 0 {
		return fmt.Errorf("--capacity-cores %v: 0 (no limit) or more", s.CapacityCores)
	}
	if s.Store != "" && !store.IsPostgresURL(s.Store) {
		return errors.New("--store: want a postgres:// or postgresql:// URL (or nothing: SQLite in the data directory)")
	}
	if s.NodeTTL < time.Second {
		return fmt.Errorf("--node-ttl %v: at least 1s", s.NodeTTL)
	}
	if s.NodeURL != "" && !strings.HasPrefix(s.NodeURL, "http://") && !strings.HasPrefix(s.NodeURL, "https://") {
		return fmt.Errorf("--node-url %q: want an http:// or https:// URL", s.NodeURL)
	}
	switch {
	case s.MaxViewers < 1:
		return fmt.Errorf("--max-viewers %d: at least 1", s.MaxViewers)
	case s.WHIPMaxSessions < 0:
		return fmt.Errorf("--whip-max-sessions %d: must be 0 (default) or more", s.WHIPMaxSessions)
	case s.WHIPMaxHalfOpen < 0:
		return fmt.Errorf("--whip-max-half-open %d: must be 0 (default) or more", s.WHIPMaxHalfOpen)
	case s.WHIPConnectTimeout <= 0:
		return fmt.Errorf("--whip-connect-timeout %v: must be more than 0", s.WHIPConnectTimeout)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"http-read-header-timeout", s.HTTPReadHeaderTimeout}, {"http-read-timeout", s.HTTPReadTimeout},
		{"http-write-timeout", s.HTTPWriteTimeout}, {"http-idle-timeout", s.HTTPIdleTimeout}} {
		if d.v <= 0 {
			return fmt.Errorf("--%s %v: must be positive", d.name, d.v)
		}
	}
	if s.HTTPMaxHeaderBytes <= 0 || s.APIBurst < 0 {
		return fmt.Errorf("--http-max-header-bytes %d: must be positive; --api-burst %d: must not be negative", s.HTTPMaxHeaderBytes, s.APIBurst)
	}
	if s.APIPreAuthBytes < 2<<20 {
		return fmt.Errorf("--api-preauth-bytes %d: must be at least 2 MiB, twice the largest API body", s.APIPreAuthBytes)
	}
	if (s.RTMPSCert == "") != (s.RTMPSKey == "") {
		return errors.New("set both --rtmps-cert and --rtmps-key, or neither (a self-signed certificate)")
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return errors.New("set both --tls-cert and --tls-key, or neither (plain HTTP, or --tls-self-signed)")
	}
	if s.TLSSelfSigned && s.TLSCert != "" {
		return errors.New("--tls-self-signed and --tls-cert: set one or the other")
	}
	s.trustedProxies = nil
	for _, p := range s.TrustedProxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("--trusted-proxy %q: neither an IP address nor a CIDR", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		s.trustedProxies = append(s.trustedProxies, prefix.Masked())
	}
	if s.RTMPHandshakeTimeout <= 0 || s.RTMPMaxPending <= 0 {
		return fmt.Errorf("--rtmp-handshake-timeout %v and --rtmp-max-pending %d: must be positive", s.RTMPHandshakeTimeout, s.RTMPMaxPending)
	}
	if s.SessionEnd <= 0 {
		return fmt.Errorf("--stage-session-end %v: must be positive", s.SessionEnd)
	}
	if s.ReconnectWindow < 0 {
		return fmt.Errorf("--reconnect-window %v: must not be negative", s.ReconnectWindow)
	}
	if err := av.CheckPreset(s.Preset); err != nil {
		return fmt.Errorf("--encoder-preset: %w", err)
	}
	s.PublicURL = strings.TrimRight(s.PublicURL, "/") // empty: http(s)://<bound address>
	return nil
}

// ingestReconnectWindow is ReconnectWindow as ingest.Config takes it
// (where 0 is the default and a negative value turns it off).
func (s *settings) ingestReconnectWindow() time.Duration {
	if s.ReconnectWindow == 0 {
		return -1
	}
	return s.ReconnectWindow
}

// isLoopback reports whether a listen host is a loopback address (an
// empty host or 0.0.0.0 listens everywhere: not loopback).
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// rateLimit is the API's rate limit from --api-tps and --api-burst; nil
// (no limit) for a negative --api-tps.
func (s *settings) rateLimit() *control.RateLimit {
	if s.APITPS < 0 {
		return nil
	}
	return &control.RateLimit{TPS: s.APITPS, Burst: s.APIBurst}
}

// https reports whether --listen serves HTTPS.
func (s *settings) https() bool { return s.TLSCert != "" || s.TLSSelfSigned }
