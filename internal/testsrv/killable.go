package testsrv

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
)

// KillablePublisher is a built internal/publisher/testdata/killable: a Go
// publisher that runs as its own process, so that a test can kill it
// abruptly (SIGKILL, as a crashed browser or a pulled cable leaves a
// server: no DELETE, no DTLS close, no further packet).
type KillablePublisher string

// BuildKillablePublisher builds the killable publisher into the test's
// temporary directory.
func BuildKillablePublisher(t testing.TB) KillablePublisher {
	t.Helper()
	bin, err := GoBuild("github.com/tessera-media/tessera/internal/publisher/testdata/killable", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return KillablePublisher(bin)
}

// Start runs the publisher against the WHIP endpoint whip with token (a
// 320×180 moving picture at 30 fps with its frame stamp, no audio) and
// returns once it is connected and publishing. Kill it with
// cmd.Process.Kill; it is killed when the test ends in any case.
func (k KillablePublisher) Start(t testing.TB, whip, token string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(string(k))
	cmd.Env = append(os.Environ(), "WHIP="+whip, "TOKEN="+token)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if lines.Text() == "publishing" {
			go func() {
				for lines.Scan() {
				}
			}()
			return cmd
		}
	}
	t.Fatalf("testsrv: the killable publisher ended before publishing: %v", lines.Err())
	return nil
}
