package whep

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// viewer is one WHEP session: a PeerConnection sending a hub's tracks.
type viewer struct {
	id    string
	h     *Hub
	pc    *webrtc.PeerConnection
	token [32]byte // SHA-256 of the bearer token that started it
	once  sync.Once
	timer *time.Timer // ends a viewer that does not connect in time
}

// gatherTimeout bounds ICE gathering before the answer (host candidates
// on one UDP port: immediate in practice).
const gatherTimeout = 5 * time.Second

func newViewer(ctx context.Context, h *Hub, offer string, token [32]byte) (*viewer, string, error) {
	pc, err := h.s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", err
	}
	v := &viewer{id: newSessionID(), h: h, pc: pc, token: token}
	fail := func(err error) (*viewer, string, error) {
		_ = pc.Close()
		return nil, "", err
	}
	vs, err := pc.AddTrack(h.video)
	if err != nil {
		return fail(err)
	}
	as, err := pc.AddTrack(h.audio)
	if err != nil {
		return fail(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(fmt.Errorf("not a usable SDP offer: %v", err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(fmt.Errorf("no answer to this offer: %v", err))
	}
	if len(vs.GetParameters().Codecs) == 0 {
		return fail(errors.New("the offer cannot receive H.264 Main profile with packetization-mode=1 (recvonly video is needed)"))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(gatherTimeout):
		return fail(fmt.Errorf("ICE gathering not complete after %v", gatherTimeout))
	}
	v.timer = time.AfterFunc(h.s.cfg.ConnectTimeout, func() {
		if pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			h.s.log.Info("WHEP viewer did not connect in time", "composition", h.id, "timeout", h.s.cfg.ConnectTimeout)
			v.close()
		}
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			h.askKeyframe() // its media can flow now: start it with a keyframe
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			go v.close()
		}
	})
	go v.readRTCP(vs, h.video)
	go v.readRTCP(as, h.audio)
	return v, pc.LocalDescription().SDP, nil
}

// readRTCP reads the RTCP of a sender of t until the connection closes:
// a PLI or FIR asks the encoder for a keyframe (rate-limited by the hub),
// a NACK is answered from t's history.
func (v *viewer) readRTCP(s *webrtc.RTPSender, t *track) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				v.h.askKeyframe()
			case *rtcp.TransportLayerNack:
				t.resend(p)
			}
		}
	}
}

// close ends the session (once).
func (v *viewer) close() {
	v.once.Do(func() {
		if v.timer != nil {
			v.timer.Stop()
		}
		_ = v.pc.Close()
		v.h.removeViewer(v)
		v.h.s.metrics.sessions.WithLabelValues("ended").Inc()
	})
}
