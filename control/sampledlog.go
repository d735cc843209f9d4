package control

import (
	"sync"
	"time"
)

// refusalLogEvery is how often one kind of refusal is logged at most.
const refusalLogEvery = 10 * time.Second

// sampledLog bounds how often a kind of event is logged: the first of a key
// at once, then at most one per interval, carrying how many were not
// logged in between. A refusal repeated by a flood of requests thus costs a
// log line per interval, not per request.
type sampledLog struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	keys map[string]*sampled
}

type sampled struct {
	last       time.Time
	suppressed int
}

func newSampledLog(every time.Duration, now func() time.Time) *sampledLog {
	return &sampledLog{every: every, now: now, keys: map[string]*sampled{}}
}

// do calls log, with the number of events of key not logged since the last
// call, unless key was logged less than an interval ago. Keys are kept, so
// they must come from a bounded set.
func (l *sampledLog) do(key string, log func(suppressed int)) {
	now := l.now()
	l.mu.Lock()
	s := l.keys[key]
	if s == nil {
		s = &sampled{}
		l.keys[key] = s
	}
	if !s.last.IsZero() && now.Sub(s.last) < l.every {
		s.suppressed++
		l.mu.Unlock()
		return
	}
	n := s.suppressed
	s.last, s.suppressed = now, 0
	l.mu.Unlock()
	log(n)
}
