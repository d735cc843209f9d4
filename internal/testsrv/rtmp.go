package testsrv

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tessera-media/tessera/internal/selfsigned"
)

// The nginx binary and the dynamic modules Debian 12 installs it with
// (packages nginx, libnginx-mod-rtmp, libnginx-mod-stream).
const (
	NginxBinary       = "/usr/sbin/nginx"
	NginxRTMPModule   = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
	NginxStreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"
)

// RTMPOptions configures StartRTMP. The zero value serves one application,
// "live", and records each stream key to <key>.flv.
type RTMPOptions struct {
	// Apps are the RTMP application names the server accepts; empty means
	// {"live"}. Each is recorded to its own directory under RecordDir.
	Apps []string
	// RecordUnique adds a timestamp to each recording's name (nginx-rtmp's
	// record_unique on), so publishing a key again, after a reconnect or a
	// Restart, adds a file instead of overwriting <key>.flv.
	RecordUnique bool
}

// RTMP is an nginx-rtmp server on 127.0.0.1 that records every stream
// pushed to it as FLV, with an RTMPS (TLS) listener in front of the same
// applications.
type RTMP struct {
	t        testing.TB
	dir      string
	conf     string
	errLog   string
	recDir   string
	certFile string
	port     int
	tlsPort  int

	running
}

// StartRTMP starts nginx with the RTMP module on two free ports of
// 127.0.0.1 (RTMP, and RTMPS through the stream module's TLS proxy) and
// returns once both accept connections. Pushed streams are recorded to
// RecordDir()/<app>/<key>.flv. The server is stopped by t.Cleanup.
func StartRTMP(t testing.TB, opts RTMPOptions) *RTMP {
	t.Helper()
	skipShort(t, "nginx with the RTMP and stream modules")
	for _, err := range []error{
		lookBinary(NginxBinary, "nginx"),
		fileExists(NginxRTMPModule, "libnginx-mod-rtmp"),
		fileExists(NginxStreamModule, "libnginx-mod-stream"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	apps := opts.Apps
	if len(apps) == 0 {
		apps = []string{"live"}
	}
	dir := t.TempDir()
	s := &RTMP{
		t:      t,
		dir:    dir,
		conf:   filepath.Join(dir, "nginx.conf"),
		errLog: filepath.Join(dir, "error.log"),
		recDir: filepath.Join(dir, "recordings"),
	}
	for _, app := range apps {
		if app == "" || strings.ContainsAny(app, "/ \t\n;{}\"'") {
			t.Fatalf("testsrv: bad RTMP application name %q", app)
		}
		if err := os.MkdirAll(filepath.Join(s.recDir, app), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	certFile, keyFile, err := selfsigned.Write(dir, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	s.certFile = certFile
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			if b, err := os.ReadFile(s.errLog); err == nil && len(b) > 0 {
				t.Logf("nginx error log (%s):\n%s", s.errLog, b)
			}
		}
	})

	// A port picked free may be taken before nginx binds it; pick again.
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			t.Fatal(err)
		}
		s.port, s.tlsPort = ports[0], ports[1]
		conf := nginxConfig(dir, s.errLog, s.recDir, certFile, keyFile, s.port, s.tlsPort, apps, opts.RecordUnique)
		if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		err = s.start()
		if err == nil {
			return s
		}
		if attempt < 3 && strings.Contains(s.readErrLog(), "Address already in use") {
			continue
		}
		t.Fatalf("%v\nnginx output:\n%s", err, s.readErrLog())
	}
}

func nginxConfig(dir, errLog, recDir, certFile, keyFile string, port, tlsPort int, apps []string, unique bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "load_module %s;\nload_module %s;\n\n", NginxRTMPModule, NginxStreamModule)
	b.WriteString("daemon off;\nmaster_process off;\nworker_processes 1;\n")
	if os.Geteuid() == 0 {
		// nginx-rtmp records from the worker process, which a master
		// running as root would switch to nobody; this configuration runs
		// without a master, but keeps recording if one is turned on.
		b.WriteString("user root;\n")
	}
	fmt.Fprintf(&b, "pid %s;\nerror_log %s info;\n\n", filepath.Join(dir, "nginx.pid"), errLog)
	b.WriteString("events {\n\tworker_connections 256;\n}\n\n")
	b.WriteString("rtmp {\n\tserver {\n")
	fmt.Fprintf(&b, "\t\tlisten %s;\n", hostPort(port))
	fmt.Fprintf(&b, "\t\taccess_log %s;\n", filepath.Join(dir, "access.log"))
	b.WriteString("\t\tchunk_size 4096;\n")
	onOff := map[bool]string{true: "on", false: "off"}
	for _, app := range apps {
		fmt.Fprintf(&b, "\t\tapplication %s {\n", app)
		b.WriteString("\t\t\tlive on;\n\t\t\trecord all;\n")
		fmt.Fprintf(&b, "\t\t\trecord_path %s;\n", filepath.Join(recDir, app))
		fmt.Fprintf(&b, "\t\t\trecord_unique %s;\n", onOff[unique])
		b.WriteString("\t\t\trecord_suffix .flv;\n\t\t}\n")
	}
	b.WriteString("\t}\n}\n\n")
	b.WriteString("stream {\n\tserver {\n")
	fmt.Fprintf(&b, "\t\tlisten %s ssl;\n", hostPort(tlsPort))
	fmt.Fprintf(&b, "\t\tssl_certificate %s;\n\t\tssl_certificate_key %s;\n", certFile, keyFile)
	fmt.Fprintf(&b, "\t\tproxy_pass %s;\n", hostPort(port))
	b.WriteString("\t}\n}\n")
	return b.String()
}

// start runs nginx on the configuration written and waits for both ports.
func (s *RTMP) start() error {
	cmd := exec.Command(NginxBinary, "-p", s.dir, "-c", s.conf, "-e", s.errLog)
	cmd.Dir = s.dir
	p, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("testsrv: starting nginx: %w", err)
	}
	if err := waitListening(p, s.Addr(), s.TLSAddr()); err != nil {
		_ = p.stop()
		return fmt.Errorf("%w\n%s", err, p.out.String())
	}
	s.set(p)
	return nil
}

func (s *RTMP) readErrLog() string {
	b, _ := os.ReadFile(s.errLog)
	return string(b)
}

// Addr is the RTMP listener's address, 127.0.0.1:port.
func (s *RTMP) Addr() string { return hostPort(s.port) }

// TLSAddr is the RTMPS listener's address, 127.0.0.1:port.
func (s *RTMP) TLSAddr() string { return hostPort(s.tlsPort) }

// URL is the RTMP URL to push or play app/key: rtmp://127.0.0.1:port/app/key.
func (s *RTMP) URL(app, key string) string {
	return fmt.Sprintf("rtmp://%s/%s/%s", s.Addr(), app, key)
}

// TLSURL is the RTMPS URL of app/key: rtmps://127.0.0.1:tlsport/app/key.
// The server's certificate is self-signed (CertFile); see the package
// documentation for how FFmpeg clients accept it.
func (s *RTMP) TLSURL(app, key string) string {
	return fmt.Sprintf("rtmps://%s/%s/%s", s.TLSAddr(), app, key)
}

// CertFile is the PEM file of the RTMPS listener's self-signed
// certificate, usable as a CA file (FFmpeg's ca_file option).
func (s *RTMP) CertFile() string { return s.certFile }

// RecordDir is the directory recordings are written to, one
// subdirectory per application.
func (s *RTMP) RecordDir() string { return s.recDir }

// Recordings returns the paths of the .flv files recorded so far, sorted.
// A stream still being published has its file listed already; nginx-rtmp
// closes it when the publisher disconnects.
func (s *RTMP) Recordings() []string {
	var out []string
	_ = filepath.WalkDir(s.recDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".flv") {
			out = append(out, path)
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// Stop stops nginx (SIGTERM, then SIGKILL, each wait bounded), closing
// every connection: publishers and players see the server go away.
// Recordings stay. Stopping a stopped server does nothing.
func (s *RTMP) Stop() { s.halt(s.t) }

// Restart stops the server if it runs and starts it again on the same
// ports with the same configuration, returning once both ports accept
// connections again.
func (s *RTMP) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("testsrv: restarting nginx: %v\nnginx error log:\n%s", err, s.readErrLog())
	}
}
