package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// Development credentials tessera serve accepts on a loopback address.
const (
	devAccessKeyID     = "AKIATESSERADEV000001"
	devSecretAccessKey = "tessera-development-secret"
)

// tesseraBin is the binary TestMain builds from ./cmd/tessera.
var tesseraBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tessera-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if tesseraBin, err = testsrv.GoBuild("github.com/tessera-media/tessera/cmd/tessera", dir); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// server is a tessera serve process.
type server struct {
	URL    string // http://127.0.0.1:port
	API    *ivsrealtime.Client
	cmd    *exec.Cmd
	log    *testsrv.SyncBuffer // the server's log, for the test log
	exited chan struct{}
	err    error // the process's exit error, after exited is closed
}

var listenRE = regexp.MustCompile(`msg="tessera serving" listen=(\S+)`)

// startServer runs tessera serve on 127.0.0.1 with the data directory
// data and the extra flags args and environment env, and returns once it
// serves. It is stopped (SIGTERM) by t.Cleanup unless the test stopped it.
func startServer(t *testing.T, data string, env []string, args ...string) *server {
	t.Helper()
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--rtmp-listen", "127.0.0.1:0", "--rtmps-listen", "127.0.0.1:0", "--data", data}, args...)
	cmd := exec.Command(tesseraBin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, log: &testsrv.SyncBuffer{}, exited: make(chan struct{})}
	addr := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.log, line)
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		<-scanned
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("tessera serve log:\n%s", s.log)
		}
	})
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case <-s.exited:
		t.Fatalf("tessera serve exited: %v\n%s", s.err, s.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("tessera serve did not start in 30 s\n%s", s.log)
	}
	s.API = ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider(devAccessKeyID, devSecretAccessKey, "")})
	return s
}

// stop sends SIGTERM and waits up to a minute for a clean exit (running
// compositions stop and recordings are finalized first), then kills. It
// returns the exit error; stopping again returns the same.
func (s *server) stop(t *testing.T) error {
	select {
	case <-s.exited:
		return s.err
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.err
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.exited
		t.Errorf("tessera serve did not stop within a minute of SIGTERM; killed")
		return errors.New("killed")
	}
}

// metrics returns the server's /metrics text.
func (s *server) metrics(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}
