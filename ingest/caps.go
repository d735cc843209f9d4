package ingest

import (
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Session caps. Every WHIP session costs goroutines (about eleven while
// half-open, more per track once media flows) and memory, and a client can
// hold a half-open one for ConnectTimeout just by never completing ICE. So
// the server admits at most Config.MaxSessions sessions at once, of which at
// most Config.MaxHalfOpen not yet connected. An offer over a cap is answered
// 503 Service Unavailable with Retry-After and a reason, as RFC 9725 has
// an endpoint under high load answer (429 would blame the one client);
// every refusal is counted (tessera_ingest_sessions_refused_total) and
// logged at most once per refusalLogEvery with the number refused since.
const (
	defaultMaxSessions = 256
	defaultMaxHalfOpen = 32
	// fdReserve descriptors are left to everything but WHIP sessions
	// (listeners, API connections, the store, storage, RTMP outputs); each
	// session is charged fdsPerSession (its WHIP HTTP connection, and one
	// spare: media shares the one UDP socket).
	fdReserve     = 256
	fdsPerSession = 2
	// Retry-After, in seconds: half-open slots free as soon as connections
	// complete (or after ConnectTimeout); sessions when publishers leave.
	halfOpenRetryAfter = 1
	sessionsRetryAfter = 10
	refusalLogEvery    = 10 * time.Second
)

// fdSessionBound is how many sessions an open-file limit of nofile allows
// (at least one); nofile 0 (unknown) allows any number.
func fdSessionBound(nofile uint64) int {
	if nofile == 0 {
		return math.MaxInt
	}
	n := int(min(nofile, 1<<30))
	return max(1, (n-fdReserve)/fdsPerSession)
}

// capSessions resolves MaxSessions and MaxHalfOpen: defaults for zero,
// MaxSessions no more than the open-file limit allows and MaxHalfOpen no
// more than MaxSessions. It returns the MaxSessions asked for when the
// limit lowered it, else 0.
func (c *Config) capSessions(nofile uint64) (lowered int) {
	asked := c.MaxSessions
	if c.MaxSessions <= 0 {
		c.MaxSessions = defaultMaxSessions
	}
	if b := fdSessionBound(nofile); c.MaxSessions > b {
		c.MaxSessions = b
		lowered = asked
	}
	if c.MaxHalfOpen <= 0 {
		c.MaxHalfOpen = defaultMaxHalfOpen
	}
	c.MaxHalfOpen = min(c.MaxHalfOpen, c.MaxSessions)
	return lowered
}

// capHold is what a session holds of the caps.
type capHold uint8

const (
	capNone     capHold = iota // not admitted, or released
	capHalfOpen                // admitted, not yet connected
	capOpen                    // connected
)

// admission counts the sessions held against the caps. A session is
// admitted before it joins its stage, turns from half-open to open when its
// connection first connects, and is released when it ends.
type admission struct {
	maxSessions, maxHalfOpen int
	metrics                  *metrics
	log                      *slog.Logger

	mu       sync.Mutex // guards the fields below and every session's held
	sessions int        // admitted, not released
	halfOpen int        // admitted, not connected, not released
	unlogged int        // refusals since the last one logged
	loggedAt time.Time  // when a refusal was last logged
}

// overCap is why an offer was refused: the cap it met.
type overCap struct {
	limit      string // "sessions" or "half_open", the metric's label
	reason     string // one line for the client
	retryAfter int    // seconds
}

// admit takes a session slot and a half-open slot for sess, or reports
// the cap that is full.
func (a *admission) admit(sess *session) *overCap {
	a.mu.Lock()
	defer a.mu.Unlock()
	var over *overCap
	switch {
	case a.sessions >= a.maxSessions:
		over = &overCap{"sessions", fmt.Sprintf("server at capacity: %d publishing sessions, the most it holds; retry later", a.maxSessions), sessionsRetryAfter}
	case a.halfOpen >= a.maxHalfOpen:
		over = &overCap{"half_open", fmt.Sprintf("server busy: %d sessions still connecting, the most it holds; retry in a second", a.maxHalfOpen), halfOpenRetryAfter}
	default:
		a.sessions++
		a.halfOpen++
		sess.held = capHalfOpen
		a.metrics.halfOpen.Set(float64(a.halfOpen))
		return nil
	}
	a.metrics.refused.WithLabelValues(over.limit).Inc()
	a.unlogged++
	if now := time.Now(); now.Sub(a.loggedAt) >= refusalLogEvery {
		a.log.Warn("WHIP offers refused: session cap reached", "cap", over.limit,
			"max_sessions", a.maxSessions, "max_half_open", a.maxHalfOpen, "refused_since_last_report", a.unlogged)
		a.unlogged, a.loggedAt = 0, now
	}
	return over
}

// connected turns sess's half-open slot into an open one.
func (a *admission) connected(sess *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if sess.held == capHalfOpen {
		sess.held = capOpen
		a.halfOpen--
		a.metrics.halfOpen.Set(float64(a.halfOpen))
	}
}

// release gives back what sess holds; releasing again does nothing.
func (a *admission) release(sess *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch sess.held {
	case capNone:
		return
	case capHalfOpen:
		a.halfOpen--
		a.metrics.halfOpen.Set(float64(a.halfOpen))
	}
	a.sessions--
	sess.held = capNone
}
