package ingest

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// batchConn is the media socket under the ICE mux: while a batch is open
// (Batch), datagrams are queued instead of sent, and when the last open
// batch ends they go out grouped by destination — each destination's run
// of equal-sized datagrams (the last may be shorter) in one sendmsg with
// UDP generic segmentation offload (UDP_SEGMENT), so that a live view's
// frame costs one pass through the kernel per viewer rather than one per
// packet; the datagrams that go alone are sent together with sendmmsg.
// Outside a batch a datagram is sent at once. A send that fails is
// counted and logged (at most every 10 s, with the count since); a kernel
// or device without UDP_SEGMENT gets one sendto per datagram from then on.
type batchConn struct {
	*net.UDPConn
	pc  *ipv4.PacketConn // for sendmmsg
	raw interface {
		Write(func(fd uintptr) bool) error
	}
	log  *slog.Logger
	fail prometheus.Counter

	open  atomic.Int32 // batches open
	noGSO atomic.Bool
	// sends and segmented count a batch's sends and the datagrams in them.
	sends, segmented atomic.Uint64

	mu      sync.Mutex
	pending []queued
	buf     []byte         // the datagrams' bytes, back to back
	done    []bool         // flush's: which pending datagrams are taken (reused)
	run     []queued       // flush's: one destination's datagrams (reused)
	seg     []byte         // one segmented send's datagrams, back to back
	singles []ipv4.Message // datagrams sent alone, waiting for one sendmmsg
	oob     []byte
	logged  time.Time // when a failed send was last logged
	failed  int       // failed sends since
}

// queued is one datagram waiting for its batch to end: buf[off:off+n].
type queued struct {
	to     *net.UDPAddr
	off, n int
}

// Most segments and bytes one UDP_SEGMENT send may carry.
const (
	gsoMaxSegments = 64
	gsoMaxBytes    = 65000
)

func newBatchConn(c *net.UDPConn, log *slog.Logger, fail prometheus.Counter) (*batchConn, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &batchConn{UDPConn: c, pc: ipv4.NewPacketConn(c), raw: raw, log: log, fail: fail, oob: make([]byte, unix.CmsgSpace(2))}, nil
}

// Batch opens a batch; the function it returns closes it, and sends what
// was queued when no other batch is open.
func (c *batchConn) Batch() (end func()) {
	c.open.Add(1)
	return func() {
		if c.open.Add(-1) == 0 {
			c.flush()
		}
	}
}

// WriteTo queues b for addr while a batch is open, else sends it.
func (c *batchConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || c.open.Load() == 0 {
		return c.UDPConn.WriteTo(b, addr)
	}
	c.mu.Lock()
	c.pending = append(c.pending, queued{to: ua, off: len(c.buf), n: len(b)})
	c.buf = append(c.buf, b...)
	c.mu.Unlock()
	if c.open.Load() == 0 { // the batch ended meanwhile
		c.flush()
	}
	return len(b), nil
}

// flush sends every queued datagram, by destination in the order they
// were first queued for, each destination's in order.
func (c *batchConn) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return
	}
	done := c.done[:0]
	for range c.pending {
		done = append(done, false)
	}
	run := c.run[:0]
	for i := range c.pending {
		if done[i] {
			continue
		}
		to := c.pending[i].to
		run = run[:0]
		for j := i; j < len(c.pending); j++ {
			if !done[j] && c.pending[j].to.Port == to.Port && c.pending[j].to.IP.Equal(to.IP) {
				done[j] = true
				run = append(run, c.pending[j])
			}
		}
		c.send(to, run)
	}
	c.sendSingles()
	c.pending, c.buf, c.done, c.run = c.pending[:0], c.buf[:0], done, run
}

// sendSingles sends the datagrams queued to go alone, with as few
// sendmmsg calls as the kernel takes. c.mu is held.
func (c *batchConn) sendSingles() {
	ms := c.singles
	for len(ms) > 0 {
		n, err := c.pc.WriteBatch(ms, 0)
		if err != nil {
			c.failedSend(ms[n].Addr, 1, err)
			n++ // that one is given up
		}
		ms = ms[n:]
	}
	clear(c.singles)
	c.singles = c.singles[:0]
}

// failedSend counts a send of k datagrams to to that failed, and logs it
// (at most every 10 s, with the count since). c.mu is held.
func (c *batchConn) failedSend(to net.Addr, k int, err error) {
	c.fail.Inc()
	c.failed++
	if time.Since(c.logged) >= 10*time.Second {
		c.log.Warn("media datagrams not sent", "to", to.String(), "datagrams", k, "err", err, "failed_sends", c.failed)
		c.logged, c.failed = time.Now(), 0
	}
}

// send sends one destination's datagrams: runs of equal size (a shorter
// one may end a run) as segmented sends, the others one by one. c.mu is
// held.
func (c *batchConn) send(to *net.UDPAddr, ds []queued) {
	for len(ds) > 0 {
		k := 1
		if !c.noGSO.Load() {
			size, total := ds[0].n, ds[0].n
			for k < len(ds) && k < gsoMaxSegments && ds[k].n <= size && total+ds[k].n <= gsoMaxBytes {
				total += ds[k].n
				k++
				if ds[k-1].n < size {
					break // a shorter one ends the run
				}
			}
		}
		c.segmented.Add(uint64(k))
		c.sends.Add(1)
		var err error
		if k == 1 {
			// Sent with the others alone, in one sendmmsg at the end (or
			// before this destination's next segmented send: the order
			// holds).
			c.singles = append(c.singles, ipv4.Message{Buffers: [][]byte{c.buf[ds[0].off : ds[0].off+ds[0].n]}, Addr: to})
		} else {
			c.sendSingles()
			c.seg = c.seg[:0]
			for _, d := range ds[:k] {
				c.seg = append(c.seg, c.buf[d.off:d.off+d.n]...)
			}
			err = c.sendSegments(to, c.seg, ds[0].n)
			if errors.Is(err, unix.EIO) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOPROTOOPT) {
				c.noGSO.Store(true)
				c.log.Warn("UDP segmentation offload refused: sending one datagram at a time", "err", err)
				continue // the same datagrams, one by one
			}
		}
		if err != nil {
			c.failedSend(to, k, err)
		}
		ds = ds[k:]
	}
}

// sendSegments sends b to to as datagrams of size bytes (the last may be
// shorter) in one sendmsg.
func (c *batchConn) sendSegments(to *net.UDPAddr, b []byte, size int) error {
	ip4 := to.IP.To4()
	if ip4 == nil {
		return unix.EINVAL
	}
	sa := &unix.SockaddrInet4{Port: to.Port}
	copy(sa.Addr[:], ip4)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&c.oob[0]))
	h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(c.oob[unix.CmsgLen(0):], uint16(size))
	var serr error
	err := c.raw.Write(func(fd uintptr) bool {
		_, serr = unix.SendmsgN(int(fd), b, c.oob, sa, 0)
		return serr != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	return serr
}
