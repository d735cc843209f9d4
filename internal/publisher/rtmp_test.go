package publisher

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartRTMP refuses a configuration it cannot publish, and a server that
// is not there, leaving nothing behind; errors show no whole stream key.
func TestRTMPErrors(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "rtmp://" + ln.Addr().String() + "/app/s3cr3tStreamKey"
	ln.Close()
	for _, cfg := range []RTMPConfig{
		{},
		{URL: "http://127.0.0.1/app/key"},
		{URL: "rtmp://127.0.0.1/"},
		{URL: "rtmp://127.0.0.1/app/key", Width: 321, Height: 180},
		{URL: "rtmp://127.0.0.1/app/key", FPS: 120},
		{URL: "rtmp://127.0.0.1/app/key", ToneHz: -1},
		{URL: "rtmps://127.0.0.1:1/app/key", CAFile: notPEM},
		{URL: closed, Timeout: 5 * time.Second},
	} {
		p, err := StartRTMP(context.Background(), cfg)
		if err == nil {
			p.Close()
			t.Errorf("StartRTMP(%+v) succeeded", cfg)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3tStreamKey") {
			t.Errorf("error shows the stream key: %v", err)
		}
	}
}
