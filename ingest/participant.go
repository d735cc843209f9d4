package ingest

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-media/tessera/media"
)

// ParticipantInfo is a participant's roster entry: what a composition
// needs to lay it out.
type ParticipantInfo struct {
	ID         string
	UserID     string
	Attributes map[string]string
	// Arrival orders participants by when they joined the stage (1, 2, …).
	Arrival  uint64
	JoinedAt time.Time
	// Protocol is how it publishes: "WHIP", "RTMP" or "RTMPS".
	Protocol string
	// IngestConfigurationARN names the ingest configuration of an RTMP(S)
	// publisher ("" for WHIP).
	IngestConfigurationARN string
	MediaState
}

// MediaState is the media part of a roster entry.
type MediaState struct {
	// Video and Audio report the published tracks; VideoCodec and
	// AudioCodec name their codecs ("h264", "vp8", "opus").
	Video, Audio           bool
	VideoCodec, AudioCodec string
	// Width and Height are the size of the newest decoded picture (0 before
	// the first).
	Width, Height int
	// VideoStopped is true while there is no current picture: no video
	// track, no picture yet, or none for Config.StaleAfter (muted, stopped
	// or lost). Such a participant is drawn as a placeholder.
	VideoStopped bool
	// AudioOnly is true while the video is above the size limit
	// (Config.MaxVideoPixels): the participant is rendered audio-only.
	AudioOnly bool
}

// ParticipantStats counts a participant's media path.
type ParticipantStats struct {
	VideoPackets, AudioPackets uint64
	PacketsLost                uint64 // given up after the jitter wait
	PacketsLate                uint64 // arrived after their frame was emitted
	PacketsMalformed           uint64 // in frames that could not be depacketized
	FramesReceived             uint64 // video frames assembled complete (every simulcast layer)
	FramesDecoded              uint64
	FramesSkipped              uint64 // waiting for a keyframe after a loss or error
	DecodeErrors               uint64
	AudioFrames                uint64
	PLIsSent                   uint64
	Freezes                    uint64 // times the video went stale
	LayerSwitches              uint64 // simulcast layer changes
}

// Participant is a publisher on a stage: its roster entry, its decoded
// video (Video) and audio (SubscribeAudio).
type Participant struct {
	stage    *Stage
	id       string
	arrival  uint64
	joinedAt time.Time
	protocol string // "WHIP", "RTMP", "RTMPS"
	ingest   string // ingest configuration ARN (RTMP)
	video    VideoFeed

	mu         sync.Mutex
	userID     string
	attributes map[string]string
	info       MediaState
	audioSubs  []*AudioSubscription
	videoSubs  []*VideoPackets

	lastPicture atomic.Int64 // server clock of the newest picture, 0 = none
	wantW       atomic.Int32 // the tile size compositions need (simulcast)
	wantH       atomic.Int32
	onWant      atomic.Pointer[func()]
	onKeyframe  atomic.Pointer[func()] // asks the publisher for a keyframe of the packets' layer

	// Capture times (server clock) of the newest picture and the newest
	// audio frame, for the A/V offset; valid once the have* flag is set.
	videoCapture, audioCapture atomic.Int64
	haveVideo, haveAudio       atomic.Bool
	fps                        rateMeter // pictures per second, sampled by the stage's watchdog
	videoLag, audioLag         lagMeter  // capture → ready for compositions

	stats struct {
		videoPackets, audioPackets, lost, late, malformed     atomic.Uint64
		received, decoded, skipped, decodeErrors, audioFrames atomic.Uint64
		plis, freezes, switches                               atomic.Uint64
	}
}

// ID returns the participant id (the token's jti).
func (p *Participant) ID() string { return p.id }

// Video returns the participant's decoded pictures.
func (p *Participant) Video() *VideoFeed { return &p.video }

// Info returns the participant's roster entry.
func (p *Participant) Info() ParticipantInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ParticipantInfo{
		ID: p.id, UserID: p.userID, Attributes: maps.Clone(p.attributes),
		Arrival: p.arrival, JoinedAt: p.joinedAt, Protocol: p.protocol, IngestConfigurationARN: p.ingest,
		MediaState: p.info,
	}
}

// SubscribeAudio starts a queue of the participant's decoded audio from now
// on. Close it when done.
func (p *Participant) SubscribeAudio() *AudioSubscription {
	s := &AudioSubscription{p: p}
	p.mu.Lock()
	p.audioSubs = append(p.audioSubs, s)
	p.mu.Unlock()
	return s
}

func (p *Participant) unsubscribeAudio(s *AudioSubscription) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.audioSubs, s); i >= 0 {
		p.audioSubs = slices.Delete(p.audioSubs, i, i+1)
	}
}

func (p *Participant) publishAudio(f *media.AudioFrame) {
	p.stats.audioFrames.Add(1)
	if p.stage != nil {
		// Ready once its last sample is: mixing waits for the whole frame.
		now := p.stage.srv.Now()
		p.audioLag.observe(now-f.PTS-f.Duration(), now)
	}
	p.audioCapture.Store(int64(f.PTS))
	p.haveAudio.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.audioSubs {
		s.push(f)
	}
}

// SetWantedSize tells ingest the largest tile this participant is drawn
// into, so that of a simulcast publisher's layers the smallest one that
// still covers it is decoded. 0×0 (the default) asks for the largest.
func (p *Participant) SetWantedSize(w, h int) {
	if int(p.wantW.Swap(int32(w))) == w && int(p.wantH.Swap(int32(h))) == h {
		return
	}
	if fn := p.onWant.Load(); fn != nil {
		(*fn)()
	}
}

func (p *Participant) wanted() (int, int) { return int(p.wantW.Load()), int(p.wantH.Load()) }

// AVOffset returns the newest audio frame's capture time minus the newest
// picture's (both on the server clock): positive when the audio received
// runs ahead of the video. ok is false until both arrived.
func (p *Participant) AVOffset() (d time.Duration, ok bool) {
	if !p.haveAudio.Load() || !p.haveVideo.Load() {
		return 0, false
	}
	return time.Duration(p.audioCapture.Load() - p.videoCapture.Load()), true
}

// Lag returns how long this participant's pictures and audio frames took
// recently (the last 10–20 s) from capture to being ready for
// compositions, on the server clock — receiving, reassembling and
// decoding, and the network's jitter around its fastest packets (capture
// times are mapped with the smallest delay seen): the 99th percentile of
// its pictures' or the 99.9th of its audio frames', whichever is longer.
// A composition that renders Lag behind real time shows at least 99 % of
// its pictures in time and mixes 99.9 % of its sound. ok is false when none arrived
// for 20 s.
func (p *Participant) Lag() (time.Duration, bool) {
	if p.stage == nil {
		return 0, false
	}
	now := p.stage.srv.Now()
	v, okV := p.videoLag.value(now, videoLagQuantile)
	a, okA := p.audioLag.value(now, audioLagQuantile)
	return max(v, a), okV || okA
}

// Stats returns the participant's counters.
func (p *Participant) Stats() ParticipantStats {
	s := &p.stats
	return ParticipantStats{
		VideoPackets: s.videoPackets.Load(), AudioPackets: s.audioPackets.Load(),
		PacketsLost: s.lost.Load(), PacketsLate: s.late.Load(), PacketsMalformed: s.malformed.Load(),
		FramesReceived: s.received.Load(), FramesDecoded: s.decoded.Load(), FramesSkipped: s.skipped.Load(), DecodeErrors: s.decodeErrors.Load(),
		AudioFrames: s.audioFrames.Load(), PLIsSent: s.plis.Load(), Freezes: s.freezes.Load(),
		LayerSwitches: s.switches.Load(),
	}
}

// update changes the roster entry under the lock and tells the stage's
// watchers when something changed.
func (p *Participant) update(fn func(i *MediaState)) {
	p.mu.Lock()
	before := p.info
	fn(&p.info)
	changed := before != p.info
	p.mu.Unlock()
	if changed {
		p.stage.notify()
	}
}

// setAttributes replaces userId and attributes (token exchange).
func (p *Participant) setAttributes(userID string, attrs map[string]string) {
	p.mu.Lock()
	p.userID, p.attributes = userID, maps.Clone(attrs)
	p.mu.Unlock()
	p.stage.notify()
}

// picture records a decoded picture of size w×h, captured at pts, at
// server time now.
func (p *Participant) picture(w, h int, pts, now time.Duration) {
	if p.stage != nil {
		ready := p.stage.srv.Now() // decoded: later than now, when it was received
		p.videoLag.observe(ready-pts, ready)
	}
	p.lastPicture.Store(max(int64(now), 1))
	p.videoCapture.Store(int64(pts))
	p.haveVideo.Store(true)
	p.stats.decoded.Add(1)
	p.mu.Lock()
	same := p.info.Width == w && p.info.Height == h && !p.info.VideoStopped
	p.mu.Unlock()
	if !same {
		p.update(func(i *MediaState) { i.Width, i.Height, i.VideoStopped = w, h, false })
	}
}

// checkStale marks the video stopped when no picture arrived for staleAfter.
func (p *Participant) checkStale(now, staleAfter time.Duration) {
	last := time.Duration(p.lastPicture.Load())
	p.mu.Lock()
	stale := !p.info.Video || p.info.AudioOnly || last == 0 || now-last > staleAfter
	was := p.info.VideoStopped
	p.mu.Unlock()
	if stale != was {
		if stale && last != 0 {
			p.stats.freezes.Add(1)
		}
		p.update(func(i *MediaState) { i.VideoStopped = stale })
	}
}
