package testsrv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// startTimeout bounds how long a server may take to accept connections.
	startTimeout = 10 * time.Second
	// stopTimeout bounds how long a server may take to exit after SIGTERM
	// before it is killed, and again after SIGKILL.
	stopTimeout = 5 * time.Second
)

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago. All are held open together so that they differ, then
// released for the server to take.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testsrv: picking a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// process is one run of a server binary.
type process struct {
	cmd  *exec.Cmd
	out  *SyncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// startProcess starts cmd and a goroutine that reaps it.
func startProcess(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, out: &SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	// Its own process group, so that a signal to the test's group (^C)
	// does not reach it before the cleanup does.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopTimeout, then SIGKILL and waits
// again. It reports an error only if the process outlives both.
func (p *process) stop() error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("testsrv: %s (pid %d) did not exit after SIGKILL", p.cmd.Path, p.cmd.Process.Pid)
	}
}

// waitListening waits until every addr accepts a TCP connection, the
// process exits, or startTimeout passes.
func waitListening(p *process, addrs ...string) error {
	deadline := time.Now().Add(startTimeout)
	for _, addr := range addrs {
		for {
			c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if p.exited() {
				return fmt.Errorf("testsrv: %s exited before listening on %s: %v", p.cmd.Path, addr, p.err)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("testsrv: %s not listening on %s after %v: %v", p.cmd.Path, addr, startTimeout, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// lookBinary returns an error naming the Debian package when path is not
// an executable file.
func lookBinary(path, pkg string) error {
	if _, err := exec.LookPath(path); err != nil {
		return fmt.Errorf("testsrv: %s not found (Debian package %s; `make deps` installs it): %w", path, pkg, err)
	}
	return nil
}

func fileExists(path, pkg string) error {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("testsrv: %s not found (Debian package %s; `make deps` installs it)", path, pkg)
		}
		return fmt.Errorf("testsrv: %w", err)
	}
	return nil
}

// running is the process of a server that can be stopped and restarted.
type running struct {
	mu   sync.Mutex
	proc *process // nil while stopped
}

func (r *running) set(p *process) {
	r.mu.Lock()
	r.proc = p
	r.mu.Unlock()
}

// Running reports whether the server is running (started and not stopped).
func (r *running) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc != nil && !r.proc.exited()
}

// halt stops the process (SIGTERM, then SIGKILL, each wait bounded) and
// returns it, or nil when it was not running.
func (r *running) halt(t testing.TB) *process {
	r.mu.Lock()
	p := r.proc
	r.proc = nil
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.stop(); err != nil {
		t.Error(err)
	}
	return p
}
