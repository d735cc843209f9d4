package ingest

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
)

// audioJitterWait is how long a missing Opus packet is waited for: audio
// is not retransmitted, so only reordering is worth waiting for.
const audioJitterWait = 40 * time.Millisecond

// audioIn decodes a participant's Opus track into 48 kHz stereo frames
// for the participant's audio subscribers.
type audioIn struct {
	s     *session
	track *webrtc.TrackRemote
	asm   *assembler
	clock *trackClock
	dec   *av.AudioDecoder

	mu sync.Mutex // asm and clock: the RTP and RTCP goroutines share them
}

func newAudioIn(s *session, t *webrtc.TrackRemote) (*audioIn, error) {
	dec, err := av.NewAudioDecoder("opus", 2)
	if err != nil {
		return nil, err
	}
	return &audioIn{s: s, track: t, dec: dec,
		asm:   newAssembler(pionDepacketizer{&codecs.OpusPacket{}}, true, audioJitterWait),
		clock: newTrackClock(t.Codec().ClockRate, &s.clock)}, nil
}

func (a *audioIn) run(r *webrtc.RTPReceiver) {
	defer a.dec.Close()
	a.s.goRun(func() { a.s.readRTCP(r, "", a.senderReport) })
	m := a.s.srv.metrics
	get := func(ch, n int) *media.AudioFrame { return media.NewAudioFrame(ch, n) }
	decoded := m.frames.WithLabelValues("audio")
	a.s.readRTP(a.track, "audio", &a.s.p.stats.audioPackets, &a.mu, a.asm, func(f assembledFrame, _ time.Duration) {
		out, err := a.dec.Decode(f.data, a.clock.capture(f.ts, f.arrived), get)
		if err != nil {
			a.s.log.Warn("audio decode error", "err", err, "bytes", len(f.data), "gap", f.gap)
			a.s.p.stats.decodeErrors.Add(1)
			m.decodeErr.Inc()
			return
		}
		if out != nil {
			decoded.Inc()
			a.s.p.publishAudio(out)
		}
	})
}

func (a *audioIn) senderReport(sr *rtcp.SenderReport) {
	a.mu.Lock()
	a.clock.senderReport(sr)
	a.mu.Unlock()
}
