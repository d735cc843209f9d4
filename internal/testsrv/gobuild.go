package testsrv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// GoBuild builds the main package pkg (an import path) into dir with the
// go command of the toolchain running the tests (go test puts its GOROOT/bin
// first in the tests' PATH), inheriting the environment (GOFLAGS included),
// and returns the binary's path. Like make build, it builds with
// GOEXPERIMENT=simd (the vector kernels, chosen at run time), so tests run
// the binary users get; a GOEXPERIMENT in the environment is used instead.
// The build cache makes every build after the first a link; a build is
// given 10 minutes.
func GoBuild(pkg, dir string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("testsrv: no go command: %w", err)
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, pkg)
	if os.Getenv("GOEXPERIMENT") == "" {
		cmd.Env = append(os.Environ(), "GOEXPERIMENT=simd")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testsrv: building %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}
