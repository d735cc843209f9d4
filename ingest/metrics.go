package ingest

import (
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the ingest counters, aggregated over participants; the
// per-participant figures are exported by participantCollector.
type metrics struct {
	requests  *prometheus.CounterVec // WHIP requests by method and status
	sessions  prometheus.Gauge
	halfOpen  prometheus.Gauge
	refused   *prometheus.CounterVec // offers refused by a session cap, by cap
	events    *prometheus.CounterVec
	packets   *prometheus.CounterVec // by kind
	dropped   *prometheus.CounterVec // by reason
	frames    *prometheus.CounterVec // decoded, by kind
	decodeErr prometheus.Counter
	// RTMP(S) connections by how they ended up, and publishes now.
	rtmpConns      *prometheus.CounterVec
	rtmpPublishing prometheus.Gauge
	plis           prometheus.Counter
	redirected     prometheus.Counter // WHIP offers sent to the server of their stage
	sendFailures   prometheus.Counter // media datagrams the socket refused
	decodeSec      *prometheus.HistogramVec
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "whip_requests_total", Help: "WHIP requests by method and HTTP status."}, []string{"method", "status"}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "sessions", Help: "Publishing sessions open now."}),
		halfOpen: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "half_open_sessions", Help: "Publishing sessions admitted and not yet connected (ICE and DTLS pending)."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "sessions_refused_total", Help: "WHIP offers refused (503) by a session cap: \"sessions\" (all sessions) or \"half_open\" (sessions not yet connected)."}, []string{"cap"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "participant_events_total", Help: "Participant events by name and error code."}, []string{"event", "error_code"}),
		packets: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "rtp_packets_total", Help: "RTP packets received, by kind."}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "dropped_total", Help: "Media dropped, by reason (lost, late, malformed packets; frames skipped waiting for a keyframe; oversized video)."}, []string{"reason"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "frames_decoded_total", Help: "Frames decoded, by kind."}, []string{"kind"}),
		decodeErr: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "decode_errors_total", Help: "Frames the decoder refused (corrupt or undecodable)."}),
		rtmpConns: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "rtmp_connections_total", Help: "RTMP(S) connections by result: published, or why not (handshake_failed, over_cap, play_refused, invalid_stream_key, invalid_protocol, reuse_of_stream_key, stage_closed, other_node)."}, []string{"result"}),
		rtmpPublishing: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "rtmp_publishes", Help: "RTMP(S) publishers on stages now."}),
		plis: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "pli_sent_total", Help: "Picture loss indications sent to publishers."}),
		redirected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "whip_redirected_total", Help: "WHIP offers redirected (307) to the server that serves their stage."}),
		sendFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "media_send_failures_total", Help: "Sends of batched media datagrams (live views) the UDP socket refused."}),
		decodeSec: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "decode_seconds", Help: "Time to decode one frame.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 12)}, []string{"codec"}),
	}
	for _, c := range []string{"sessions", "half_open"} {
		m.refused.WithLabelValues(c)
	}
	if r != nil {
		r.MustRegister(m.requests, m.sessions, m.halfOpen, m.refused, m.events, m.packets, m.dropped, m.frames, m.decodeErr, m.plis, m.decodeSec, m.rtmpConns, m.rtmpPublishing, m.redirected, m.sendFailures)
	}
	return m
}

// participantLabels are the labels of every per-participant series.
var participantLabels = []string{"stage", "participant"}

func participantDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc("tessera_participant_"+name, help, append(participantLabels[:2:2], extra...), nil)
}

// The per-participant series.
var (
	descVideoFrames = participantDesc("video_frames_total", "Pictures received and decoded.")
	descFPS         = participantDesc("fps", "Pictures received and decoded per second, over about the last second.")
	descAudioFrames = participantDesc("audio_frames_total", "Audio frames received and decoded.")
	descPackets     = participantDesc("packets_total", "RTP packets received, by kind (video, audio).", "kind")
	descLost        = participantDesc("packets_lost_total", "RTP packets given up as lost after the jitter wait (NACK retransmission included).")
	descLate        = participantDesc("packets_late_total", "RTP packets that arrived after their frame was emitted or given up, and duplicates.")
	descMalformed   = participantDesc("packets_malformed_total", "RTP packets that did not parse or depacketize.")
	descSkipped     = participantDesc("frames_skipped_total", "Video frames not decoded while waiting for a keyframe after a loss or a decoder error.")
	descDecodeErr   = participantDesc("decode_errors_total", "Frames the decoder refused.")
	descPLIs        = participantDesc("pli_sent_total", "Picture loss indications (keyframe requests) sent to the publisher.")
	descFreezes     = participantDesc("freezes_total", "Times the video went stale (no picture for the stale timeout).")
	descSwitches    = participantDesc("layer_switches_total", "Simulcast layer switches.")
	descAVOffset    = participantDesc("av_offset_seconds", "Capture time of the newest audio frame minus that of the newest picture, on the server clock (positive: the audio received runs ahead of the video). Absent until both arrived and while the video is stopped.")
)

// participantCollector exports the per-participant series at scrape time,
// labelled by stage (the stage ARN's resource id) and participant id: it
// walks the open stages and their connected participants and reads their
// counters, so nothing is looked up per packet or frame and a participant's
// series disappear when it leaves.
type participantCollector struct{ s *Server }

func (c participantCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descVideoFrames, descFPS, descAudioFrames, descPackets, descLost, descLate,
		descMalformed, descSkipped, descDecodeErr, descPLIs, descFreezes, descSwitches, descAVOffset} {
		ch <- d
	}
}

func (c participantCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.s.openStages() {
		stage := stageID(st.arn)
		for _, p := range st.participants() {
			s := p.Stats()
			counter := func(d *prometheus.Desc, v uint64, extra ...string) {
				ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{stage, p.id}, extra...)...)
			}
			counter(descVideoFrames, s.FramesDecoded)
			counter(descAudioFrames, s.AudioFrames)
			counter(descPackets, s.VideoPackets, "video")
			counter(descPackets, s.AudioPackets, "audio")
			counter(descLost, s.PacketsLost)
			counter(descLate, s.PacketsLate)
			counter(descMalformed, s.PacketsMalformed)
			counter(descSkipped, s.FramesSkipped)
			counter(descDecodeErr, s.DecodeErrors)
			counter(descPLIs, s.PLIsSent)
			counter(descFreezes, s.Freezes)
			counter(descSwitches, s.LayerSwitches)
			ch <- prometheus.MustNewConstMetric(descFPS, prometheus.GaugeValue, p.fps.rate(), stage, p.id)
			if d, ok := p.AVOffset(); ok && !p.Info().VideoStopped {
				ch <- prometheus.MustNewConstMetric(descAVOffset, prometheus.GaugeValue, d.Seconds(), stage, p.id)
			}
		}
	}
}

// stageID returns an ARN's resource id (what follows the last "/"), or
// the whole string when it has none.
func stageID(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

const (
	rateSamples = 16                     // samples a rateMeter keeps
	rateEvery   = 100 * time.Millisecond // at most one sample per this
	rateWindow  = time.Second            // the span a rate is taken over
)

// rateMeter turns a counter sampled now and then into a rate per second
// over about the last rateWindow (over what it has while younger). One
// goroutine samples; rate may be read from any.
type rateMeter struct {
	t    [rateSamples]time.Duration
	n    [rateSamples]uint64
	next int // where the next sample goes
	have int // samples held
	last atomic.Uint64
}

func (m *rateMeter) sample(now time.Duration, n uint64) {
	if m.have > 0 && now-m.t[(m.next+rateSamples-1)%rateSamples] < rateEvery {
		return
	}
	m.t[m.next], m.n[m.next] = now, n
	m.next = (m.next + 1) % rateSamples
	m.have = min(m.have+1, rateSamples)
	// The newest sample at least rateWindow old, else the oldest.
	ref := (m.next - m.have + rateSamples) % rateSamples
	for k := 2; k <= m.have; k++ {
		i := (m.next - k + rateSamples) % rateSamples
		if now-m.t[i] >= rateWindow {
			ref = i
			break
		}
	}
	r := 0.0
	if dt := now - m.t[ref]; dt > 0 {
		r = float64(n-m.n[ref]) / dt.Seconds()
	}
	m.last.Store(math.Float64bits(r))
}

// rate returns the rate computed at the latest sample.
func (m *rateMeter) rate() float64 { return math.Float64frombits(m.last.Load()) }
