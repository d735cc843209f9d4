package selfsigned

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A client that trusts the certificate file connects over TLS to a
// listener serving it, by IP address and by name; Load keeps a valid
// certificate and replaces one that does not cover the hosts.
func TestTrustedByItsOwnFile(t *testing.T) {
	dir := t.TempDir()
	cert, certFile, err := Load(dir, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, fi.Mode())
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("ok"))
			c.Close()
		}
	}()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	for _, name := range []string{"127.0.0.1", "localhost"} {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			t.Fatalf("as %s: %v", name, err)
		}
		b, _ := io.ReadAll(c)
		c.Close()
		if string(b) != "ok" {
			t.Fatalf("as %s: read %q", name, b)
		}
	}
	if _, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "127.0.0.1"}); err == nil {
		t.Error("a client without the certificate trusted it")
	}
	again, _, err := Load(dir, "127.0.0.1", "localhost")
	if err != nil || !again.Leaf.Equal(cert.Leaf) && string(again.Certificate[0]) != string(cert.Certificate[0]) {
		t.Errorf("Load made a new certificate although the old one is valid (err %v)", err)
	}
	other, _, err := Load(dir, "tessera.example")
	if err != nil {
		t.Fatal(err)
	}
	if string(other.Certificate[0]) == string(cert.Certificate[0]) {
		t.Error("Load kept a certificate that does not cover the new host")
	}
	if _, _, err := Write(dir); err == nil {
		t.Error("Write without hosts accepted")
	}
}
