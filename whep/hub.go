package whep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/internal/av"
)

// videoFmtp is the H.264 the views send: packetization mode 1, Main
// profile (what the compositions encode), level-asymmetry allowed.
const videoFmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"

// keyframeEvery rate-limits the keyframes viewers cause.
const keyframeEvery = 500 * time.Millisecond

// hubQueue bounds the packets between the encoder and the sender: about
// two seconds of 30 fps video and 20 ms audio.
const hubQueue = 160

// Hub is one composition's live view: what its encoder makes, sent to
// every viewer.
type Hub struct {
	s        *Server
	id       string // composition id
	params   []byte // H.264 SPS and PPS (Annex B), sent before every keyframe
	frame    time.Duration
	keyframe func() // asks the encoder for an IDR

	video, audio *track
	queue        chan av.Packet
	done         chan struct{}
	stopped      chan struct{}
	once         sync.Once

	watched atomic.Int32 // viewers

	kmu     sync.Mutex
	asked   time.Time   // the last keyframe request
	pending *time.Timer // a request delayed by the rate limit

	mu  sync.Mutex
	all map[*viewer]struct{}
}

// Open starts the live view of composition (its ARN): video is its
// encoder's H.264 stream (Main profile, parameter sets in Extradata), and
// keyframe asks that encoder for an IDR. Close it when the composition
// stops.
func (s *Server) Open(composition string, video av.StreamInfo, keyframe func()) (*Hub, error) {
	id := path.Base(composition)
	frame := time.Second / 30
	if video.FrameRateNum > 0 && video.FrameRateDen > 0 {
		frame = time.Duration(float64(time.Second) * float64(video.FrameRateDen) / float64(video.FrameRateNum))
	}
	v, err := newTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: videoFmtp},
		&codecs.H264Payloader{}, "video", "tessera-"+id, true)
	if err != nil {
		return nil, err
	}
	a, err := newTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		&codecs.OpusPayloader{}, "audio", "tessera-"+id, false)
	if err != nil {
		return nil, err
	}
	h := &Hub{s: s, id: id, params: video.Extradata, frame: frame, keyframe: keyframe, video: v, audio: a,
		queue: make(chan av.Packet, hubQueue), done: make(chan struct{}), stopped: make(chan struct{}), all: map[*viewer]struct{}{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("whep: the server is closed")
	}
	if s.hubs[id] != nil {
		return nil, fmt.Errorf("whep: composition %s already has a live view", id)
	}
	s.hubs[id] = h
	go h.send()
	return h, nil
}

// Watched reports whether anyone watches: the worker encodes the sound
// to Opus only then.
func (h *Hub) Watched() bool { return h.watched.Load() > 0 }

// WritePacket takes the encoder's packets (an output.PacketSink): H.264
// is sent, AAC ignored. It never blocks.
func (h *Hub) WritePacket(p av.Packet) {
	if p.Kind == av.Video {
		h.enqueue(p)
	}
}

// WriteAudio takes the mix encoded to Opus. It never blocks.
func (h *Hub) WriteAudio(p av.Packet) { h.enqueue(p) }

func (h *Hub) enqueue(p av.Packet) {
	if !h.Watched() {
		return
	}
	select {
	case h.queue <- p:
	default:
		h.s.metrics.dropped.Inc()
		h.askKeyframe() // the viewers' pictures are broken until the next one
	}
}

// askKeyframe asks the encoder for an IDR, at most once per keyframeEvery:
// a request within the limit is delayed to its end, never dropped (the
// keyframe before may have come before the asking viewer could get it).
func (h *Hub) askKeyframe() {
	h.kmu.Lock()
	defer h.kmu.Unlock()
	if h.pending != nil {
		return // one is on its way
	}
	if wait := keyframeEvery - time.Since(h.asked); wait > 0 {
		h.pending = time.AfterFunc(wait, func() {
			h.kmu.Lock()
			h.pending = nil
			h.kmu.Unlock()
			h.askKeyframe()
		})
		return
	}
	h.asked = time.Now()
	h.s.metrics.keyframes.Inc()
	h.keyframe()
}

// send writes queued packets to the tracks, packetized once for all
// viewers, until Close.
func (h *Hub) send() {
	defer close(h.stopped)
	var au []byte
	for {
		select {
		case <-h.done:
			return
		case p := <-h.queue:
			end := func() {}
			if h.s.cfg.Batch != nil {
				end = h.s.cfg.Batch()
			}
			var err error
			if p.Kind == av.Video {
				data := p.Data
				if p.Keyframe && len(h.params) > 0 {
					au = append(append(au[:0], h.params...), p.Data...)
					data = au
				}
				err = h.video.write(data, or(p.Duration, h.frame))
			} else {
				err = h.audio.write(p.Data, or(p.Duration, 20*time.Millisecond))
			}
			end()
			if err != nil {
				h.s.metrics.dropped.Inc()
			}
		}
	}
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// addViewer answers offer with a viewer of the hub's tracks; status is
// the HTTP status of an error.
func (h *Hub) addViewer(ctx context.Context, offer string, token [32]byte) (v *viewer, answer string, status int, err error) {
	v, answer, err = newViewer(ctx, h, offer, token)
	if err != nil {
		return nil, "", http.StatusBadRequest, err
	}
	h.mu.Lock()
	h.all[v] = struct{}{}
	h.mu.Unlock()
	h.watched.Add(1)
	return v, answer, 0, nil
}

// removeViewer is called once per viewer, when it ends.
func (h *Hub) removeViewer(v *viewer) {
	h.mu.Lock()
	delete(h.all, v)
	h.mu.Unlock()
	h.watched.Add(-1)
	h.s.forget(v)
}

// viewers counts the hub's viewers.
func (h *Hub) viewers() int { return int(h.watched.Load()) }

// Close ends the live view and its viewers.
func (h *Hub) Close() {
	h.once.Do(func() {
		h.s.mu.Lock()
		if h.s.hubs[h.id] == h {
			delete(h.s.hubs, h.id)
		}
		h.s.mu.Unlock()
		close(h.done)
		<-h.stopped
		h.kmu.Lock()
		if h.pending != nil {
			h.pending.Stop()
		}
		h.kmu.Unlock()
		h.mu.Lock()
		vs := make([]*viewer, 0, len(h.all))
		for v := range h.all {
			vs = append(vs, v)
		}
		h.mu.Unlock()
		for _, v := range vs {
			v.close()
		}
	})
}
