package testsrv

import (
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// modelPath is the ivs-realtime API model in this repository (the copy the
// control plane embeds), relative to the module root.
const modelPath = "control/wire/ivs-realtime-2020-07-14.service-2.json.gz"

// AWSCLI returns the installed aws command and an environment for it in
// which `aws ivs-realtime …` works: a fresh HOME with the repository's
// ivs-realtime model added (`aws configure add-model`, so that a CLI older
// than the service — Debian 12's awscli — knows it too), empty config and
// credentials files, no instance metadata, no pager, one attempt, and
// nothing AWS_* from the caller's environment. Callers add
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. It fails the test when no
// aws command is installed (make deps installs one).
func AWSCLI(t testing.TB) (aws string, env []string) {
	t.Helper()
	skipShort(t, "the AWS CLI")
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the AWS CLI (aws) is not installed; make deps installs Debian's awscli")
	}
	home := t.TempDir()
	empty := filepath.Join(home, "empty")
	model := filepath.Join(home, "ivs-realtime.json")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(model, readModel(t), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
	cmd := exec.Command(aws, "configure", "add-model", "--service-model", "file://"+model, "--service-name", "ivs-realtime")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws configure add-model: %v\n%s", err, out)
	}
	return aws, env
}

// readModel returns the uncompressed API model from the repository.
func readModel(t testing.TB) []byte {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("module root not found above the test's directory")
		}
		dir = parent
	}
	f, err := os.Open(filepath.Join(dir, modelPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
