package worker

import (
	"time"

	"github.com/tessera-media/tessera/ingest"
)

// Defaults of the adaptive A/V delay (Config.MinDelay, Config.MaxDelay).
// The floor keeps some room for a machine short of CPU, whose publishers'
// lag jumps before the delay can follow: two frame intervals at 30 fps,
// about what a clean loopback publisher needs anyway.
const (
	DefaultMinDelay = 60 * time.Millisecond
	DefaultMaxDelay = 300 * time.Millisecond
)

// delayMargin is added to the participants' lag: the frame clock's own
// lateness (the timer's wake-up, the tick's work before it reads the
// feeds) and a lag a little above the highest seen.
const delayMargin = 10 * time.Millisecond

// delayStep is how much an adaptive delay shrinks per tick at most: the
// frame clock then runs up to 1 ms per frame (3 % at 30 fps) ahead of
// real time until it is caught up, which no destination notices. It grows
// at once: a picture that would otherwise be late is worse than one tick
// that comes later.
const delayStep = time.Millisecond

// avDelay is how far behind real time a frame clock composes: the time
// every participant's media needs from capture to being ready (their
// Lag, plus the half frame a canvas reaches ahead for its nearest
// picture), so that none of it is late, and no more. Fixed when the worker's
// Config.Delay is set. The output's timeline never changes with it: a
// frame clock's ticks show capture times a frame interval apart, and only
// when each is composed moves.
type avDelay struct {
	fixed    time.Duration // > 0: always this
	min, max time.Duration
	cur      time.Duration
}

// newAVDelay returns the delay of cfg, starting from lag.
func newAVDelay(cfg Config, lag time.Duration) *avDelay {
	d := &avDelay{fixed: cfg.Delay, min: cfg.MinDelay, max: cfg.MaxDelay}
	d.cur = d.target(lag)
	return d
}

// target is the delay for media that takes lag to be ready, within the
// bounds.
func (d *avDelay) target(lag time.Duration) time.Duration {
	if d.fixed > 0 {
		return d.fixed
	}
	return min(max(lag+delayMargin, d.min), d.max)
}

// next returns the delay of the next tick, moved towards what media
// taking lag needs.
func (d *avDelay) next(lag time.Duration) time.Duration {
	t := d.target(lag)
	if t > d.cur {
		d.cur = t
	} else {
		d.cur = max(t, d.cur-delayStep)
	}
	return d.cur
}

// maxLag is the longest Lag of parts (0 when none has one).
func maxLag(parts []*ingest.Participant) time.Duration {
	var lag time.Duration
	for _, p := range parts {
		if p == nil {
			continue
		}
		if l, ok := p.Lag(); ok {
			lag = max(lag, l)
		}
	}
	return lag
}
