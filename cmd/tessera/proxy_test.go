package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/tessera-media/tessera/internal/selfsigned"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// Behind nginx terminating TLS (the README's configuration: Host passed
// through, X-Forwarded-Proto and X-Forwarded-Host set), the SDK signs for
// the proxy's address, the signature verifies, and the stage's WHIP
// endpoint is the proxy's https:// URL.
func TestBehindNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs nginx")
	}
	addr, _ := startServe(t, t.TempDir(), "--trusted-proxy", "127.0.0.1")
	dir := t.TempDir()
	certFile, keyFile, err := selfsigned.Write(dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	proxy := startNginxProxy(t, dir, certFile, keyFile, addr)

	client := apiClient("https://"+proxy, httpClient(t, certPool(t, certFile), "", nil))
	st, err := client.CreateStage(context.Background(), &ivsrealtime.CreateStageInput{Name: aws.String("proxied")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(st.Stage.Endpoints.Whip), "https://"+proxy+"/whip"; got != want {
		t.Errorf("endpoints.whip through nginx %q, want %q", got, want)
	}
}

// startNginxProxy runs nginx on a free port of 127.0.0.1, serving HTTPS
// with the certificate and proxying to upstream, until the test ends; it
// returns nginx's address.
func startNginxProxy(t *testing.T, dir, certFile, keyFile, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen %[2]s ssl;
		ssl_certificate %[3]s;
		ssl_certificate_key %[4]s;
		location / {
			proxy_pass http://%[5]s;
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header X-Forwarded-Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
		}
	}
}
`, dir, addr, certFile, keyFile, upstream)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out testsrv.SyncBuffer
	cmd := exec.Command(testsrv.NginxBinary, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx:\n%s%s", out.String(), b)
		}
	})
	testsrv.WaitFor(t, 10*time.Second, "nginx accepting connections", func() bool {
		select {
		case <-exited:
			t.Fatalf("nginx exited:\n%s", out.String())
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr
}
