package testsrv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ChromiumBinary is the browser Debian 12's chromium package installs.
// /usr/bin/chromium is a shell script that execs it after sourcing
// /etc/chromium.d, which loads extensions and turns remote extensions on;
// the tests run the binary itself, with only the flags of chromiumFlags.
const ChromiumBinary = "/usr/lib/chromium/chromium"

// chromiumOutputLines is how many of Chromium's last output lines Output
// returns and failures show.
const chromiumOutputLines = 40

// chromiumFlags are the flags every headless Chromium runs with, before
// --user-data-dir and the URL.
var chromiumFlags = []string{
	"--headless",
	"--no-sandbox", // the tests run as root, in containers
	"--disable-gpu",
	"--disable-dev-shm-usage",
	"--no-first-run",
	"--no-default-browser-check",
	"--mute-audio",
	// Media: the fake camera and microphone, granted without asking.
	"--use-fake-device-for-media-stream",
	"--use-fake-ui-for-media-stream",
	"--autoplay-policy=no-user-gesture-required",
	// WebRTC on 127.0.0.1, and the WHIP endpoint on another port than
	// the page: cross-origin requests without CORS from the server.
	"--allow-loopback-in-peer-connection",
	"--disable-web-security",
	// Loopback only: no mDNS names for host candidates (they would be
	// announced by multicast), no background requests, no DNS lookups.
	"--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,Translate,OptimizationHints,DialMediaRouteProvider",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-domain-reliability",
	"--disable-sync",
	"--no-pings",
	"--no-proxy-server",
	"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
	// Publishing pages keep running at full rate in any tab.
	"--disable-background-timer-throttling",
	"--disable-renderer-backgrounding",
	"--disable-backgrounding-occluded-windows",
	"--window-size=640,360",
	// Send every simulcast layer asked for: by default WebRTC drops
	// layers for small inputs (640×360 gets two of three).
	"--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/",
}

// Chromium is a headless Chromium browser showing one page.
type Chromium struct {
	t        testing.TB
	proc     *process
	unshared bool // proc is unshare, the browser its child
	once     sync.Once
	err      error
}

// StartChromium launches headless Chromium (ChromiumBinary) on url, with
// a fresh profile in t.TempDir(), the fake camera and microphone,
// loopback WebRTC and web security off (see chromiumFlags). Headless
// Chromium shows one page: start one per publisher; several may run at
// once. It returns once the process has started; the page reports its
// progress itself (WHIPPage.Publish starts Chromium on a publisher page
// and lets the waits notice if it exits). Chromium is stopped by
// t.Cleanup, which writes its last output lines to the test log when the
// test failed. A missing binary fails the test.
//
// Each Chromium is about ten processes and takes about 1.5 s of CPU to
// start; publishing 320×180 at 15 fps then costs a tenth to a fifth of a
// core.
func StartChromium(t testing.TB, url string) *Chromium {
	t.Helper()
	skipShort(t, "Chromium")
	if err := fileExists(ChromiumBinary, "chromium"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := append([]string{}, chromiumFlags...)
	args = append(args, "--user-data-dir="+filepath.Join(dir, "profile"), url)
	unshared := canUnshare()
	p, err := startChromium(dir, args, unshared)
	if err != nil {
		t.Fatalf("testsrv: starting %s: %v", ChromiumBinary, err)
	}
	c := &Chromium{t: t, proc: p, unshared: unshared}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("chromium output (last %d lines):\n%s", chromiumOutputLines, c.Output())
		}
	})
	return c
}

// unshareBinary is util-linux's unshare(1), which StartChromium runs
// Chromium under when it can.
const unshareBinary = "/usr/bin/unshare"

// unshareArgs put Chromium in PID and mount namespaces of its own, as
// their first process, with /proc mounted for them. Its helpers, some of
// which leave its process group (crashpad) or outlive their parent, are
// then all killed and reaped by the kernel when the browser exits,
// instead of staying zombies of a PID 1 that may not reap them (this
// machine's does not); and Chromium reads the right /proc/<pid>.
// unshare ignores SIGTERM, which reaches Chromium, and kills it if it
// dies itself.
var unshareArgs = []string{"--pid", "--fork", "--mount-proc", "--kill-child"}

var (
	unshareOnce sync.Once
	unshareOK   bool
)

// canUnshare reports whether unshareArgs work here: they take
// CAP_SYS_ADMIN (root). Without, Chromium runs in the test's namespaces.
func canUnshare() bool {
	unshareOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		unshareOK = exec.CommandContext(ctx, unshareBinary, append(unshareArgs, "true")...).Run() == nil
	})
	return unshareOK
}

// startChromium starts the browser with args, under unshare if asked, in
// a process group of its own; extra become its file descriptors 3, 4, ….
func startChromium(dir string, args []string, unshared bool, extra ...*os.File) (*process, error) {
	cmd := exec.Command(ChromiumBinary, args...)
	if unshared {
		cmd = exec.Command(unshareBinary, append(append(unshareArgs, ChromiumBinary), args...)...)
	}
	cmd.ExtraFiles = extra
	cmd.Dir = dir
	// No D-Bus (which it would try to launch) and no display.
	cmd.Env = append(os.Environ(), "HOME="+dir, "DBUS_SESSION_BUS_ADDRESS=disabled:", "DISPLAY=", "WAYLAND_DISPLAY=")
	return startProcess(cmd)
}

// Output returns the last lines Chromium wrote to stdout and stderr,
// without its complaints that there is no D-Bus to talk to.
func (c *Chromium) Output() string {
	var keep []string
	for l := range strings.Lines(c.proc.out.String()) {
		if !strings.Contains(l, ":ERROR:dbus/") {
			keep = append(keep, l)
		}
	}
	return lastLines(strings.Join(keep, ""), chromiumOutputLines)
}

// Exited reports whether the browser process has exited.
func (c *Chromium) Exited() bool { return c.proc.exited() }

// exitError describes how the browser exited, with its last output.
func (c *Chromium) exitError() error {
	status := "status 0"
	if c.proc.err != nil {
		status = c.proc.err.Error()
	}
	out := c.Output()
	if out == "" {
		out = "(none)"
	}
	return fmt.Errorf("chromium exited (%s); its last output:\n%s", status, out)
}

// Pid is the id of the process StartChromium started (unshare, or the
// browser), which is also its process group's.
func (c *Chromium) Pid() int { return c.proc.cmd.Process.Pid }

// Stop ends Chromium and every process it started: SIGTERM to the
// browser, then, once it exited or after 5 s, SIGKILL to its process
// group, and waits (5 s at most) until no process of the group is left. It may be
// called from any goroutine and more than once; a process that outlives
// all that is reported with t.Error.
func (c *Chromium) Stop() {
	c.once.Do(func() {
		c.err = stopGroup(c.proc, c.unshared)
		if c.err != nil {
			c.t.Errorf("%v\nchromium output:\n%s", c.err, c.Output())
		}
	})
}

// stopGroup stops p and every process in its process group. With
// unshared, p is unshare and the browser its child.
func stopGroup(p *process, unshared bool) error {
	pgid := p.cmd.Process.Pid
	// SIGTERM to the browser only: it shuts its helpers down itself,
	// and complains when they go first.
	browser := pgid
	if unshared {
		browser = childPid(pgid)
	}
	_ = syscall.Kill(browser, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
	}
	// The browser's helpers (zygote, renderers, GPU, utility processes)
	// normally exit with it; kill whatever is left, the browser too if
	// it ignored SIGTERM.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	deadline := time.Now().Add(stopTimeout)
	for {
		left := groupMembers(pgid)
		if len(left) == 0 && p.exited() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testsrv: chromium (process group %d) still running %v after SIGKILL", pgid, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// childPid returns the first child of pid, or -pid (its process group)
// when /proc does not tell.
func childPid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		if child, err := strconv.Atoi(f[0]); err == nil {
			return child
		}
	}
	return -pid
}

// groupMembers returns the processes of process group pgid that are
// alive (zombies, waiting to be reaped by their parent, do not count),
// read from /proc.
func groupMembers(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		// No /proc: ask the kernel whether the group still exists.
		if syscall.Kill(-pgid, 0) == nil {
			return []int{pgid}
		}
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
