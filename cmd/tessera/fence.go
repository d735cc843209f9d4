package main

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/tessera-media/tessera/output"
)

// errFenced refuses a write of a node that may have lost its stages.
var errFenced = errors.New("not written: this node's cluster membership is not known valid (fenced)")

// fence is the storage every composition and recording of a cluster node
// writes through: while the node cannot tell it is still a member (its
// control plane's Fenced), nothing is written — a node paused past its
// membership's end and resumed writes nothing to recordings that another
// node has taken over and finalized. The upload spool keeps what is
// refused and tries again.
type fence struct {
	output.Storage
	lister output.Lister
	fenced atomic.Pointer[func() bool] // nil until the control plane exists
}

// newFence wraps st; set the check with check.
func newFence(st output.Storage) *fence {
	f := &fence{Storage: st}
	f.lister, _ = st.(output.Lister)
	return f
}

// check makes fenced decide whether writes are refused.
func (f *fence) check(fenced func() bool) { f.fenced.Store(&fenced) }

// Put implements output.Storage.
func (f *fence) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, contentType string) error {
	if p := f.fenced.Load(); p != nil && (*p)() {
		return errFenced
	}
	return f.Storage.Put(ctx, bucket, key, body, size, contentType)
}

// List implements output.Lister (the storage's own, when it has one).
func (f *fence) List(ctx context.Context, bucket, prefix, after string, max int) ([]output.Object, bool, error) {
	if f.lister == nil {
		return nil, false, errors.ErrUnsupported
	}
	return f.lister.List(ctx, bucket, prefix, after, max)
}

// Open implements output.Lister.
func (f *fence) Open(ctx context.Context, bucket, key string) (io.ReadCloser, output.Object, error) {
	if f.lister == nil {
		return nil, output.Object{}, errors.ErrUnsupported
	}
	return f.lister.Open(ctx, bucket, key)
}
