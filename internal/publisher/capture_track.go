package publisher

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// rtpMTU is the largest RTP packet a track sends, header included (pion's
// own outbound size).
const rtpMTU = 1200

// captureTrack is a send track timed as a browser times its tracks: each
// sample's RTP timestamp is its capture time on the publishing's timeline
// (its PTS), and the RTCP sender reports map that timeline to the wall
// clock (start + PTS). pion's sample track and report interceptor instead
// advance the timestamp by each sample's duration and date a report from
// when the last packet was sent, so encoding time and a late ticker put
// an error of several milliseconds, different for audio and video, into
// the mapping a receiver synchronizes with.
type captureTrack struct {
	*webrtc.TrackLocalStaticRTP
	rate      int64 // RTP clock rate
	base      uint32
	payloader rtp.Payloader
	seq       rtp.Sequencer
	ssrc      uint32 // the stream's, once negotiated (for the reports)

	mu      sync.Mutex
	start   time.Time // the timeline's origin; zero until begin
	packets uint32
	octets  uint32
}

func newCaptureTrack(capab webrtc.RTPCodecCapability, id, stream string) (*captureTrack, error) {
	var pl rtp.Payloader
	switch strings.ToLower(capab.MimeType) {
	case strings.ToLower(webrtc.MimeTypeH264):
		pl = &codecs.H264Payloader{}
	case strings.ToLower(webrtc.MimeTypeVP8):
		pl = &codecs.VP8Payloader{EnablePictureID: true}
	case strings.ToLower(webrtc.MimeTypeOpus):
		pl = &codecs.OpusPayloader{}
	default:
		return nil, fmt.Errorf("publisher: no payloader for %s", capab.MimeType)
	}
	tr, err := webrtc.NewTrackLocalStaticRTP(capab, id, stream)
	if err != nil {
		return nil, err
	}
	return &captureTrack{
		TrackLocalStaticRTP: tr,
		rate:                int64(capab.ClockRate),
		base:                rand.Uint32(),
		payloader:           pl,
		seq:                 rtp.NewRandomSequencer(),
	}, nil
}

// begin sets the timeline's origin: PTS 0 was captured at start.
func (t *captureTrack) begin(start time.Time) {
	t.mu.Lock()
	t.start = start
	t.mu.Unlock()
}

// timestamp is the RTP timestamp of PTS pts (which may be negative: an
// audio encoder's first packet starts before the first sample it was given).
func (t *captureTrack) timestamp(pts time.Duration) uint32 {
	return uint32(int64(t.base) + pts.Nanoseconds()*t.rate/int64(time.Second))
}

// writeSample packetizes one encoded sample captured at pts and sends its
// packets, the last one marked.
func (t *captureTrack) writeSample(data []byte, pts time.Duration) error {
	payloads := t.payloader.Payload(rtpMTU-12, data)
	ts := t.timestamp(pts)
	var firstErr error
	octets := 0
	for i, pl := range payloads {
		pkt := &rtp.Packet{
			Header: rtp.Header{
				Version:        2,
				Marker:         i == len(payloads)-1,
				SequenceNumber: t.seq.NextSequenceNumber(),
				Timestamp:      ts,
			},
			Payload: pl,
		}
		if err := t.WriteRTP(pkt); err != nil && firstErr == nil {
			firstErr = err
		}
		octets += len(pl)
	}
	t.mu.Lock()
	t.packets += uint32(len(payloads))
	t.octets += uint32(octets)
	t.mu.Unlock()
	return firstErr
}

// report is the track's RTCP sender report at now; false before begin,
// or for no track.
func (t *captureTrack) report(now time.Time) (*rtcp.SenderReport, bool) {
	if t == nil {
		return nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.start.IsZero() {
		return nil, false
	}
	return &rtcp.SenderReport{
		SSRC:        t.ssrc,
		NTPTime:     ntpTime(now),
		RTPTime:     t.timestamp(now.Sub(t.start)),
		PacketCount: t.packets,
		OctetCount:  t.octets,
	}, true
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900 in 32.32
// fixed point).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	ns := t.UnixNano()
	sec := uint64(ns/int64(time.Second)) + ntpEpochOffset
	frac := uint64(ns%int64(time.Second)) << 32 / uint64(time.Second)
	return sec<<32 | frac
}
