package output

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tessera-media/tessera/internal/durable"
)

// Spool errors.
var (
	// ErrSpoolFull is returned by Enqueue when the object would take the
	// spool past SpoolOptions.MaxBytes. Nothing was queued; the caller
	// decides what to do (a recording drops the segment and says so).
	ErrSpoolFull = errors.New("output: upload spool full")
	// ErrSpoolClosed is returned by Enqueue and Drain after Close.
	ErrSpoolClosed = errors.New("output: upload spool closed")
	// ErrSpoolInUse is returned by NewSpool for a folder that an open Spool
	// of this process already uses.
	ErrSpoolInUse = errors.New("output: upload spool folder already in use")
)

// Spool defaults.
const (
	DefaultSpoolMaxBytes   = 1 << 30 // 1 GiB
	DefaultSpoolMinBackoff = 100 * time.Millisecond
	DefaultSpoolMaxBackoff = 30 * time.Second
)

// SpoolOptions configures a Spool. Zero values take the defaults.
type SpoolOptions struct {
	// Name identifies the spool in logs (a destination id; never a URL or
	// a credential).
	Name string
	// MaxBytes bounds the bytes waiting on disk (default 1 GiB; < 0: no
	// bound). Enqueue past it fails with ErrSpoolFull.
	MaxBytes int64
	// MinBackoff and MaxBackoff bound the wait between failed attempts:
	// it doubles from MinBackoff up to MaxBackoff, with jitter (defaults
	// 100 ms and 30 s).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	Logger     *slog.Logger  // default slog.Default()
	Metrics    *SpoolMetrics // nil: not counted
}

// Spool is a durable upload queue in front of a Storage: nothing handed to
// it is lost while storage is unreachable or the process restarts.
//
// Enqueue writes the object to the spool folder and syncs it before it
// returns; one worker goroutine then uploads the queued objects strictly in
// the order they were enqueued (so segments reach storage before the
// playlist that lists them), one at a time, retrying each failed attempt
// after an exponential backoff with jitter — for ever: while storage is
// down the spool grows, up to MaxBytes, and every failure is logged and
// counted. When the upload succeeds, the object's files are removed and its
// onUploaded callback runs. Delivery is at least once: an object whose
// upload storage completed just before a crash or a Close is uploaded again
// by the next Spool on the folder, which is harmless since a Put replaces.
//
// When the spool holds MaxBytes, Enqueue refuses with ErrSpoolFull (logged
// once per episode, every refusal counted) and queues nothing: the caller
// decides whether to drop the object or fail; the spool never drops what it
// accepted.
//
// Use one Spool, with its own folder, per destination: a bucket that keeps
// refusing holds up everything queued behind it.
//
// # On-disk layout
//
// The spool folder holds, per queued object, two files named by a
// 20-digit, zero-padded sequence number that increases with every Enqueue:
//
//	00000000000000000042.data   the object's bytes
//	00000000000000000042.meta   JSON: {"v":1,"bucket":…,"key":…,"contentType":…,"size":…,"enqueued":…}
//
// The ".data" file is written durably (internal/durable: a temporary file,
// synced, renamed into place, the folder synced; EnqueueFile syncs the
// caller's file and moves it there instead), then the ".meta" file the
// same way: the ".meta" file commits the object. NewSpool removes
// temporary files and ".data" files without a ".meta" (Enqueue never
// returned for them), abandons (logs, counts, removes) objects whose data
// file is missing or of the wrong size, and queues the rest in sequence
// order.
// Callbacks do not survive a restart. Other files in the folder are left
// alone. Close removes the folder when it holds nothing.
type Spool struct {
	dir  string
	st   Storage
	opts SpoolOptions
	log  *slog.Logger

	enqMu sync.Mutex // serializes Enqueue and EnqueueFile, so queue order is sequence order

	mu         sync.Mutex
	queue      []*spoolItem // waiting, in sequence order; queue[0] is the one being uploaded
	bytes      int64
	nextSeq    uint64
	closed     bool
	full       bool          // the last Enqueue was refused: log the next refusal only after an acceptance
	inCallback bool          // the worker is running a callback...
	cbAnchor   uint64        // ...of an object whose Drain anchor is this
	changed    chan struct{} // closed (and replaced) whenever the queue makes progress
	failures   int           // consecutive failed attempts
	failingAt  time.Time     // first of them
	lastErr    error

	recovered map[string]bool // bucket/key of the objects recover queued; read-only after NewSpool

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

type spoolItem struct {
	seq uint64
	// anchor is the sequence number Drain waits on this object for: its
	// own, or, for an object enqueued from an onUploaded callback, that of
	// the object whose callback it was.
	anchor     uint64
	meta       spoolMeta
	onUploaded func()
}

type spoolMeta struct {
	Version     int       `json:"v"`
	Bucket      string    `json:"bucket"`
	Key         string    `json:"key"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	Enqueued    time.Time `json:"enqueued"`
}

// SpoolStats is a snapshot of a Spool.
type SpoolStats struct {
	Items     int   // objects not yet uploaded
	Bytes     int64 // their size
	Failures  int   // consecutive failed attempts (0 while uploads succeed)
	LastError error // the last failed attempt's error, nil after a success
}

// openSpools holds the folders of the open spools of this process.
var openSpools sync.Map

// NewSpool opens (creating it if needed) the spool folder dir and starts
// uploading to st: first whatever a previous Spool left in dir, then what
// Enqueue adds. Two spools must not share a folder (within this process,
// NewSpool refuses with ErrSpoolInUse).
func NewSpool(dir string, st Storage, opts SpoolOptions) (*Spool, error) {
	if st == nil {
		return nil, errors.New("output: spool needs a storage")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("output: spool: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("output: spool: %w", err)
	}
	if _, loaded := openSpools.LoadOrStore(abs, true); loaded {
		return nil, fmt.Errorf("%w: %s", ErrSpoolInUse, abs)
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultSpoolMaxBytes
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultSpoolMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultSpoolMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("spool", opts.Name)
	s := &Spool{
		dir:     abs,
		st:      st,
		opts:    opts,
		log:     log,
		nextSeq: 1,
		changed: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if err := s.recover(); err != nil {
		openSpools.Delete(abs)
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// recover queues what a previous Spool left in the folder.
func (s *Spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("output: spool: %w", err)
	}
	metas := map[uint64]bool{}
	datas := map[uint64]int64{}
	for _, e := range entries {
		name := e.Name()
		if durable.IsTemp(name) {
			os.Remove(filepath.Join(s.dir, name))
			continue
		}
		seq, ext, ok := parseSpoolName(name)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		s.nextSeq = max(s.nextSeq, seq+1)
		switch ext {
		case ".meta":
			metas[seq] = true
		case ".data":
			info, err := e.Info()
			if err != nil {
				return fmt.Errorf("output: spool: %w", err)
			}
			datas[seq] = info.Size()
		}
	}
	for seq := range datas {
		if !metas[seq] {
			os.Remove(s.path(seq, ".data")) // never committed
		}
	}
	for _, seq := range slices.Sorted(maps.Keys(metas)) {
		it := &spoolItem{seq: seq, anchor: seq}
		b, err := os.ReadFile(s.path(seq, ".meta"))
		if err == nil {
			err = json.Unmarshal(b, &it.meta)
		}
		if err == nil && it.meta.Version != 1 {
			err = fmt.Errorf("unknown format version %d", it.meta.Version)
		}
		if err == nil {
			err = ValidateObjectName(it.meta.Bucket, it.meta.Key)
		}
		if size, ok := datas[seq]; err == nil && (!ok || size != it.meta.Size) {
			err = fmt.Errorf("data file missing or of %d bytes, want %d", size, it.meta.Size)
		}
		if err != nil {
			s.log.Error("spool: abandoning a damaged object", "seq", seq, "bucket", it.meta.Bucket, "key", it.meta.Key, "err", err)
			s.opts.Metrics.drop(it.meta.Bucket)
			s.remove(seq)
			continue
		}
		s.queue = append(s.queue, it)
		s.bytes += it.meta.Size
		s.opts.Metrics.queued(it.meta.Bucket, 1, it.meta.Size)
	}
	if len(s.queue) > 0 {
		s.log.Info("spool: resuming uploads left from before", "items", len(s.queue), "bytes", s.bytes)
		s.recovered = make(map[string]bool, len(s.queue))
		for _, it := range s.queue {
			s.recovered[it.meta.Bucket+"/"+it.meta.Key] = true
			s.opts.Metrics.recover(it.meta.Bucket, it.meta.Size)
		}
	}
	return nil
}

func parseSpoolName(name string) (seq uint64, ext string, ok bool) {
	ext = filepath.Ext(name)
	if ext != ".data" && ext != ".meta" {
		return 0, "", false
	}
	base := strings.TrimSuffix(name, ext)
	if len(base) != 20 {
		return 0, "", false
	}
	seq, err := strconv.ParseUint(base, 10, 64)
	return seq, ext, err == nil
}

func (s *Spool) path(seq uint64, ext string) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, ext))
}

// remove deletes an object's files, the commit marker first.
func (s *Spool) remove(seq uint64) {
	for _, ext := range []string{".meta", ".data"} {
		if err := os.Remove(s.path(seq, ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("spool: cannot remove a file", "err", err)
		}
	}
}

// Enqueue queues data for upload as bucket/key (contentType "" means
// ContentTypeFor(key)). It returns once data is safely on disk; onUploaded
// (may be nil) runs on the spool's worker goroutine once the object is in
// storage — it must be quick, may call Enqueue, and must not call Close or
// Drain. Errors: ErrSpoolFull (nothing queued, counted and logged),
// ErrSpoolClosed, an invalid name (ErrInvalidName) or a local disk error.
func (s *Spool) Enqueue(bucket, key string, data []byte, contentType string, onUploaded func()) error {
	return s.enqueue(bucket, key, contentType, int64(len(data)), onUploaded, func(dst string) error {
		return durable.WriteFile(dst, data, 0o600)
	}, nil)
}

// EnqueueFile is Enqueue for the contents of the file at path, which the
// spool takes over: the file is moved into the spool folder (copied, then
// removed, when it is on another file system). On error the file stays
// where it was.
func (s *Spool) EnqueueFile(bucket, key, path, contentType string, onUploaded func()) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("output: spool: %w", err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("output: spool: %s is not a regular file", path)
	}
	moved := false
	err = s.enqueue(bucket, key, contentType, info.Size(), onUploaded, func(dst string) error {
		if err := durable.Sync(path); err != nil {
			return err
		}
		err := os.Rename(path, dst)
		if err == nil {
			moved = true
			if now, err := os.Stat(dst); err != nil || now.Size() != info.Size() {
				return fmt.Errorf("%s changed while being enqueued", path)
			}
			return nil
		}
		if !errors.Is(err, syscall.EXDEV) {
			return err
		}
		return copyFile(dst, path, info.Size())
	}, func(dst string) {
		if moved { // put it back
			if os.Rename(dst, path) == nil {
				moved = false
			}
		}
	})
	if err == nil && !moved {
		if err := os.Remove(path); err != nil {
			s.log.Warn("spool: cannot remove an enqueued file", "err", err)
		}
	}
	return err
}

// enqueue queues an object of size bytes that write puts at dst. When a
// later step fails, undo (if not nil) gets the chance to take back the data
// file before it is removed.
func (s *Spool) enqueue(bucket, key, contentType string, size int64, onUploaded func(), write func(dst string) error, undo func(dst string)) error {
	if err := ValidateObjectName(bucket, key); err != nil {
		return err
	}
	if contentType == "" {
		contentType = ContentTypeFor(key)
	}
	s.enqMu.Lock()
	defer s.enqMu.Unlock()

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrSpoolClosed
	}
	if s.opts.MaxBytes >= 0 && s.bytes+size > s.opts.MaxBytes {
		first := !s.full
		s.full = true
		items, bytes := len(s.queue), s.bytes
		s.mu.Unlock()
		s.opts.Metrics.reject(bucket)
		if first {
			s.log.Error("spool: full, refusing objects until uploads catch up",
				"bucket", bucket, "key", key, "size", size, "items", items, "bytes", bytes, "max_bytes", s.opts.MaxBytes)
		}
		return fmt.Errorf("%w (%d bytes queued, %d more refused, limit %d)", ErrSpoolFull, bytes, size, s.opts.MaxBytes)
	}
	if s.full {
		s.full = false
		s.log.Info("spool: accepting objects again", "items", len(s.queue), "bytes", s.bytes)
	}
	seq := s.nextSeq
	s.nextSeq++
	s.mu.Unlock()

	meta, err := json.Marshal(spoolMeta{Version: 1, Bucket: bucket, Key: key, ContentType: contentType, Size: size, Enqueued: time.Now().UTC()})
	if err != nil {
		return err
	}
	data := s.path(seq, ".data")
	err = write(data)
	if err == nil {
		// Its folder sync also makes a moved data file's new name durable.
		err = durable.WriteFile(s.path(seq, ".meta"), meta, 0o600)
	}
	if err != nil {
		os.Remove(s.path(seq, ".meta"))
		if undo != nil {
			undo(data)
		}
		os.Remove(data)
		return fmt.Errorf("output: spool %s/%s: %w", bucket, key, err)
	}

	s.mu.Lock()
	anchor := seq
	if s.inCallback {
		anchor = s.cbAnchor
	}
	s.queue = append(s.queue, &spoolItem{
		seq:        seq,
		anchor:     anchor,
		meta:       spoolMeta{Bucket: bucket, Key: key, ContentType: contentType, Size: size},
		onUploaded: onUploaded,
	})
	s.bytes += size
	s.opts.Metrics.queued(bucket, 1, size)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// copyFile durably copies size bytes of the file src to dst.
func copyFile(dst, src string, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return durable.Write(dst, 0o600, func(w io.Writer) error {
		n, err := io.Copy(w, io.LimitReader(in, size))
		if err == nil && n != size {
			err = fmt.Errorf("%s changed while being copied", src)
		}
		return err
	})
}

// Drain waits until the objects enqueued before the call — and those their
// onUploaded callbacks enqueue — are uploaded and their callbacks have run.
// It gives up when ctx ends, with an error that wraps ctx.Err() and tells
// what is left and the last upload error. After Close it returns
// ErrSpoolClosed unless those objects were already uploaded.
func (s *Spool) Drain(ctx context.Context) error {
	s.mu.Lock()
	target := s.nextSeq - 1
	s.mu.Unlock()
	for {
		s.mu.Lock()
		left, bytes := 0, int64(0)
		for _, it := range s.queue {
			if it.anchor <= target {
				left++
				bytes += it.meta.Size
			}
		}
		if left == 0 && !(s.inCallback && s.cbAnchor <= target) {
			s.mu.Unlock()
			return nil
		}
		if s.closed {
			s.mu.Unlock()
			return ErrSpoolClosed
		}
		changed, lastErr := s.changed, s.lastErr
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("output: spool drain: %d objects (%d bytes) not uploaded, last upload error: %v: %w", left, bytes, lastErr, ctx.Err())
			}
			return fmt.Errorf("output: spool drain: %d objects (%d bytes) not uploaded: %w", left, bytes, ctx.Err())
		}
	}
}

// Stats returns the spool's current state.
func (s *Spool) Stats() SpoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SpoolStats{Items: len(s.queue), Bytes: s.bytes, Failures: s.failures, LastError: s.lastErr}
}

// Recovered reports whether bucket/key was among the objects NewSpool
// found in the folder and queued (uploaded since, or still waiting).
func (s *Spool) Recovered(bucket, key string) bool {
	return s.recovered[bucket+"/"+key]
}

// Close stops the worker, interrupting an upload in progress, and releases
// the folder. What is not uploaded stays on disk for the next NewSpool on
// the folder; callbacks are not called any more. A folder left empty is
// removed. To finish uploading first, call Drain. Close must not be called
// from an onUploaded callback.
func (s *Spool) Close() error {
	s.enqMu.Lock() // let an Enqueue in progress finish
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.enqMu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.enqMu.Unlock()

	s.cancel()
	<-s.done

	s.mu.Lock()
	for _, it := range s.queue {
		s.opts.Metrics.queued(it.meta.Bucket, -1, -it.meta.Size)
	}
	s.broadcast()
	empty := len(s.queue) == 0
	s.mu.Unlock()
	if empty {
		// Fails, harmlessly, if something else lives there.
		if os.Remove(s.dir) == nil {
			_ = durable.Sync(filepath.Dir(s.dir))
		}
	}
	openSpools.Delete(s.dir)
	return nil
}

// broadcast wakes the Drain calls; s.mu must be held.
func (s *Spool) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// run is the worker: it uploads the head of the queue until Close.
func (s *Spool) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		var it *spoolItem
		if len(s.queue) > 0 {
			it = s.queue[0]
		}
		s.mu.Unlock()
		if it == nil {
			select {
			case <-s.wake:
			case <-s.ctx.Done():
			}
			continue
		}

		err := s.upload(it)
		if s.ctx.Err() != nil {
			return // closing: the object stays queued on disk
		}
		var local *spoolLocalError
		switch {
		case err == nil:
			s.complete(it)
		case errors.As(err, &local) || errors.Is(err, ErrInvalidName):
			s.log.Error("spool: abandoning an object that cannot be uploaded", "bucket", it.meta.Bucket, "key", it.meta.Key, "err", err)
			s.opts.Metrics.drop(it.meta.Bucket)
			s.finish(it, false)
		default:
			s.retryAfter(it, err)
		}
	}
}

// spoolLocalError is a problem with an object's file in the spool, which
// no retry fixes.
type spoolLocalError struct{ err error }

func (e *spoolLocalError) Error() string { return "spool file: " + e.err.Error() }
func (e *spoolLocalError) Unwrap() error { return e.err }

func (s *Spool) upload(it *spoolItem) error {
	f, err := os.Open(s.path(it.seq, ".data"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &spoolLocalError{err}
		}
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() != it.meta.Size {
		return &spoolLocalError{fmt.Errorf("%d bytes, want %d", info.Size(), it.meta.Size)}
	}
	return s.st.Put(s.ctx, it.meta.Bucket, it.meta.Key, io.NewSectionReader(f, 0, it.meta.Size), it.meta.Size, it.meta.ContentType)
}

// complete finishes an uploaded object: files, counters, callback.
func (s *Spool) complete(it *spoolItem) {
	s.mu.Lock()
	s.opts.Metrics.uploaded(it.meta.Bucket)
	if s.failures > 0 {
		s.log.Info("spool: uploads resumed",
			"failed_attempts", s.failures, "outage", time.Since(s.failingAt).Round(time.Millisecond), "items", len(s.queue), "bytes", s.bytes)
	}
	s.failures, s.lastErr = 0, nil
	s.mu.Unlock()
	s.finish(it, true)
}

// finish takes the head object off the queue and, if uploaded, runs its
// callback.
func (s *Spool) finish(it *spoolItem, uploaded bool) {
	s.remove(it.seq)
	s.mu.Lock()
	s.queue = s.queue[1:]
	s.bytes -= it.meta.Size
	s.opts.Metrics.queued(it.meta.Bucket, -1, -it.meta.Size)
	callback := uploaded && it.onUploaded != nil
	if callback {
		s.inCallback, s.cbAnchor = true, it.anchor
	} else {
		s.broadcast()
	}
	s.mu.Unlock()
	if callback {
		defer func() {
			s.mu.Lock()
			s.inCallback = false
			s.broadcast()
			s.mu.Unlock()
		}()
		it.onUploaded()
	}
}

// retryAfter counts and logs a failed attempt and waits the backoff.
func (s *Spool) retryAfter(it *spoolItem, err error) {
	s.mu.Lock()
	s.opts.Metrics.failed(it.meta.Bucket)
	if s.failures == 0 {
		s.failingAt = time.Now()
	}
	s.failures++
	s.lastErr = err
	attempt, items, bytes := s.failures, len(s.queue), s.bytes
	s.broadcast() // Drain reports the error
	s.mu.Unlock()
	wait := s.backoff(attempt)
	s.log.Warn("spool: upload failed, will retry",
		"bucket", it.meta.Bucket, "key", it.meta.Key, "attempt", attempt, "retry_in", wait.Round(time.Millisecond),
		"items", items, "bytes", bytes, "err", err)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}

// backoff is the wait after the attempt-th consecutive failure: doubling
// from MinBackoff, capped at MaxBackoff, the upper half jittered.
func (s *Spool) backoff(attempt int) time.Duration {
	d := s.opts.MaxBackoff
	if attempt < 40 {
		d = min(s.opts.MinBackoff<<(attempt-1), s.opts.MaxBackoff)
		if d <= 0 { // overflow
			d = s.opts.MaxBackoff
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
