package output

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/av"
)

// memConn is an in-memory connection: it records packets and fails on
// demand, standing in for a socket in these state-machine tests (the real
// RTMP path is tested against nginx in rtmp_test.go).
type memConn struct {
	mu      sync.Mutex
	got     []av.Packet
	failAt  int           // fail the write of packet number failAt (1-based; 0 never)
	delay   time.Duration // per write
	closed  bool
	written int
}

func (m *memConn) WritePacket(p av.Packet) error {
	time.Sleep(m.delay)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.written++
	if m.failAt > 0 && m.written >= m.failAt {
		return errors.New("broken pipe")
	}
	m.got = append(m.got, p)
	return nil
}

func (m *memConn) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (m *memConn) packets() []av.Packet {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]av.Packet(nil), m.got...)
}

// stateLog records state changes.
type stateLog struct {
	mu     sync.Mutex
	states []contract.State
	ch     chan contract.State
}

func newStateLog() *stateLog { return &stateLog{ch: make(chan contract.State, 64)} }

func (l *stateLog) on(s contract.State, _ error) {
	l.mu.Lock()
	l.states = append(l.states, s)
	l.mu.Unlock()
	l.ch <- s
}

// await waits (bounded) for state s.
func (l *stateLog) await(t *testing.T, s contract.State) {
	t.Helper()
	l.awaitWithin(t, s, 5*time.Second)
}

// awaitWithin waits up to d for state s.
func (l *stateLog) awaitWithin(t *testing.T, s contract.State, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case got := <-l.ch:
			if got == s {
				return
			}
		case <-deadline:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("no %s; states so far %v", s, l.states)
		}
	}
}

func (l *stateLog) all() []contract.State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]contract.State(nil), l.states...)
}

func videoPacket(i int, key bool) av.Packet {
	return av.Packet{Kind: av.Video, Data: []byte{byte(i)}, PTS: time.Duration(i) * 33 * time.Millisecond, Keyframe: key}
}

func stop(t *testing.T, c *Channel) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestChannelDeliversFromTheFirstKeyframe(t *testing.T) {
	conn := &memConn{}
	log := newStateLog()
	reg := prometheus.NewRegistry()
	m := NewChannelMetrics(reg)
	c := NewChannel(ChannelConfig{Name: "d1", Dial: func(context.Context) (PacketWriter, error) { return conn, nil }, OnState: log.on, Metrics: m})
	log.await(t, contract.StateActive)
	c.WritePacket(av.Packet{Kind: av.Audio, Data: []byte{0}})
	c.WritePacket(videoPacket(1, false))
	for i := 2; i < 10; i++ {
		c.WritePacket(videoPacket(i, i == 2))
	}
	stop(t, c)
	got := conn.packets()
	if len(got) != 8 || !got[0].Keyframe || got[0].Data[0] != 2 {
		t.Fatalf("delivered %d packets starting with %+v; want 8 from the keyframe", len(got), got[0])
	}
	if !conn.closed {
		t.Error("connection not closed at Stop")
	}
	if want := []contract.State{contract.StateActive, contract.StateStopping, contract.StateStopped}; !equalStates(log.all(), want) {
		t.Errorf("states %v, want %v", log.all(), want)
	}
	if c.Dropped() != 2 {
		t.Errorf("dropped %d, want the 2 packets before the keyframe", c.Dropped())
	}
	if v := value(m.state.WithLabelValues("d1", "STOPPED")); v != 1 {
		t.Errorf("state gauge STOPPED = %v", v)
	}
	if v := value(m.packets.WithLabelValues("d1")); v != 8 {
		t.Errorf("packets counter = %v", v)
	}
}

func equalStates(a, b []contract.State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A broken connection: RECONNECTING, failed attempts with growing waits,
// then ACTIVE again, resuming on a keyframe. The default backoff runs on
// synctest's clock: the waits are exactly 1 s, 2 s, 4 s.
func TestChannelReconnectsWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first := &memConn{failAt: 3}
		second := &memConn{}
		var mu sync.Mutex
		var attempts []time.Time
		dial := func(context.Context) (PacketWriter, error) {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, time.Now())
			switch len(attempts) {
			case 1:
				return first, nil
			case 2, 3, 4:
				return nil, errors.New("connection refused")
			}
			return second, nil
		}
		log := newStateLog()
		c := NewChannel(ChannelConfig{Name: "d2", Dial: dial, OnState: log.on})
		log.await(t, contract.StateActive)
		for i := range 5 {
			c.WritePacket(videoPacket(i, i == 0))
		}
		log.await(t, contract.StateReconnecting)
		log.awaitWithin(t, contract.StateActive, time.Minute)
		c.WritePacket(videoPacket(10, false)) // skipped: not a keyframe
		c.WritePacket(videoPacket(11, true))
		c.WritePacket(videoPacket(12, false))
		stop(t, c)

		want := []contract.State{contract.StateActive, contract.StateReconnecting, contract.StateActive, contract.StateStopping, contract.StateStopped}
		if !equalStates(log.all(), want) {
			t.Fatalf("states %v, want %v", log.all(), want)
		}
		if got := first.packets(); len(got) != 2 {
			t.Errorf("first connection got %d packets, want 2 before it broke", len(got))
		}
		if got := second.packets(); len(got) != 2 || got[0].Data[0] != 11 {
			t.Errorf("second connection got %v, want packets 11 and 12", got)
		}
		mu.Lock()
		defer mu.Unlock()
		// The first retry is immediate; the waits after the failed attempts
		// 2, 3, 4 double from MinBackoff.
		for k, want := range []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second} {
			if d := attempts[k+1].Sub(attempts[k]); d != want {
				t.Errorf("attempt %d came %v after attempt %d, want %v", k+2, d, k+1, want)
			}
		}
	})
}

// With the defaults (1 s doubling to 30 s), a channel that never connects
// fails at the first attempt 5 minutes or more after the start: the
// attempts come at 0, 1, 3, 7, 15, 31, 61, 91, … 271, 301 s.
func TestChannelFailsAfterGivingUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		log := newStateLog()
		var attempts int
		c := NewChannel(ChannelConfig{
			Name:     "d3",
			Dial:     func(context.Context) (PacketWriter, error) { attempts++; return nil, errors.New("no route") },
			OnState:  log.on,
			QueueLen: 4,
		})
		log.awaitWithin(t, contract.StateFailed, 10*time.Minute)
		if took := time.Since(start); took != 301*time.Second || attempts != 15 {
			t.Errorf("FAILED after %v and %d attempts, want 301s and 15", took, attempts)
		}
		for i := range 100 { // never blocks
			c.WritePacket(videoPacket(i, true))
		}
		stop(t, c)
		if c.State() != contract.StateFailed {
			t.Errorf("state after Stop = %s, want FAILED to stay", c.State())
		}
		if c.Dropped() < 96 {
			t.Errorf("dropped %d of 100 packets written after FAILED", c.Dropped())
		}
	})
}

// A socket slower than the stream never blocks the writer: the bounded
// queue overflows and the excess is dropped and counted. Stop with a
// deadline abandons the rest.
func TestChannelNeverBlocksTheWriter(t *testing.T) {
	conn := &memConn{delay: 5 * time.Millisecond}
	log := newStateLog()
	c := NewChannel(ChannelConfig{Name: "d4", Dial: func(context.Context) (PacketWriter, error) { return conn, nil }, OnState: log.on, QueueLen: 16})
	log.await(t, contract.StateActive)
	done := make(chan struct{})
	go func() {
		for i := range 2000 {
			c.WritePacket(videoPacket(i, i%30 == 0))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second): // 2000 writes at 5 ms each would take 10 s
		t.Fatal("Write blocked on a slow connection")
	}
	if c.Dropped() == 0 {
		t.Error("nothing dropped although the connection is far slower than the writer")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_ = c.Stop(ctx)
	if c.State() != contract.StateStopped {
		t.Errorf("state %s after Stop", c.State())
	}
}

// value reads a gauge's or counter's current value.
func value(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return d.Counter.GetValue()
}
