package control

import (
	"sync"
	"time"
)

// RateLimit is the API's request rate limit: a token bucket per access key
// and operation, refilled at the operation's rate. A call that finds its
// bucket empty is refused with a ThrottlingException (429, "Rate exceeded"),
// which the SDKs retry with backoff.
type RateLimit struct {
	// TPS, when positive, is every operation's rate in calls per second
	// per access key; otherwise each operation has IVS's quota (IVSTPS).
	TPS float64
	// Burst is how many calls a bucket holds, the calls allowed at once
	// after a quiet spell; 0 means DefaultBurstSeconds of the rate.
	Burst int
}

// DefaultBurstSeconds is how many seconds of its rate a bucket holds by
// default: a client may poll faster than the rate for a while (as the
// SDKs' waiters and tests do), never for long.
const DefaultBurstSeconds = 10

// IVSTPS returns IVS's call rate quota of an operation, in calls per second
// (Amazon IVS Real-Time service quotas): 50 for CreateParticipantToken, 10
// for the tag operations, 3 for the public key operations, 5 for every
// other.
func IVSTPS(operation string) float64 {
	switch operation {
	case "CreateParticipantToken":
		return 50
	case "TagResource", "UntagResource", "ListTagsForResource":
		return 10
	case "ImportPublicKey", "GetPublicKey", "ListPublicKeys", "DeletePublicKey":
		return 3
	}
	return 5
}

// rate is an operation's calls per second.
func (l RateLimit) rate(operation string) float64 {
	if l.TPS > 0 {
		return l.TPS
	}
	return IVSTPS(operation)
}

// burst is how many calls an operation's bucket holds.
func (l RateLimit) burst(operation string) float64 {
	if l.Burst > 0 {
		return float64(l.Burst)
	}
	return max(1, DefaultBurstSeconds*l.rate(operation))
}

// throttle holds the buckets. Buckets exist only for authenticated access
// keys and served operations, so their number is bounded by the
// configuration.
type throttle struct {
	limit RateLimit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[throttleKey]*bucket
}

type throttleKey struct{ accessKey, operation string }

// bucket is a token bucket: tokens as of at.
type bucket struct {
	tokens float64
	at     time.Time
}

func newThrottle(limit RateLimit, now func() time.Time) *throttle {
	return &throttle{limit: limit, now: now, buckets: map[throttleKey]*bucket{}}
}

// allow takes a token from the access key's bucket for the operation and
// reports whether there was one. A nil throttle allows everything.
func (t *throttle) allow(accessKey, operation string) bool {
	if t == nil {
		return true
	}
	now := t.now()
	burst := t.limit.burst(operation)
	t.mu.Lock()
	defer t.mu.Unlock()
	k := throttleKey{accessKey, operation}
	b := t.buckets[k]
	if b == nil {
		b = &bucket{tokens: burst, at: now}
		t.buckets[k] = b
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(burst, b.tokens+elapsed.Seconds()*t.limit.rate(operation))
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
