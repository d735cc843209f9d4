package media

import "sync"

// freeList is a bounded stack of reusable values. Unlike sync.Pool it keeps
// what it is given (up to max), so a steady stream never allocates, with or
// without the race detector.
type freeList[T any] struct {
	mu   sync.Mutex
	free []*T
	max  int
}

func (l *freeList[T]) get() *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.free)
	if n == 0 {
		return nil
	}
	v := l.free[n-1]
	l.free[n-1] = nil
	l.free = l.free[:n-1]
	return v
}

func (l *freeList[T]) put(v *T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < l.max {
		l.free = append(l.free, v)
	}
}

// poolDepth is how many idle frames a pool keeps; more are dropped.
const poolDepth = 32

// VideoPool recycles frames of one size, so that a steady stream of frames
// allocates nothing. It is safe for concurrent use.
type VideoPool struct {
	width, height int
	list          freeList[VideoFrame]
}

// NewVideoPool returns a pool of width×height frames.
func NewVideoPool(width, height int) *VideoPool {
	return &VideoPool{width: width, height: height, list: freeList[VideoFrame]{max: poolDepth}}
}

// Get returns a frame of the pool's size; its content is undefined.
func (p *VideoPool) Get() *VideoFrame {
	if f := p.list.get(); f != nil {
		return f
	}
	return NewVideoFrame(p.width, p.height)
}

// Put returns a frame to the pool. Frames of another size are dropped.
func (p *VideoPool) Put(f *VideoFrame) {
	if f != nil && f.Width == p.width && f.Height == p.height {
		p.list.put(f)
	}
}

// AudioPool recycles audio frames of one channel count and length.
type AudioPool struct {
	channels, n int
	list        freeList[AudioFrame]
}

// NewAudioPool returns a pool of frames of n sample frames.
func NewAudioPool(channels, n int) *AudioPool {
	return &AudioPool{channels: channels, n: n, list: freeList[AudioFrame]{max: poolDepth}}
}

// Get returns a frame of the pool's shape; its samples are undefined.
func (p *AudioPool) Get() *AudioFrame {
	if f := p.list.get(); f != nil {
		return f
	}
	return NewAudioFrame(p.channels, p.n)
}

// Put returns a frame to the pool. Frames of another shape are dropped.
func (p *AudioPool) Put(f *AudioFrame) {
	if f != nil && f.Channels == p.channels && len(f.Samples) == p.channels*p.n {
		p.list.put(f)
	}
}
