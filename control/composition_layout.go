package control

import (
	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/layout"
)

// setLayout changes the layout of a composition that is STARTING or
// ACTIVE: save stores l, then the pipeline is given it (at once if it
// runs, else as soon as it started). It reports false, saving nothing, for
// a composition asked to stop or ended. Concurrent changes are saved and
// given to the pipeline in the same order, so the last saved is the one
// shown.
func (c *composition) setLayout(l layout.Config, save func() error) (bool, error) {
	c.layoutMu.Lock()
	defer c.layoutMu.Unlock()
	if !c.running() {
		return false, nil
	}
	if err := save(); err != nil {
		return true, err
	}
	c.layout = &l
	if c.pipe == nil {
		return true, nil
	}
	return true, c.pipe.SetLayout(l)
}

// started hands the started pipeline a layout set while it started.
func (c *composition) started(p contract.Pipeline) {
	c.layoutMu.Lock()
	defer c.layoutMu.Unlock()
	c.pipe = p
	if c.layout == nil {
		return
	}
	if err := p.SetLayout(*c.layout); err != nil {
		c.log.Error("setting the layout", "err", err)
	}
}
