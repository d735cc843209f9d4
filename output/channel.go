package output

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/av"
)

// PacketWriter is an open connection to a destination, such as an FLV
// muxer writing to rtmp:// or rtmps://. Its operations must give up on
// their own after a bounded time (the muxer's I/O timeout).
type PacketWriter interface {
	WritePacket(av.Packet) error
	Close() error
}

// Dialer opens a connection to a destination; it gives up when ctx ends.
type Dialer func(ctx context.Context) (PacketWriter, error)

// ChannelConfig configures a Channel. Zero durations take the defaults.
type ChannelConfig struct {
	// Name identifies the destination in logs and metrics (never a URL:
	// URLs of channels carry stream keys).
	Name string
	Dial Dialer
	// OnState receives every state change (may be nil).
	OnState StateFunc
	Logger  *slog.Logger
	Metrics *ChannelMetrics // nil: not counted
	// QueueLen is how many packets wait between the encoder and the socket
	// (default 512, about 6 s of 30 fps video with its audio).
	QueueLen    int
	DialTimeout time.Duration // one connection attempt; default 10 s
	MinBackoff  time.Duration // first wait between attempts; default 1 s
	MaxBackoff  time.Duration // longest wait; default 30 s
	// GiveUpAfter is how long the channel keeps trying without a working
	// connection before it fails; default 5 minutes.
	GiveUpAfter time.Duration
}

func (c *ChannelConfig) defaults() {
	c.QueueLen = or(c.QueueLen, 512)
	c.DialTimeout = or(c.DialTimeout, 10*time.Second)
	c.MinBackoff = or(c.MinBackoff, time.Second)
	c.MaxBackoff = or(c.MaxBackoff, 30*time.Second)
	c.GiveUpAfter = or(c.GiveUpAfter, 5*time.Minute)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("destination", c.Name)
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Channel delivers a live stream of packets to an RTMP(S) channel. Write
// never blocks the caller: packets wait in a bounded queue and are dropped
// (and counted) when it is full or while there is no connection. The
// channel's goroutine connects (STARTING → ACTIVE); when a write fails it
// reconnects with exponential backoff (RECONNECTING), resumes on the next
// video keyframe (ACTIVE), and gives up after GiveUpAfter without a
// working connection (FAILED). Stop ends the stream cleanly (STOPPING →
// STOPPED).
type Channel struct {
	cfg     ChannelConfig
	queue   chan av.Packet
	stop    chan struct{} // closed by Stop: finish gracefully
	abort   chan struct{} // closed when Stop's context ends: finish now
	done    chan struct{} // closed when the goroutine has returned
	once    sync.Once
	state   stateCell
	dropped atomic.Uint64
	lastLog atomic.Int64 // unix nanoseconds of the last drop log line
}

// NewChannel starts delivering; the caller must Stop it.
func NewChannel(cfg ChannelConfig) *Channel {
	cfg.defaults()
	c := &Channel{
		cfg:   cfg,
		queue: make(chan av.Packet, cfg.QueueLen),
		stop:  make(chan struct{}),
		abort: make(chan struct{}),
		done:  make(chan struct{}),
	}
	c.state.init(cfg.Logger, cfg.OnState)
	go c.run()
	return c
}

// State returns the current state.
func (c *Channel) State() contract.State { return c.state.get() }

// Dropped returns how many packets were not delivered: queue full, no
// connection, or skipped while waiting for a keyframe after (re)connecting.
func (c *Channel) Dropped() uint64 { return c.dropped.Load() }

// WritePacket queues a packet for delivery without blocking.
func (c *Channel) WritePacket(p av.Packet) {
	select {
	case c.queue <- p:
	default:
		c.drop("queue full", 1)
	}
}

// Stop delivers what is queued, closes the connection (the FLV trailer)
// and reports STOPPED. When ctx ends first, it abandons the queue and
// closes at once. It returns ctx's error if even that did not finish in
// time.
func (c *Channel) Stop(ctx context.Context) error {
	c.once.Do(func() { close(c.stop) })
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
	}
	close(c.abort)
	select {
	case <-c.done:
		return nil
	case <-time.After(c.cfg.DialTimeout):
		c.cfg.Logger.Error("channel did not stop in time")
		return ctx.Err()
	}
}

func (c *Channel) setState(s contract.State, err error) {
	c.cfg.Metrics.setState(c.cfg.Name, s)
	c.state.set(s, err)
}

// drop counts n undelivered packets, logging at most once a second.
func (c *Channel) drop(reason string, n int) {
	if n == 0 {
		return
	}
	total := c.dropped.Add(uint64(n))
	c.cfg.Metrics.dropped(c.cfg.Name, reason, n)
	now := time.Now().UnixNano()
	if last := c.lastLog.Load(); now-last >= int64(time.Second) && c.lastLog.CompareAndSwap(last, now) {
		c.cfg.Logger.Warn("packets dropped", "reason", reason, "dropped_total", total)
	}
}

// discard empties the queue, counting what it throws away.
func (c *Channel) discard(reason string) {
	n := 0
	for {
		select {
		case <-c.queue:
			n++
		default:
			c.drop(reason, n)
			return
		}
	}
}

func (c *Channel) run() {
	defer close(c.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Stop's deadline cancels a dial in progress
		select {
		case <-c.abort:
			cancel()
		case <-c.done:
		}
	}()
	c.cfg.Metrics.setState(c.cfg.Name, contract.StateStarting)

	var w PacketWriter
	failingSince := time.Now() // start of the current stretch without a connection
	backoff := c.cfg.MinBackoff
	needKey := true
	for {
		if w == nil {
			select {
			case <-c.stop:
				c.setState(contract.StateStopping, nil)
				c.discard("stopped without a connection")
				c.setState(contract.StateStopped, nil)
				return
			default:
			}
			dctx, dcancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
			conn, err := c.cfg.Dial(dctx)
			dcancel()
			if err != nil {
				if time.Since(failingSince) >= c.cfg.GiveUpAfter {
					c.setState(contract.StateFailed, err)
					c.discard("failed") // later writes drop as "queue full"
					return
				}
				c.cfg.Logger.Warn("connect failed", "err", err, "retry_in", backoff)
				c.cfg.Metrics.reconnect(c.cfg.Name)
				if !c.wait(backoff) {
					continue // stopping: the loop head finishes
				}
				backoff = min(2*backoff, c.cfg.MaxBackoff)
				continue
			}
			w, backoff, needKey = conn, c.cfg.MinBackoff, true
			c.setState(contract.StateActive, nil)
		}
		select {
		case p := <-c.queue:
			if err := c.write(w, p, &needKey); err != nil {
				_ = w.Close()
				w, failingSince = nil, time.Now()
				c.setState(contract.StateReconnecting, err)
			}
		case <-c.stop:
			c.setState(contract.StateStopping, nil)
			err := c.flush(w, &needKey)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				c.cfg.Logger.Warn("closing the stream", "err", err)
			}
			c.setState(contract.StateStopped, nil)
			return
		}
	}
}

// write sends one packet, skipping everything before the first video
// keyframe of a connection.
func (c *Channel) write(w PacketWriter, p av.Packet, needKey *bool) error {
	if *needKey {
		if p.Kind != av.Video || !p.Keyframe {
			c.drop("waiting for a keyframe", 1)
			return nil
		}
		*needKey = false
	}
	if err := w.WritePacket(p); err != nil {
		c.drop("write failed", 1)
		return err
	}
	c.cfg.Metrics.sent(c.cfg.Name, len(p.Data))
	return nil
}

// flush writes what is queued at Stop, unless Stop's deadline passes.
func (c *Channel) flush(w PacketWriter, needKey *bool) error {
	for {
		select {
		case <-c.abort:
			c.discard("stop deadline")
			return errors.New("stop deadline passed before the queue was delivered")
		case p := <-c.queue:
			if err := c.write(w, p, needKey); err != nil {
				c.discard("stopped after a write error")
				return err
			}
		default:
			return nil
		}
	}
}

// wait sleeps for d while discarding what arrives (a live stream does not
// replay stale packets); it returns false when Stop was called.
func (c *Channel) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return false
		case <-t.C:
			return true
		case <-c.queue:
			c.drop("no connection", 1)
		}
	}
}
