package testsrv

import (
	"crypto/tls"
	"testing"

	"github.com/tessera-media/tessera/internal/selfsigned"
)

// SelfSignedCert returns a fresh self-signed certificate for 127.0.0.1
// and localhost, and the file clients trust it by (their CA file).
func SelfSignedCert(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	c, file, err := selfsigned.Load(t.TempDir(), "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	return c, file
}
