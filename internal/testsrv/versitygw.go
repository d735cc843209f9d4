package testsrv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// VersityGWVersion is the versitygw release StartVersityGW builds and runs.
const VersityGWVersion = "v1.8.0"

const (
	versityGWPackage = "github.com/versity/versitygw/cmd/versitygw"
	// buildTimeout bounds building versitygw from the module proxy.
	buildTimeout = 10 * time.Minute
	// requestTimeout bounds one request made by S3.Do.
	requestTimeout = 10 * time.Second
)

// S3 is a versitygw S3 server on 127.0.0.1 with the posix backend: each
// top-level directory of Dir is a bucket, each file below it an object. It
// checks SigV4 signatures against AccessKey and SecretKey in Region.
type S3 struct {
	// Credentials of the server's root account, and its region.
	AccessKey string
	SecretKey string
	Region    string

	t    testing.TB
	dir  string
	bin  string
	args []string
	port int
	logf string

	running
}

// StartVersityGW builds versitygw VersityGWVersion if it is not built yet
// (see the package documentation), starts it on a free port of 127.0.0.1
// serving the posix directory dir (t.TempDir() when dir is ""), with fresh
// random credentials, and returns once it accepts connections. The server
// is stopped by t.Cleanup.
func StartVersityGW(t testing.TB, dir string) *S3 {
	t.Helper()
	skipShort(t, "versitygw")
	bin, err := versityGWBinary(t)
	if err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &S3{
		AccessKey: "TESSERA" + strings.ToUpper(randomHex(t, 6)),
		SecretKey: randomHex(t, 20),
		Region:    "us-east-1",
		t:         t,
		dir:       dir,
		bin:       bin,
		logf:      filepath.Join(t.TempDir(), "versitygw.log"),
	}
	backend := []string{"posix"}
	if !xattrSupported(dir) {
		backend = append(backend, "--nometa")
	}
	backend = append(backend, dir)
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			if b, err := os.ReadFile(s.logf); err == nil && len(b) > 0 {
				t.Logf("versitygw log (%s):\n%s", s.logf, b)
			}
		}
	})
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		s.port = ports[0]
		s.args = append([]string{
			"--port", hostPort(s.port),
			"--access", s.AccessKey,
			"--secret", s.SecretKey,
			"--region", s.Region,
			"--quiet",
		}, backend...)
		out, err := s.start()
		if err == nil {
			return s
		}
		if attempt < 3 && strings.Contains(out, "address already in use") {
			continue
		}
		t.Fatalf("%v\nversitygw output:\n%s", err, out)
	}
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// start runs versitygw and waits for its port. On failure it returns the
// process's output too.
func (s *S3) start() (string, error) {
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = filepath.Dir(s.logf)
	// No variable of the caller's (ROOT_ACCESS_KEY, VGW_*, …) may change
	// its configuration: the flags say everything.
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); {
		case strings.HasPrefix(k, "VGW_"), strings.HasPrefix(k, "ROOT_"), k == "LOGFILE", k == "WEBHOOK":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	p, err := startProcess(cmd)
	if err != nil {
		return "", fmt.Errorf("testsrv: starting versitygw: %w", err)
	}
	if err := waitListening(p, s.Addr()); err != nil {
		_ = p.stop()
		return p.out.String(), err
	}
	s.set(p)
	return "", nil
}

// Addr is the server's address, 127.0.0.1:port.
func (s *S3) Addr() string { return hostPort(s.port) }

// Endpoint is the server's URL, http://127.0.0.1:port, for path-style
// requests.
func (s *S3) Endpoint() string { return "http://" + s.Addr() }

// Dir is the posix directory served: Dir()/bucket/key is the object's file.
func (s *S3) Dir() string { return s.dir }

// Do sends a request signed with the server's credentials to
// Endpoint()+path (path starts with "/" and may carry a query) with body,
// and returns the response with its body read; a nil error means the
// server answered, whatever its status.
func (s *S3) Do(method, path string, body []byte) (*http.Response, []byte, error) {
	return s.do(method, path, body, s.SecretKey)
}

func (s *S3) do(method, path string, body []byte, secret string) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.Endpoint()+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("testsrv: %w", err)
	}
	SignV4(req, body, s.AccessKey, secret, s.Region, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("testsrv: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("testsrv: %s %s: reading the answer: %w", method, path, err)
	}
	return resp, b, nil
}

// CreateBucket creates the bucket name through the S3 API (a signed
// PUT /name) and fails the test unless the server answers 200 OK.
func (s *S3) CreateBucket(name string) {
	s.t.Helper()
	resp, body, err := s.Do(http.MethodPut, "/"+name, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("testsrv: creating bucket %q: %s: %s", name, resp.Status, body)
	}
}

// Stop stops versitygw (SIGTERM, then SIGKILL, each wait bounded). The
// objects stay in Dir. Stopping a stopped server does nothing.
func (s *S3) Stop() {
	p := s.halt(s.t)
	if p == nil {
		return
	}
	if f, err := os.OpenFile(s.logf, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		_, _ = f.WriteString(p.out.String())
		_ = f.Close()
	}
}

// Restart stops the server if it runs and starts it again on the same
// port, directory and credentials, returning once it accepts connections.
func (s *S3) Restart() {
	s.t.Helper()
	s.Stop()
	if out, err := s.start(); err != nil {
		s.t.Fatalf("testsrv: restarting versitygw: %v\n%s", err, out)
	}
}

var versityGW struct {
	once sync.Once
	path string
	err  error
}

// versityGWBinary returns the path of the versitygw binary, building it
// on first use in this process unless an earlier process left it in the
// cache directory. Concurrent test processes may both build it; each
// builds into its own directory and renames the result into place.
func versityGWBinary(t testing.TB) (string, error) {
	versityGW.once.Do(func() {
		versityGW.path, versityGW.err = buildVersityGW(t)
	})
	return versityGW.path, versityGW.err
}

func buildVersityGW(t testing.TB) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "tessera-testbin")
	final := filepath.Join(dir, "versitygw-"+VersityGWVersion)
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return final, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testsrv: %w", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("testsrv: building versitygw needs the go command: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("testsrv: %w", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goBin, "install", versityGWPackage+"@"+VersityGWVersion)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off", "GOEXPERIMENT=", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("testsrv: go install %s@%s (bounded by %v): %v\n%s", versityGWPackage, VersityGWVersion, buildTimeout, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "versitygw"), final); err != nil {
		return "", fmt.Errorf("testsrv: %w", err)
	}
	t.Logf("testsrv: built versitygw %s into %s in %v", VersityGWVersion, final, time.Since(start).Round(time.Second))
	return final, nil
}
