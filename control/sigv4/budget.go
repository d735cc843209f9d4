package sigv4

import "sync/atomic"

// SmallBody is the size up to which a body draws on the whole of a Budget;
// a larger one may hold at most half of it. Every ivs-realtime request is
// far smaller, so a flood of large unauthenticated bodies never starves the
// API's real clients.
const SmallBody = 16 << 10

// Budget bounds the bytes of request bodies held, across every request that
// shares it, before their signature has been checked: the bodies of
// requests that do not sign X-Amz-Content-Sha256, whose signature can only
// be computed over the whole body. A request takes its bytes as they
// arrive (its buffer, never ahead of the data), and gives them back once it
// is authenticated or refused. A request that finds the budget spent is
// refused with 503 ServiceUnavailableException. The zero Budget holds
// nothing; use NewBudget. A Budget is safe for concurrent use.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// InUse is how many bytes requests hold now.
func (b *Budget) InUse() int64 { return b.used.Load() }

// take reserves n more bytes for a request that then holds total; it fails
// when that would pass the limit (half the limit once total is over
// SmallBody). A nil Budget grants everything.
func (b *Budget) take(n, total int64) bool {
	if b == nil {
		return true
	}
	ceiling := b.limit
	if total > SmallBody {
		ceiling = b.limit / 2
	}
	for {
		used := b.used.Load()
		if used+n > ceiling {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// release gives back n bytes.
func (b *Budget) release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}
