package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/internal/selfsigned"
)

// The edge settings come from flags, TESSERA_* and the config file, with
// their defaults, and are checked.
func TestEdgeSettings(t *testing.T) {
	s, _, err := parseSettings(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.HTTPReadHeaderTimeout != 10*time.Second || s.HTTPReadTimeout != 20*time.Second || s.HTTPWriteTimeout != time.Minute ||
		s.HTTPIdleTimeout != 2*time.Minute || s.HTTPMaxHeaderBytes != 64<<10 || s.APIPreAuthBytes != 8<<20 {
		t.Errorf("defaults %+v", s)
	}
	if l := s.rateLimit(); l == nil || l.TPS != 0 || l.Burst != 0 {
		t.Errorf("default rate limit %+v, want IVS's quotas", l)
	}

	cfg := filepath.Join(t.TempDir(), "tessera.json")
	if err := os.WriteFile(cfg, []byte(`{"http-read-timeout": "5s", "api-burst": 4, "api-preauth-bytes": 4194304}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, err = parseSettings([]string{"--config", cfg, "--http-write-timeout", "90s"},
		envOf(map[string]string{"TESSERA_API_TPS": "20", "TESSERA_HTTP_MAX_HEADER_BYTES": "8192"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.HTTPReadTimeout != 5*time.Second || s.HTTPWriteTimeout != 90*time.Second || s.HTTPMaxHeaderBytes != 8192 ||
		s.APIPreAuthBytes != 4<<20 {
		t.Errorf("settings %+v", s)
	}
	if l := s.rateLimit(); l == nil || l.TPS != 20 || l.Burst != 4 {
		t.Errorf("rate limit %+v", l)
	}
	if s, _, err = parseSettings([]string{"--api-tps", "-1"}, envOf(nil)); err != nil || s.rateLimit() != nil {
		t.Errorf("--api-tps -1: %v, %+v", err, s.rateLimit())
	}

	for _, args := range [][]string{{"--http-read-timeout", "0s"}, {"--http-idle-timeout", "-1s"},
		{"--http-max-header-bytes", "0"}, {"--api-preauth-bytes", "1048576"}, {"--api-burst", "-1"}} {
		if _, _, err := parseSettings(args, envOf(nil)); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: %v, want an error naming %s", args, err, args[0])
		}
	}
}

// TestReadDeadlineUntilBody: the read timeout cuts off a client that stalls
// its body, but not a handler that takes longer than it after the body has
// arrived (whose context stays alive).
func TestReadDeadlineUntilBody(t *testing.T) {
	url, ln, handled := startDeadlineServer(t, nil)
	postBodies(t, http.DefaultClient, url, handled)

	// A body that stalls: the server gives up and closes the connection.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	if err := <-handled; err == nil {
		t.Error("a stalled body was read to its end")
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	rd := bufio.NewReader(conn)
	if _, err := http.ReadResponse(rd, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rd); err != nil {
		t.Errorf("the connection was not closed by the server: %v", err)
	}
}

// Over HTTPS with HTTP/2, the same: the read timeout ends a stream whose
// body stalls (the connection and its other streams go on), not a handler
// that takes longer than it after the body has arrived.
func TestReadDeadlineUntilBodyHTTP2(t *testing.T) {
	certFile, keyFile, err := selfsigned.Write(t.TempDir(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := httpsConfig(&settings{TLSCert: certFile, TLSKey: keyFile}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	url, _, handled := startDeadlineServer(t, cfg)
	client := httpClient(t, certPool(t, certFile), "", nil)
	postBodies(t, client, url, handled)

	stalled, stall := io.Pipe()
	defer stall.Close()
	go func() { _, _ = stall.Write([]byte("abc")) }()
	req, err := http.NewRequest("POST", url, stalled)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 100
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-handled; err == nil || resp.Proto != "HTTP/2.0" || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a stalled body over %s: handler %v, status %d; want it cut off", resp.Proto, err, resp.StatusCode)
	}
	postBodies(t, client, url, handled) // the same connection serves on
}

// startDeadlineServer serves, with short read timeouts (over TLS with
// tlsConfig), a handler that reads the body, then works for three read
// timeouts and answers the body's length; each request's outcome is sent
// to handled.
func startDeadlineServer(t *testing.T, tlsConfig *tls.Config) (url string, ln net.Listener, handled chan error) {
	const readTimeout = 300 * time.Millisecond
	s := &settings{HTTPReadHeaderTimeout: readTimeout, HTTPReadTimeout: readTimeout, HTTPWriteTimeout: time.Minute,
		HTTPIdleTimeout: time.Minute, HTTPMaxHeaderBytes: 4096}
	handled = make(chan error, 4)
	hs := newHTTPServer(s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			handled <- err
			http.Error(w, "incomplete body", http.StatusBadRequest)
			return
		}
		// Work for three read timeouts after the body arrived.
		select {
		case <-r.Context().Done():
			handled <- fmt.Errorf("context ended while handling: %w", r.Context().Err())
			return
		case <-time.After(3 * readTimeout):
		}
		handled <- nil
		fmt.Fprintf(w, "%d", len(body))
	}))
	hs.TLSConfig = tlsConfig
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go serveHTTP(hs, ln)
	t.Cleanup(func() { hs.Close() })
	scheme := "http://"
	if tlsConfig != nil {
		scheme = "https://"
	}
	return scheme + ln.Addr().String(), ln, handled
}

// postBodies posts an empty and a short body: each is handled to its end.
func postBodies(t *testing.T, client *http.Client, url string, handled chan error) {
	t.Helper()
	for _, body := range []string{"", "hello"} {
		resp, err := client.Post(url, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := <-handled; err != nil || string(got) != fmt.Sprint(len(body)) {
			t.Errorf("body %q over %s: handler %v, response %q", body, resp.Proto, err, got)
		}
	}
}
