package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// spoolTestOptions: short backoffs, logs to the test.
func spoolTestOptions(t *testing.T, m *SpoolMetrics) SpoolOptions {
	return SpoolOptions{
		Name:       "dest-test",
		MinBackoff: 2 * time.Millisecond,
		MaxBackoff: 20 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(spoolTestLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:    m,
	}
}

type spoolTestLog struct{ t *testing.T }

func (l spoolTestLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func newSpoolTestMetrics(t *testing.T) (*SpoolMetrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewSpoolMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// spoolMetric reads one series of a spool metric.
func spoolMetric(t *testing.T, c prometheus.Collector, bucket string) float64 {
	t.Helper()
	var m dto.Metric
	switch v := c.(type) {
	case *prometheus.GaugeVec:
		if err := v.WithLabelValues(bucket).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetGauge().GetValue()
	case *prometheus.CounterVec:
		if err := v.WithLabelValues(bucket).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("unexpected collector %T", c)
	return 0
}

// lastVersions maps each key to the body of its last version.
func lastVersions(keys []string, bodies [][]byte) map[string][]byte {
	last := map[string][]byte{}
	for i, k := range keys {
		last[k] = bodies[i]
	}
	return last
}

func mustNewSpool(t *testing.T, dir string, st Storage, opts SpoolOptions) *Spool {
	t.Helper()
	s, err := NewSpool(dir, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func drainWithin(t *testing.T, s *Spool, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

// spoolFiles lists the spool folder.
func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// recordingObjects are what an HLS recording writes, in the order it
// writes them.
func recordingObjects(n int) (keys []string, bodies [][]byte) {
	const dir = "stage/comp/dest/composite/media/hls/720p30-abc/"
	keys = append(keys, "stage/comp/dest/composite/events/recording-started.json")
	bodies = append(bodies, []byte(`{"version":"v1"}`))
	for i := range n {
		keys = append(keys, fmt.Sprintf("%s%d.ts", dir, i))
		bodies = append(bodies, bytes.Repeat([]byte{byte(i)}, 1000+i))
		keys = append(keys, dir+"playlist.m3u8")
		bodies = append(bodies, fmt.Appendf(nil, "#EXTM3U\n#segments %d\n", i+1))
	}
	keys = append(keys, "stage/comp/dest/composite/media/thumbnails/1280x720/0.jpg")
	bodies = append(bodies, []byte("\xff\xd8jpeg"))
	return keys, bodies
}

func TestSpoolUploadsInOrder(t *testing.T) {
	f := newGofakeServer(t, "rec")
	m, _ := newSpoolTestMetrics(t)
	dir := t.TempDir()
	s := mustNewSpool(t, filepath.Join(dir, "spool"), f.storage(t), spoolTestOptions(t, m))

	keys, bodies := recordingObjects(5)
	var mu sync.Mutex
	var uploaded []string
	for i, key := range keys {
		cb := func() {
			mu.Lock()
			uploaded = append(uploaded, key)
			mu.Unlock()
		}
		if i%2 == 1 { // segments come as files, the rest as bytes
			src := filepath.Join(dir, fmt.Sprintf("seg%d.ts", i))
			if err := os.WriteFile(src, bodies[i], 0o644); err != nil {
				t.Fatal(err)
			}
			if err := s.EnqueueFile("rec", key, src, "", cb); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(src); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("EnqueueFile left %s in place (%v)", src, err)
			}
		} else if err := s.Enqueue("rec", key, bodies[i], "", cb); err != nil {
			t.Fatal(err)
		}
	}
	drainWithin(t, s, 5*time.Second)

	want := make([]string, len(keys))
	for i, k := range keys {
		want[i] = "rec/" + k
	}
	if got := f.putKeys(); !slices.Equal(got, want) {
		t.Errorf("upload order:\n got %q\nwant %q", got, want)
	}
	mu.Lock()
	if !slices.Equal(uploaded, keys) {
		t.Errorf("callbacks: %q", uploaded)
	}
	mu.Unlock()
	f.mu.Lock()
	puts := slices.Clone(f.puts)
	f.mu.Unlock()
	for _, p := range puts {
		if p.ACL != "bucket-owner-full-control" {
			t.Errorf("%s sent with x-amz-acl %q", p.Key, p.ACL)
		}
		if want := ContentTypeFor(p.Key); p.ContentType != want {
			t.Errorf("%s sent as %q, want %q", p.Key, p.ContentType, want)
		}
	}
	// The storage holds the last version of each key.
	for k, body := range lastVersions(keys, bodies) {
		if data, _ := f.object(t, "rec", k); !bytes.Equal(data, body) {
			t.Errorf("%s: %q, want %q", k, data, body)
		}
	}
	if names := spoolFiles(t, filepath.Join(dir, "spool")); len(names) != 0 {
		t.Errorf("spool folder not empty after Drain: %v", names)
	}
	if st := s.Stats(); st.Items != 0 || st.Bytes != 0 || st.Failures != 0 {
		t.Errorf("stats after Drain: %+v", st)
	}
	if v := spoolMetric(t, m.uploads, "rec"); v != float64(len(keys)) {
		t.Errorf("tessera_uploads_total = %v, want %d", v, len(keys))
	}
	if v := spoolMetric(t, m.depth, "rec"); v != 0 {
		t.Errorf("tessera_upload_queue_depth = %v after Drain", v)
	}
}

func TestSpoolRidesOutAnOutage(t *testing.T) {
	f := newGofakeServer(t, "rec")
	m, _ := newSpoolTestMetrics(t)
	s := mustNewSpool(t, t.TempDir(), f.storage(t), spoolTestOptions(t, m))
	keys, bodies := recordingObjects(4)

	f.setOutage(gofakeUnavailable)
	var total int64
	for i, key := range keys {
		if err := s.Enqueue("rec", key, bodies[i], "", nil); err != nil {
			t.Fatal(err)
		}
		total += int64(len(bodies[i]))
	}
	testsrv.WaitFor(t, 5*time.Second, "retries against 503", func() bool { return s.Stats().Failures >= 3 })
	f.setOutage(gofakeHangUp)
	before := f.refused()
	testsrv.WaitFor(t, 5*time.Second, "retries against hang-ups", func() bool { return f.refused() >= before+3 && s.Stats().Failures >= 6 })

	st := s.Stats()
	if st.Items != len(keys) || st.Bytes != total || st.LastError == nil {
		t.Errorf("during the outage: %+v, want %d items, %d bytes and an error", st, len(keys), total)
	}
	if v := spoolMetric(t, m.depth, "rec"); v != float64(len(keys)) {
		t.Errorf("tessera_upload_queue_depth = %v, want %d", v, len(keys))
	}
	if v := spoolMetric(t, m.bytes, "rec"); v != float64(total) {
		t.Errorf("tessera_upload_queue_bytes = %v, want %d", v, total)
	}
	if v := spoolMetric(t, m.failures, "rec"); v < 6 {
		t.Errorf("tessera_upload_failures_total = %v, want ≥ 6", v)
	}
	// Drain gives up with the context and says why.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	err := s.Drain(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not uploaded") {
		t.Errorf("Drain during the outage: %v", err)
	}
	if got := f.putKeys(); len(got) != 0 {
		t.Errorf("uploaded during the outage: %q", got)
	}

	f.setOutage(gofakeUp)
	drainWithin(t, s, 5*time.Second)
	want := make([]string, len(keys))
	for i, k := range keys {
		want[i] = "rec/" + k
	}
	if got := f.putKeys(); !slices.Equal(got, want) {
		t.Errorf("after the outage:\n got %q\nwant %q", got, want)
	}
	if st := s.Stats(); st.Items != 0 || st.Failures != 0 || st.LastError != nil {
		t.Errorf("after the outage: %+v", st)
	}
	if v := spoolMetric(t, m.depth, "rec"); v != 0 {
		t.Errorf("tessera_upload_queue_depth = %v after recovery", v)
	}
	if v := spoolMetric(t, m.bytes, "rec"); v != 0 {
		t.Errorf("tessera_upload_queue_bytes = %v after recovery", v)
	}
}

func TestSpoolResumesAfterRestart(t *testing.T) {
	f := newGofakeServer(t, "rec")
	m, _ := newSpoolTestMetrics(t)
	dir := t.TempDir()
	keys, bodies := recordingObjects(3)

	// Storage is down: nothing listens on its port. (An outage of the
	// fake itself could let a request that Close abandoned reach it after
	// it came back: harmless, an object uploaded twice, but not this test.)
	s, err := NewSpool(dir, testS3Storage(t, closedEndpoint(t)), spoolTestOptions(t, m))
	if err != nil {
		t.Fatal(err)
	}
	var called atomic.Int32
	for i, key := range keys {
		if err := s.Enqueue("rec", key, bodies[i], "", func() { called.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	testsrv.WaitFor(t, 5*time.Second, "a failed attempt", func() bool { return s.Stats().Failures > 0 })
	if _, err := NewSpool(dir, f.storage(t), spoolTestOptions(t, m)); !errors.Is(err, ErrSpoolInUse) {
		t.Errorf("second spool on an open folder: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue("rec", "late.json", []byte("{}"), "", nil); !errors.Is(err, ErrSpoolClosed) {
		t.Errorf("Enqueue after Close: %v", err)
	}
	if err := s.Drain(context.Background()); !errors.Is(err, ErrSpoolClosed) {
		t.Errorf("Drain after Close: %v", err)
	}
	if v := spoolMetric(t, m.depth, "rec"); v != 0 {
		t.Errorf("tessera_upload_queue_depth = %v after Close", v)
	}
	if n := len(spoolFiles(t, dir)); n != 2*len(keys) {
		t.Fatalf("%d files in the spool after Close, want %d", n, 2*len(keys))
	}

	// What a crash leaves: a temporary file, a data file never committed,
	// an object whose data is damaged, and a stranger's file.
	os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("partial"), 0o644)
	os.WriteFile(filepath.Join(dir, "00000000000000000900.data"), []byte("uncommitted"), 0o644)
	os.WriteFile(filepath.Join(dir, "00000000000000000800.data"), []byte("short"), 0o644)
	os.WriteFile(filepath.Join(dir, "00000000000000000800.meta"), []byte(`{"v":1,"bucket":"rec","key":"damaged.ts","size":999}`), 0o644)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not ours"), 0o644)

	s2 := mustNewSpool(t, dir, f.storage(t), spoolTestOptions(t, m))
	if !s2.Recovered("rec", keys[0]) || s2.Recovered("rec", "damaged.ts") {
		t.Errorf("Recovered: %v for a left object, %v for the damaged one", s2.Recovered("rec", keys[0]), s2.Recovered("rec", "damaged.ts"))
	}
	if v := spoolMetric(t, m.recovered, "rec"); v != float64(len(keys)) {
		t.Errorf("tessera_upload_recovered_total = %v, want %d", v, len(keys))
	}
	if err := s2.Enqueue("rec", "after-restart.json", []byte("{}"), "", nil); err != nil {
		t.Fatal(err)
	}
	drainWithin(t, s2, 5*time.Second)
	var want []string
	for _, k := range keys {
		want = append(want, "rec/"+k)
	}
	want = append(want, "rec/after-restart.json")
	if got := f.putKeys(); !slices.Equal(got, want) {
		t.Errorf("after restart:\n got %q\nwant %q", got, want)
	}
	if n := called.Load(); n != 0 {
		t.Errorf("%d callbacks of the closed spool ran", n)
	}
	if names := spoolFiles(t, dir); !slices.Equal(names, []string{"README"}) {
		t.Errorf("spool folder after draining: %v", names)
	}
	s2.Close()
	if names := spoolFiles(t, dir); !slices.Equal(names, []string{"README"}) {
		t.Errorf("spool folder with a stranger's file after Close: %v", names)
	}
	if v := spoolMetric(t, m.dropped, "rec"); v != 1 {
		t.Errorf("tessera_upload_dropped_total = %v, want 1 (the damaged object)", v)
	}
	for k, body := range lastVersions(keys, bodies) {
		if data, ct := f.object(t, "rec", k); !bytes.Equal(data, body) || ct != ContentTypeFor(k) {
			t.Errorf("%s: %d bytes %q after restart, want %d bytes", k, len(data), ct, len(body))
		}
	}
}

// Close removes the folder of a spool that uploaded everything, and keeps
// that of one with objects left.
func TestSpoolCloseRemovesAnEmptyFolder(t *testing.T) {
	f := newGofakeServer(t, "rec")
	dir := filepath.Join(t.TempDir(), "spool")
	s := mustNewSpool(t, dir, f.storage(t), spoolTestOptions(t, nil))
	if err := s.Enqueue("rec", "a.json", []byte("{}"), "", nil); err != nil {
		t.Fatal(err)
	}
	drainWithin(t, s, 5*time.Second)
	s.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("empty spool folder after Close: %v", err)
	}
	s = mustNewSpool(t, dir, testS3Storage(t, closedEndpoint(t)), spoolTestOptions(t, nil))
	if err := s.Enqueue("rec", "b.json", []byte("{}"), "", nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if n := len(spoolFiles(t, dir)); n != 2 {
		t.Errorf("%d files in the spool folder after Close, want 2", n)
	}
}

func TestSpoolMaxBytes(t *testing.T) {
	f := newGofakeServer(t, "rec")
	m, _ := newSpoolTestMetrics(t)
	opts := spoolTestOptions(t, m)
	opts.MaxBytes = 100
	s := mustNewSpool(t, t.TempDir(), f.storage(t), opts)

	f.setOutage(gofakeUnavailable)
	if err := s.Enqueue("rec", "a.ts", make([]byte, 60), "", nil); err != nil {
		t.Fatal(err)
	}
	err := s.Enqueue("rec", "b.ts", make([]byte, 50), "", nil)
	if !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("Enqueue past MaxBytes: %v", err)
	}
	if err := s.Enqueue("rec", "c.ts", make([]byte, 101), "", nil); !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("Enqueue of an object larger than MaxBytes: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.ts")
	os.WriteFile(big, make([]byte, 41), 0o644)
	if err := s.EnqueueFile("rec", "big.ts", big, "", nil); !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("EnqueueFile past MaxBytes: %v", err)
	}
	if _, err := os.Stat(big); err != nil {
		t.Errorf("a refused EnqueueFile lost the file: %v", err)
	}
	if err := s.Enqueue("rec", "d.ts", make([]byte, 40), "", nil); err != nil {
		t.Fatalf("Enqueue up to MaxBytes: %v", err)
	}
	if v := spoolMetric(t, m.rejected, "rec"); v != 3 {
		t.Errorf("tessera_upload_rejected_total = %v, want 3", v)
	}
	if st := s.Stats(); st.Items != 2 || st.Bytes != 100 {
		t.Errorf("stats: %+v", st)
	}
	f.setOutage(gofakeUp)
	drainWithin(t, s, 5*time.Second)
	if got := f.putKeys(); !slices.Equal(got, []string{"rec/a.ts", "rec/d.ts"}) {
		t.Errorf("uploaded %q", got)
	}
	if err := s.Enqueue("rec", "e.ts", make([]byte, 100), "", nil); err != nil {
		t.Errorf("Enqueue after draining: %v", err)
	}
	drainWithin(t, s, 5*time.Second)
}

// The playlist is enqueued from the segment's callback; Drain waits for it
// too, which is how a stopped recording finishes before reporting STOPPED.
func TestSpoolDrainWaitsForCallbackEnqueues(t *testing.T) {
	f := newGofakeServer(t, "rec")
	s := mustNewSpool(t, t.TempDir(), f.storage(t), spoolTestOptions(t, nil))
	f.setOutage(gofakeUnavailable)
	var enqErr error
	for i := range 3 {
		seg := fmt.Sprintf("hls/%d.ts", i)
		err := s.Enqueue("rec", seg, []byte(seg), "", func() {
			enqErr = errors.Join(enqErr, s.Enqueue("rec", "hls/playlist.m3u8", []byte("#EXTM3U\n"+seg), "", nil))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	time.AfterFunc(20*time.Millisecond, func() { f.setOutage(gofakeUp) })
	drainWithin(t, s, 5*time.Second)
	// The segments were all queued before the first callback ran, so the
	// playlists follow them.
	want := []string{"rec/hls/0.ts", "rec/hls/1.ts", "rec/hls/2.ts", "rec/hls/playlist.m3u8", "rec/hls/playlist.m3u8", "rec/hls/playlist.m3u8"}
	if got := f.putKeys(); !slices.Equal(got, want) {
		t.Errorf("uploads:\n got %q\nwant %q", got, want)
	}
	if data, _ := f.object(t, "rec", "hls/playlist.m3u8"); string(data) != "#EXTM3U\nhls/2.ts" {
		t.Errorf("final playlist %q", data)
	}
	if enqErr != nil {
		t.Error(enqErr)
	}
}

func TestSpoolWithFolderStorage(t *testing.T) {
	root := t.TempDir()
	fs, err := NewFolderStorage(filepath.Join(root, "store"))
	if err != nil {
		t.Fatal(err)
	}
	s := mustNewSpool(t, filepath.Join(root, "spool"), fs, spoolTestOptions(t, nil))
	if err := s.Enqueue("bucket", "a/b/0.ts", []byte("ts"), "", nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../x.ts", "/x.ts", ""} {
		if err := s.Enqueue("bucket", bad, []byte("x"), "", nil); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Enqueue(%q): %v, want ErrInvalidName", bad, err)
		}
	}
	drainWithin(t, s, 5*time.Second)
	if data, err := os.ReadFile(filepath.Join(root, "store", "bucket", "a", "b", "0.ts")); err != nil || string(data) != "ts" {
		t.Errorf("stored %q, %v", data, err)
	}
}

// flakyStorage fails the first n Puts, then passes them to st.
type flakyStorage struct {
	st Storage
	mu sync.Mutex
	n  int
}

func (f *flakyStorage) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, contentType string) error {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		io.Copy(io.Discard, body) // a failed attempt may have read the body
		return errors.New("flaky")
	}
	return f.st.Put(ctx, bucket, key, body, size, contentType)
}

func TestSpoolRetriesRewindTheBody(t *testing.T) {
	root := t.TempDir()
	fs, _ := NewFolderStorage(filepath.Join(root, "store"))
	s := mustNewSpool(t, filepath.Join(root, "spool"), &flakyStorage{st: fs, n: 3}, spoolTestOptions(t, nil))
	if err := s.Enqueue("b", "k.ts", []byte("whole body"), "", nil); err != nil {
		t.Fatal(err)
	}
	drainWithin(t, s, 5*time.Second)
	if data, _ := os.ReadFile(filepath.Join(root, "store", "b", "k.ts")); string(data) != "whole body" {
		t.Errorf("stored %q", data)
	}
}

func TestSpoolCloseInterruptsBackoff(t *testing.T) {
	f := newGofakeServer(t, "rec")
	opts := spoolTestOptions(t, nil)
	opts.MinBackoff, opts.MaxBackoff = time.Minute, time.Minute
	s, err := NewSpool(t.TempDir(), f.storage(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	f.setOutage(gofakeUnavailable)
	s.Enqueue("rec", "a.ts", []byte("a"), "", nil)
	testsrv.WaitFor(t, 5*time.Second, "a failed attempt", func() bool { return s.Stats().Failures > 0 })
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v during a backoff", d)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSpoolBackoff(t *testing.T) {
	s := &Spool{opts: SpoolOptions{MinBackoff: 100 * time.Millisecond, MaxBackoff: 30 * time.Second}}
	for attempt := 1; attempt < 100; attempt++ {
		want := min(100*time.Millisecond<<min(attempt-1, 20), 30*time.Second)
		for range 20 {
			if d := s.backoff(attempt); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestSpoolMetricsShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewSpoolMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSpoolMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	a.queued("x", 2, 10)
	b.queued("x", 1, 5)
	if v := spoolMetric(t, a.depth, "x"); v != 3 {
		t.Errorf("shared depth = %v, want 3", v)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fam := range families {
		names = append(names, fam.GetName())
	}
	for _, want := range []string{"tessera_upload_queue_depth", "tessera_upload_queue_bytes"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s not registered (have %v)", want, names)
		}
	}
}
