package console

import (
	"sync"
	"time"
)

// limiter allows each client address a number of sign-in attempts per
// window. It tracks at most maxClients addresses; when that many have
// attempts in the current window, every other address waits for the next.
type limiter struct {
	mu         sync.Mutex
	attempts   int
	window     time.Duration
	maxClients int
	now        func() time.Time
	clients    map[string]*attempts
}

type attempts struct {
	n     int
	start time.Time
}

// allow counts an attempt from addr and reports whether it may proceed;
// if not, also how long until it may.
func (l *limiter) allow(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	a := l.clients[addr]
	if a != nil && now.Sub(a.start) >= l.window {
		a.n, a.start = 0, now
	}
	if a == nil {
		if len(l.clients) >= l.maxClients {
			for k, v := range l.clients {
				if now.Sub(v.start) >= l.window {
					delete(l.clients, k)
				}
			}
		}
		if len(l.clients) >= l.maxClients {
			return false, l.window
		}
		a = &attempts{start: now}
		l.clients[addr] = a
	}
	if a.n >= l.attempts {
		return false, a.start.Add(l.window).Sub(now)
	}
	a.n++
	return true, 0
}
