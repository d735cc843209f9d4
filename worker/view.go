package worker

import (
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
)

// A composition's live view (WHEP): its first encoder configuration's
// H.264 goes to the view's hub as it leaves the encoder; its mix is
// encoded to Opus, once, only while someone watches; a viewer's keyframe
// request reaches the encoder at the next tick.

// openView opens the live view of g's composition, if the worker serves
// views; a failure leaves the composition without one (logged).
func (g *group) openView() {
	v := g.p.w.cfg.Views
	if v == nil {
		return
	}
	hub, err := v.Open(g.p.spec.ARN, g.enc.Streams()[0], func() { g.keyWanted.Store(true) })
	if err != nil {
		g.p.log.Warn("no live view of the composition", "err", err)
		return
	}
	g.view = hub
	g.enc.Attach(hub)
}

// forceKeyframe makes this tick's picture a keyframe if a viewer asked.
func (g *group) forceKeyframe() {
	if g.keyWanted.Swap(false) {
		g.enc.ForceKeyframe()
	}
}

// viewAudio encodes the mixed chunk to Opus for the viewers, while there
// are any; the encoder starts anew with each new audience, so its
// timestamps follow the chunks'.
func (g *group) viewAudio(chunk *media.AudioFrame) {
	if g.view == nil {
		return
	}
	if !g.view.Watched() {
		if g.opus != nil {
			g.opus.Close()
			g.opus = nil
		}
		return
	}
	if g.opus == nil {
		var err error
		if g.opus, err = av.NewAudioEncoder(av.AudioConfig{Codec: "opus"}); err != nil {
			g.p.log.Error("live view: Opus encoder", "err", err)
			return
		}
	}
	if err := g.opus.Encode(chunk, g.view.WriteAudio); err != nil {
		g.p.log.Warn("live view: Opus encode", "err", err)
	}
}

// closeView ends the live view and its viewers.
func (g *group) closeView() {
	if g.view != nil {
		g.enc.Detach(g.view)
		g.view.Close()
	}
	if g.opus != nil {
		g.opus.Close()
		g.opus = nil
	}
}
