package worker

import "github.com/tessera-media/tessera/layout"

// SetLayout implements contract.Pipeline: every frame clock of the
// composition re-arranges its participants with l while it waits for its
// next tick, which then shows the new arrangement (and the participants'
// wanted sizes follow their new tiles). The clocks keep their time: the
// switch costs no tick and no timestamp.
func (p *pipeline) SetLayout(l layout.Config) error {
	p.layout.Store(&l)
	for _, g := range p.groups {
		select {
		case g.relay <- struct{}{}:
		default: // a wake-up is pending; it will read the newest layout
		}
	}
	return nil
}
