package worker

import (
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/compositor"
	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/output"
	"github.com/tessera-media/tessera/whep"
)

// mixChunk is the audio mixed per step: 20 ms, about one Opus packet.
const mixChunk = 20 * time.Millisecond

// maxBehind is how far behind real time a frame clock may fall and still
// catch up, composing the ticks it owes back to back (a slow encode, the
// encoder's first frames): their pictures are still in the feeds' rings.
// Further behind (at least two frames), it skips ahead.
const maxBehind = 150 * time.Millisecond

// group is one encoder configuration of a composition: its canvas, frame
// clock, mixer, encoder and destinations.
type group struct {
	p     *pipeline
	spec  contract.EncoderSpec
	enc   *output.Encoder
	dests []*destination
	done  chan struct{}
	// relay wakes the frame clock when the pipeline's layout changed.
	relay chan struct{}

	comp    *compositor.Compositor
	mixer   *compositor.Mixer
	lay     *layout.Config // the layout arranged (of p.layout)
	roster  []ingest.ParticipantInfo
	parts   []*ingest.Participant
	audio   map[string]*ingest.AudioSubscription // by participant id, of the participant in parts
	sources []*media.VideoFrame
	held    []*ingest.Frame
	cursors []ingest.Cursor      // per participant: its place in the video feed
	late    []prometheus.Counter // per participant: pictures that arrived too late
	canvas  *media.VideoFrame
	chunk   *media.AudioFrame
	// reach is how far after a canvas's capture time a picture may have
	// been captured and still be shown on it: half a frame interval, so
	// that each canvas shows the picture captured nearest its time, and
	// a picture is never more than half a frame away from its sound.
	reach time.Duration
	speed float64 // the latest speed (guarded by p.mmu)

	view      *whep.Hub        // the composition's live view, on its first group (view.go)
	opus      *av.AudioEncoder // the mix for the viewers, while watched
	keyWanted atomic.Bool      // a viewer asked for a keyframe
}

// run is the frame clock: every tick it composes and encodes a canvas
// and the audio up to the tick, until the pipeline stops.
func (g *group) run() {
	defer close(g.done)
	defer g.closeView()
	p := g.p
	size := layout.Size{W: g.spec.Width, H: g.spec.Height}
	g.comp = compositor.New(size, compositor.Options{})
	defer g.comp.Close()
	var err error
	if g.mixer, err = compositor.NewMixer(2, mixChunk); err != nil {
		p.r.Failed("audio mixer: " + err.Error())
		return
	}
	g.audio = map[string]*ingest.AudioSubscription{}
	defer func() {
		for _, s := range g.audio {
			s.Close()
		}
	}()
	g.canvas = media.NewVideoFrame(size.W, size.H)
	g.chunk = media.NewAudioFrame(2, g.mixer.ChunkLen())
	changes, unwatch := p.stage.Watch()
	defer unwatch()
	g.relayout()

	interval := time.Duration(float64(time.Second) / g.spec.Framerate)
	g.reach = interval / 2
	id := p.spec.ID
	m := p.w.metrics
	c := clockMetrics{composed: m.composed.WithLabelValues(id), composeTime: m.compose.WithLabelValues(id),
		encodeTime: m.encode.WithLabelValues(id), speed: speedMeter{interval: interval}}
	skipped := m.skipped.WithLabelValues(id)
	// Warm-up: the first canvas is composed and encoded before the clock
	// starts. Its first encode is the slowest of all (the encoder's
	// threads and lookahead start, the plan's placeholders are drawn), and
	// on a clock already running it would make the next ticks late enough
	// to be skipped: a hole in every recording's and channel's first
	// timestamps. Composition time 0 (the capture time the first canvas
	// shows) is therefore set once that canvas is encoded: Delay before
	// now. The first canvas shows the pictures of Delay before the moment
	// it started, the few milliseconds of its own work earlier than that.
	// The encoder's next few frames are still slower than the rest; a
	// clock they put behind catches up (maxBehind).
	clockDelay := newAVDelay(p.w.cfg, maxLag(g.parts)+g.reach)
	delay := clockDelay.cur
	avDelay := m.avDelay.WithLabelValues(id)
	avDelay.Set(delay.Seconds())
	g.frame(p.w.cfg.Ingest.Now()-delay, 0, &c)
	p.r.Active()
	t0 := p.w.cfg.Ingest.Now() - delay
	mixed := t0 // audio mixed up to here
	behind := max(2*interval, maxBehind)
	clock := time.NewTimer(interval)
	defer clock.Stop()
	for n := int64(1); ; n++ {
		at := t0 + time.Duration(n)*interval // the capture time this canvas shows
		if d := clockDelay.next(maxLag(g.parts) + g.reach); d != delay {
			delay = d
			avDelay.Set(d.Seconds())
		}
		// Its tick is the delay after at on the server clock.
		if wait := at + delay - p.w.cfg.Ingest.Now(); wait > 0 {
			clock.Reset(wait)
			select {
			case <-p.stop:
				return
			case <-changes:
				g.relayout()
				n--
				continue
			case <-g.relay:
				g.relayout()
				n--
				continue
			case <-clock.C:
			}
		} else {
			// Already due: the clock is behind and catches up.
			select {
			case <-p.stop:
				return
			case <-changes:
				g.relayout()
			case <-g.relay:
				g.relayout()
			default:
			}
		}
		if late := p.w.cfg.Ingest.Now() - delay - at; late > behind {
			// Too far behind real time to catch up (the machine is too
			// slow for this composition): skip ahead rather than pile up.
			skip := int64(late / interval)
			n += skip
			at += time.Duration(skip) * interval
			p.log.Warn("frame clock behind real time; frames skipped", "frames", skip)
			skipped.Add(float64(skip))
		}
		start := g.frame(at, at-t0, &c)
		for mixed+mixChunk <= at {
			g.mixAudio(mixed, t0)
			mixed += mixChunk
		}
		end := time.Now()
		if v, ok := c.speed.add(end, end.Sub(start)); ok {
			p.reportSpeed(g, v)
		}
	}
}

// clockMetrics are a frame clock's per-canvas metrics.
type clockMetrics struct {
	composed                prometheus.Counter
	composeTime, encodeTime prometheus.Observer
	speed                   speedMeter
}

// frame composes the canvas showing capture time at, encodes it with
// presentation time pts and hands it to the recordings (thumbnails). It
// returns when it started.
func (g *group) frame(at, pts time.Duration, c *clockMetrics) time.Time {
	start := time.Now()
	g.compose(at)
	c.composed.Inc()
	encStart := time.Now()
	c.composeTime.Observe(encStart.Sub(start).Seconds())
	g.canvas.PTS = pts
	g.forceKeyframe()
	if err := g.enc.Video(g.canvas); err != nil {
		g.p.log.Error("video encode", "err", err)
	}
	c.encodeTime.Observe(time.Since(encStart).Seconds())
	for _, d := range g.dests {
		if d.rec != nil {
			d.rec.Frame(g.canvas)
		}
	}
	return start
}

// relayout re-arranges the participants after a roster or layout change.
func (g *group) relayout() {
	st := g.p.stage
	roster := st.Roster()
	lay := g.p.layout.Load()
	// A participant whose session was replaced (it published again) is a
	// new Participant with the same id and roster entry: its feed and
	// audio are taken anew.
	replaced := false
	for i, q := range g.parts {
		if id := g.roster[i].ID; q != nil && st.Participant(id) != q {
			replaced = true
			if s := g.audio[id]; s != nil {
				s.Close()
				delete(g.audio, id)
			}
		}
	}
	if !replaced && lay == g.lay && slices.EqualFunc(roster, g.roster, sameLayoutInput) {
		return
	}
	g.roster, g.lay = roster, lay
	// A participant that stays keeps its place in its feed.
	cursors := map[*ingest.Participant]ingest.Cursor{}
	for i, q := range g.parts {
		if q != nil {
			cursors[q] = g.cursors[i]
		}
	}
	ps := make([]layout.Participant, len(roster))
	g.parts = make([]*ingest.Participant, len(roster))
	g.cursors = make([]ingest.Cursor, len(roster))
	g.late = make([]prometheus.Counter, len(roster))
	present := map[string]bool{}
	for i, r := range roster {
		ps[i] = layout.Participant{ID: r.ID, UserID: r.UserID, Attributes: r.Attributes, Arrival: r.Arrival,
			Video: layout.Size{W: r.Width, H: r.Height}, VideoStopped: r.VideoStopped || r.AudioOnly}
		g.parts[i] = st.Participant(r.ID)
		if g.parts[i] != nil {
			g.cursors[i] = cursors[g.parts[i]]
			g.late[i] = g.p.lateCounter(r.ID)
		}
		present[r.ID] = true
		if _, ok := g.audio[r.ID]; !ok && g.parts[i] != nil && r.Audio {
			g.audio[r.ID] = g.parts[i].SubscribeAudio()
		}
	}
	for id, s := range g.audio {
		if !present[id] {
			s.Close()
			delete(g.audio, id)
			g.mixer.Remove(id)
		}
	}
	slots := layout.Arrange(layout.Size{W: g.spec.Width, H: g.spec.Height}, *lay, ps)
	g.comp.SetLayout(slots, ps)
	for _, s := range slots {
		if s.Index >= 0 && s.Index < len(g.parts) && g.parts[s.Index] != nil {
			g.parts[s.Index].SetWantedSize(s.Rect.W, s.Rect.H)
		}
	}
	g.sources = make([]*media.VideoFrame, len(ps))
	g.held = make([]*ingest.Frame, len(ps))
	g.p.log.Info("layout", "participants", len(ps), "slots", len(slots))
}

// sameLayoutInput reports whether two roster entries lay out the same.
func sameLayoutInput(a, b ingest.ParticipantInfo) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.Arrival == b.Arrival && a.MediaState == b.MediaState &&
		maps.Equal(a.Attributes, b.Attributes)
}

// compose draws the canvas showing capture time at from each participant's
// newest picture captured at or before at + reach (the nearest to at),
// counting the pictures that came too late to be shown
// (ingest.VideoFeed.Next): a late picture is dropped, never waited for.
func (g *group) compose(at time.Duration) {
	for i, p := range g.parts {
		g.sources[i], g.held[i] = nil, nil
		if p == nil || g.roster[i].VideoStopped || g.roster[i].AudioOnly {
			g.cursors[i].Reset()
			continue
		}
		f, late := p.Video().Next(&g.cursors[i], at+g.reach)
		if late > 0 {
			g.late[i].Add(float64(late))
		}
		if f != nil {
			g.held[i], g.sources[i] = f, f.VideoFrame
		}
	}
	if err := g.comp.Compose(g.canvas, g.sources); err != nil {
		g.p.log.Error("compose", "err", err)
	}
	for i, f := range g.held {
		f.Release()
		g.held[i] = nil
	}
}

// mixAudio mixes the chunk starting at from (server clock) and encodes it.
func (g *group) mixAudio(from, t0 time.Duration) {
	for id, s := range g.audio {
		s.Drain(func(a *media.AudioFrame) {
			if err := g.mixer.Push(id, a); err != nil {
				g.p.log.Debug("audio push", "participant", id, "err", err)
			}
		})
	}
	g.mixer.Mix(g.chunk, from)
	g.chunk.PTS = from - t0
	if err := g.enc.Audio(g.chunk); err != nil {
		g.p.log.Error("audio encode", "err", err)
	}
	g.viewAudio(g.chunk)
}
