package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/control"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/output"
	"github.com/tessera-media/tessera/whep"
	"github.com/tessera-media/tessera/worker"
)

const (
	testKeyID  = "AKIACONSOLETEST00001"
	testSecret = "console-test-secret"
)

// testChannel is the channel the test server knows (pushing to a closed
// port).
const testChannel = "arn:aws:ivs:us-east-1:123456789012:channel/console"

// env is a tessera server in process: ingest (WHIP), the live views
// (WHEP), the worker (compositions into folder storage), control (the
// signed API at /) and the console, mounted as tessera serve mounts them.
type env struct {
	url     string
	storage *output.FolderStorage // the recordings' buckets
	api     *control.Server
	con     *Console
	mux     *http.ServeMux // more routes for a test
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	key, err := ingest.LoadOrCreateTokenKey(filepath.Join(dir, "token-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ing, err := ingest.New(ingest.Config{Key: key, Loopback: true, LoopbackOnly: true, Registerer: prometheus.NewRegistry(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "tessera.db"))
	if err != nil {
		t.Fatal(err)
	}
	storage, err := output.NewFolderStorage(filepath.Join(dir, "buckets"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := whep.NewTokens()
	if err != nil {
		t.Fatal(err)
	}
	views, err := whep.New(whep.Config{Tokens: tokens, Mux: ing.ICEMux(), Loopback: true, Logger: quietLogger(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Ingest: ing, Storage: storage, SpoolDir: filepath.Join(dir, "spool"), Preset: "ultrafast",
		Views: views, Logger: quietLogger(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	api, err := control.New(ctx, control.Config{Credentials: map[string]string{testKeyID: testSecret}, Store: st, Ingest: ing, TokenKey: key,
		WHIPURL: hs.URL + "/whip", ViewerTokens: tokens, Channels: map[string]string{testChannel: "rtmp://127.0.0.1:1/live/key"},
		Pipelines: w.Start, Logger: quietLogger(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	cfg.API, cfg.Ingest, cfg.Recordings, cfg.Logger = api, ing, storage, quietLogger()
	con := New(cfg)
	mux.Handle("/whip", ing.Handler())
	mux.Handle("/whip/", ing.Handler())
	mux.Handle("/view/", views.Handler())
	mux.Handle("/", api)
	for _, pattern := range Routes {
		mux.Handle(pattern, con)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := api.Close(ctx); err != nil {
			t.Error(err)
		}
		w.Close()
		views.Close() // before ingest: they share its UDP port
		_ = ing.Close(ctx)
		hs.Close()
		_ = st.Close()
	})
	return &env{url: hs.URL, api: api, con: con, mux: mux, storage: storage}
}

// browser is an HTTP client with a cookie jar, signed in or not.
type browser struct {
	t    *testing.T
	url  string
	c    *http.Client
	csrf string
}

func (e *env) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, url: e.url, c: &http.Client{Jar: jar}}
}

// do sends a request with a body (nil: none; []byte: as is; else as JSON) and, when set, the CSRF
// token; it returns the status, headers and body.
func (b *browser) do(method, path string, body any) (int, http.Header, []byte) {
	b.t.Helper()
	var rd io.Reader
	switch body := body.(type) {
	case nil:
	case []byte: // as is
		rd = bytes.NewReader(body)
	default:
		raw, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.url+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.csrf != "" {
		req.Header.Set(csrfHeader, b.csrf)
	}
	return roundTrip(b.t, b.c, req)
}

// roundTrip sends req with c and returns the status, headers and body.
func roundTrip(t *testing.T, c *http.Client, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// signIn signs in and keeps the CSRF token; it returns the status.
func (b *browser) signIn(key, secret string) int {
	b.t.Helper()
	code, _, body := b.do("POST", "/console/signin", map[string]string{"accessKeyId": key, "secretAccessKey": secret})
	if code == http.StatusOK {
		var info struct{ CSRFToken string }
		if err := json.Unmarshal(body, &info); err != nil || info.CSRFToken == "" {
			b.t.Fatalf("sign-in answered %s", body)
		}
		b.csrf = info.CSRFToken
	}
	return code
}

func (b *browser) mustSignIn() *browser {
	b.t.Helper()
	if code := b.signIn(testKeyID, testSecret); code != http.StatusOK {
		b.t.Fatalf("sign-in: status %d", code)
	}
	return b
}

// signed sends an API request signed with SigV4 as the SDKs sign it.
func (e *env) signed(t *testing.T, operation string, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", e.url+"/"+operation, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, hex.EncodeToString(sum[:]), "ivs", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, http.DefaultClient, req)
}
