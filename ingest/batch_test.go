package ingest

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Datagrams queued in a batch for two destinations, interleaved, arrive at
// each as they were written, in order — runs of equal size sent as one
// segmented send, a shorter one ending a run, a longer one starting the
// next —, one alone for a third arrives too, and a datagram outside a
// batch goes at once.
func TestBatchConn(t *testing.T) {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b, c1, out := listen(), listen(), listen(), listen()
	fail := prometheus.NewCounter(prometheus.CounterOpts{Name: "f"})
	bc, err := newBatchConn(out, testLogger(t), fail)
	if err != nil {
		t.Fatal(err)
	}
	dgram := func(dst byte, i, n int) []byte {
		p := bytes.Repeat([]byte{byte(i)}, n)
		p[0] = dst
		return p
	}
	sizes := []int{1200, 1200, 1200, 800, 1200, 1200, 1300, 10}
	var want [2][][]byte
	end := bc.Batch()
	for i, n := range sizes {
		for d, to := range []*net.UDPConn{a, b} {
			p := dgram(byte(d), i, n-d) // b's differ in size from a's
			want[d] = append(want[d], p)
			if _, err := bc.WriteTo(p, to.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := bc.WriteTo([]byte("alone"), c1.LocalAddr()); err != nil { // with sendmmsg
		t.Fatal(err)
	}
	got := make([]byte, 2000)
	_ = a.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := a.ReadFrom(got); err == nil {
		t.Fatalf("a datagram (%d bytes) arrived before the batch ended", n)
	}
	end()
	for d, c := range []*net.UDPConn{a, b} {
		for i, w := range want[d] {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, _, err := c.ReadFrom(got)
			if err != nil {
				t.Fatalf("destination %d, datagram %d: %v", d, i, err)
			}
			if !bytes.Equal(got[:n], w) {
				t.Fatalf("destination %d, datagram %d: %d bytes [%d %d…], want %d bytes [%d %d…]", d, i, n, got[0], got[1], len(w), w[0], w[1])
			}
		}
	}
	_ = c1.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, _, err := c1.ReadFrom(got); err != nil || string(got[:n]) != "alone" {
		t.Fatalf("a datagram alone: %q %v", got[:n], err)
	}
	if _, err := bc.WriteTo([]byte("now"), a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = a.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, _, err := a.ReadFrom(got); err != nil || string(got[:n]) != "now" {
		t.Fatalf("outside a batch: %q %v", got[:n], err)
	}
	if v := testutil.ToFloat64(fail); v != 0 || bc.noGSO.Load() {
		t.Fatalf("%v sends failed; segmentation off: %v", v, bc.noGSO.Load())
	}
	// a: 1200×3+800 | 1200×2 | 1300+10; b the same shape; c1 one alone.
	if s, d := bc.sends.Load(), bc.segmented.Load(); s != 7 || d != 17 {
		t.Errorf("%d sends carried %d datagrams, want 7 and 17", s, d)
	}
}
