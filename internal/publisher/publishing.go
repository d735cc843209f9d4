package publisher

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
)

// audioChunk is the audio the publisher generates at a time: 20 ms, one
// Opus packet.
const audioChunk = media.SampleRate / 50

// sentRing is how many recent frames SentAt remembers (over 30 s at 30 fps).
const sentRing = 1024

// publishing is what a publisher keeps whatever carries its media, WHIP or
// RTMP: why the publishing ended (Done, Err), when its recent frames were
// captured (SentAt), the counters of Stats, and the live loops that draw,
// encode and hand over the pictures and the sound in real time.
type publishing struct {
	log *slog.Logger

	done     chan struct{} // closed by finish
	doneOnce sync.Once
	errMu    sync.Mutex
	err      error

	sentMu sync.Mutex
	sent   [sentRing]sentFrame
	start  time.Time // of the timeline, set by begin

	frames, keyframes, forced, plis, audioPackets, bytes atomic.Uint64
}

type sentFrame struct {
	n  uint32
	at time.Time
	ok bool
}

func newPublishing(log *slog.Logger) publishing {
	return publishing{log: log, done: make(chan struct{})}
}

// finish records why the publishing ended, the first time it is called,
// and closes Done; it reports whether this call was the first.
func (p *publishing) finish(err error) (first bool) {
	p.doneOnce.Do(func() {
		p.errMu.Lock()
		p.err = err
		p.errMu.Unlock()
		close(p.done)
		first = true
	})
	return first
}

// fail ends the publishing because sending failed.
func (p *publishing) fail(err error) {
	if p.finish(err) {
		p.log.Error("publishing stopped", "err", err)
	}
}

// Done is closed when the publishing ends: Close was called, the
// connection failed or the server closed it, or sending failed. Close must
// still be called to release everything.
func (p *publishing) Done() <-chan struct{} { return p.done }

// Err returns nil while Done is open, then why it closed: ErrClosed after
// Close, an error wrapping ErrDisconnected when the connection ended, or
// the error that stopped the sending.
func (p *publishing) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// SentAt returns when frame n (the number in its stamp) was captured: the
// moment just before it was drawn and encoded. Only the last 1,024 frames
// are remembered. A publisher replaying a Clip stamps clip frame numbers
// (0 … Frames()-1, over again each loop): SentAt(n) is when clip frame n
// was last sent, which identifies the picture as long as it is read back
// within a loop.
func (p *publishing) SentAt(n uint32) (time.Time, bool) {
	p.sentMu.Lock()
	defer p.sentMu.Unlock()
	s := p.sent[n%sentRing]
	if !s.ok || s.n != n {
		return time.Time{}, false
	}
	return s.at, true
}

// begin starts the publishing's timeline now and returns its start.
func (p *publishing) begin() time.Time {
	p.sentMu.Lock()
	defer p.sentMu.Unlock()
	p.start = time.Now()
	return p.start
}

// StartedAt returns when the publisher's timeline starts: the capture
// time of its audio's first sample, and of time 0 of its video's PTS.
func (p *publishing) StartedAt() time.Time {
	p.sentMu.Lock()
	defer p.sentMu.Unlock()
	return p.start
}

func (p *publishing) markSent(n uint32, at time.Time) {
	p.sentMu.Lock()
	p.sent[n%sentRing] = sentFrame{n: n, at: at, ok: true}
	p.sentMu.Unlock()
}

// stats returns the counters every publisher keeps.
func (p *publishing) stats() Stats {
	return Stats{
		Frames:          p.frames.Load(),
		Keyframes:       p.keyframes.Load(),
		PLIs:            p.plis.Load(),
		KeyframesForced: p.forced.Load(),
		AudioPackets:    p.audioPackets.Load(),
		Bytes:           p.bytes.Load(),
	}
}

// videoLoop draws, encodes and hands to send a frame every 1/fps from
// start until Done, or until send refuses a packet (the connection is
// gone). Frame n is captured (SentAt) just before gen draws it, its PTS
// (its packet's, exactly) the time since start; a value on pli makes it a
// keyframe (a nil pli never does). An encoding error ends the publishing.
func (p *publishing) videoLoop(start time.Time, fps float64, gen *Generator, enc videoEncoder, pli <-chan struct{}, send func(av.Packet) bool) {
	ticker := time.NewTicker(time.Duration(float64(time.Second) / fps))
	defer ticker.Stop()
	f := media.NewVideoFrame(gen.Size())
	var n uint32
	ok := true
	emit := func(pkt av.Packet) {
		if !ok {
			return
		}
		if pkt.Keyframe {
			p.keyframes.Add(1)
		}
		// The encoder rounds PTS to its frame rate's ticks; the packet is
		// sent with its frame's capture time. One frame in, at most one
		// packet out (no reordering, no look-ahead), so it is f's.
		pkt.PTS, pkt.DTS = f.PTS, f.PTS
		ok = send(pkt)
	}
	for {
		select {
		case <-pli:
			enc.ForceKeyframe()
			p.forced.Add(1)
		default:
		}
		now := time.Now()
		p.markSent(n, now)
		gen.Draw(f, n)
		f.PTS = now.Sub(start)
		if err := enc.Encode(f, emit); err != nil {
			p.fail(fmt.Errorf("publisher: encoding video frame %d: %w", n, err))
			return
		}
		if !ok {
			return
		}
		p.frames.Add(1)
		n++
		select {
		case <-p.done:
			return
		case <-ticker.C:
		}
	}
}

// audioLoop generates 20 ms of gen at a time, PTS from the sample
// count since start, encodes it and hands each packet to send, until Done
// or until send refuses one. As from a microphone, a chunk is taken once
// its last sample's time has come (its PTS + 20 ms), never before; after a
// late tick it catches up, so that the audio keeps pace with the clock. An
// encoding error ends the publishing.
func (p *publishing) audioLoop(start time.Time, gen tone, enc audioEncoder, send func(av.Packet) bool) {
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	a := media.NewAudioFrame(2, audioChunk)
	ok := true
	emit := func(pkt av.Packet) {
		if !ok {
			return
		}
		p.audioPackets.Add(1)
		ok = send(pkt)
	}
	for {
		due := int64(time.Since(start) * media.SampleRate / time.Second)
		for gen.next+audioChunk <= due {
			gen.fill(a)
			if err := enc.Encode(a, emit); err != nil {
				p.fail(fmt.Errorf("publisher: encoding audio: %w", err))
				return
			}
			if !ok {
				return
			}
		}
		select {
		case <-p.done:
			return
		case <-ticker.C:
		}
	}
}
