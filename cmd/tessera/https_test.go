package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tessera-media/tessera/internal/selfsigned"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// With --tls-cert and --tls-key, the API, WHIP and the rest are served over
// HTTPS (HTTP/2 where offered): the SDK trusting the certificate creates a
// stage whose WHIP endpoint is https://<listen>/whip; plain HTTP and
// clients that do not trust the certificate are refused; a connection
// that never sends its TLS handshake is closed after the read-header
// timeout.
func TestHTTPS(t *testing.T) {
	certFile, keyFile, err := selfsigned.Write(t.TempDir(), "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, t.TempDir(), "--tls-cert", certFile, "--tls-key", keyFile, "--http-read-header-timeout", "1s")
	hc := httpClient(t, certPool(t, certFile), "", nil)
	client := apiClient("https://"+addr, hc)
	ctx := context.Background()
	st, err := client.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("secure")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(st.Stage.Endpoints.Whip), "https://"+addr+"/whip"; got != want {
		t.Errorf("endpoints.whip %q, want %q", got, want)
	}
	resp, err := hc.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("/healthz over HTTPS: %d %s, TLS version %x", resp.StatusCode, resp.Proto, resp.TLS.Version)
	}

	if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP to the HTTPS listener: %v, %v; want 400", resp, err)
	} else {
		resp.Body.Close()
	}
	var unknown *tls.CertificateVerificationError
	if _, err := httpClient(t, x509.NewCertPool(), "", nil).Get("https://" + addr + "/healthz"); !errors.As(err, &unknown) {
		t.Errorf("a client not trusting the certificate: %v, want a verification error", err)
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("a connection without a handshake: read %d bytes, %v; want it closed by the server", n, err)
	}
}

// --tls-self-signed serves HTTPS with a certificate made in <data>/tls for
// the listen host, which clients trust by its cert.pem.
func TestHTTPSSelfSigned(t *testing.T) {
	data := t.TempDir()
	addr, _ := startServe(t, data, "--tls-self-signed")
	client := apiClient("https://"+addr, httpClient(t, certPool(t, filepath.Join(data, "tls", "cert.pem")), "", nil))
	st, err := client.CreateStage(context.Background(), &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(st.Stage.Endpoints.Whip), "https://"+addr+"/whip"; got != want {
		t.Errorf("endpoints.whip %q, want %q", got, want)
	}
}

// The certificate files are followed without a restart: a new pair moved
// into place is presented by the next handshake; a pair that does not load
// is logged and counted once and the previous certificate kept until the
// files change again.
func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, err := selfsigned.Write(dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var logs testsrv.SyncBuffer
	reg := prometheus.NewRegistry()
	cfg, err := httpsConfig(&settings{TLSCert: certFile, TLSKey: keyFile}, slog.New(slog.NewTextHandler(&logs, nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.NotFoundHandler(), TLSConfig: cfg}
	go func() { _ = serveHTTP(hs, ln) }()
	t.Cleanup(func() { hs.Close() })

	roots := x509.NewCertPool()
	presented := func() string {
		t.Helper()
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return string(conn.ConnectionState().PeerCertificates[0].Raw)
	}
	// replace moves a file with contents b over file, as renewals do.
	replace := func(file string, b []byte) {
		t.Helper()
		tmp := file + ".new"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	// renew replaces the pair with a new one and returns the new
	// certificate's DER.
	renew := func() string {
		t.Helper()
		newCert, newKey, err := selfsigned.Write(t.TempDir(), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cb := trustFile(t, roots, newCert)
		kb, err := os.ReadFile(newKey)
		if err != nil {
			t.Fatal(err)
		}
		replace(certFile, cb)
		replace(keyFile, kb)
		c, err := tls.X509KeyPair(cb, kb)
		if err != nil {
			t.Fatal(err)
		}
		return string(c.Certificate[0])
	}
	reloads := func(ok, failed string) {
		t.Helper()
		want := `# HELP tessera_tls_certificate_reloads_total HTTPS certificate files read again after they changed on disk, by result (ok: in use; error: refused, the previous pair kept).
# TYPE tessera_tls_certificate_reloads_total counter
tessera_tls_certificate_reloads_total{result="error"} ` + failed + `
tessera_tls_certificate_reloads_total{result="ok"} ` + ok + "\n"
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tessera_tls_certificate_reloads_total"); err != nil {
			t.Error(err)
		}
	}

	trustFile(t, roots, certFile)
	first := presented()
	if presented() != first {
		t.Fatal("unchanged files: another certificate presented")
	}
	second := renew()
	if got := presented(); got != second {
		t.Fatalf("after the files were replaced: the new certificate is not presented (the first: %v)", got == first)
	}
	reloads("1", "0")

	replace(certFile, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"))
	for range 3 {
		if presented() != second {
			t.Fatal("a broken replacement: the previous certificate is not presented")
		}
	}
	reloads("1", "1")
	if n := strings.Count(logs.String(), "do not load"); n != 1 {
		t.Errorf("a broken replacement logged %d times, want once:\n%s", n, logs.String())
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if presented() != second {
		t.Fatal("a missing key: the previous certificate is not presented")
	}
	reloads("1", "2")

	third := renew()
	if presented() != third {
		t.Fatal("after the broken pair was replaced: the new certificate is not presented")
	}
	reloads("2", "2")
	if !strings.Contains(logs.String(), "HTTPS certificate reloaded") {
		t.Errorf("no reload logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), fingerprint([]byte(third))) {
		t.Errorf("the reload's log line lacks the new fingerprint:\n%s", logs.String())
	}
}

// certPool is a pool of the certificates in PEM files.
func certPool(t *testing.T, files ...string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for _, f := range files {
		trustFile(t, pool, f)
	}
	return pool
}

// trustFile adds the certificates of a PEM file to pool and returns the
// file's contents.
func trustFile(t *testing.T, pool *x509.CertPool, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !pool.AppendCertsFromPEM(b) {
		t.Fatal("no certificate in", file)
	}
	return b
}

// httpClient is an HTTP client trusting roots, connecting from localIP
// ("" for any) and adding header to every request; its connections end
// with the test.
func httpClient(t *testing.T, roots *x509.CertPool, localIP string, header http.Header) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if localIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: withHeader{tr, header}, Timeout: 30 * time.Second}
}

// withHeader adds its header to each request (after the SDK has signed it:
// unsigned headers, as a proxy adds them).
type withHeader struct {
	http.RoundTripper
	header http.Header
}

func (w withHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(w.header) > 0 {
		r = r.Clone(r.Context())
		for k, v := range w.header {
			r.Header[k] = v
		}
	}
	return w.RoundTripper.RoundTrip(r)
}

// apiClient is the SDK's ivs-realtime client of the server at url, through
// hc (nil: the SDK's default), with the development credentials.
func apiClient(url string, hc ivsrealtime.HTTPClient) *ivsrealtime.Client {
	return ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(DevAccessKeyID, DevSecretAccessKey, "")})
}
