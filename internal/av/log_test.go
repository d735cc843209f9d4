package av

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/asticode/go-astiav"
)

// records is a slog.Handler that keeps what it is given.
type records struct {
	level slog.Level
	mu    sync.Mutex
	recs  []record
}

type record struct {
	level     slog.Level
	msg       string
	component string
}

func (h *records) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *records) Handle(_ context.Context, r slog.Record) error {
	rec := record{level: r.Level, msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "context" {
			rec.component = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, rec)
	h.mu.Unlock()
	return nil
}

func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

func (h *records) take() []record {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.recs
	h.recs = nil
	return r
}

// The h264 decoder's complaints about garbage reach the logger as errors
// from the component "h264", one line each, without the newline.
func TestSetLoggerDecoderErrors(t *testing.T) {
	h := &records{level: slog.LevelError}
	SetLogger(slog.New(h))
	t.Cleanup(func() { SetLogger(nil) })
	if l := astiav.GetLogLevel(); l != astiav.LogLevelError {
		t.Errorf("FFmpeg's level %d for an error logger, want %d", l, astiav.LogLevelError)
	}
	d := newVideoDecoder(t, "h264", 0)
	garbage := []byte{0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}
	if _, err := d.Decode(garbage, 0, newFrame); err == nil {
		t.Error("garbage decoded")
	}
	recs := h.take()
	if len(recs) == 0 {
		t.Fatal("nothing logged for garbage")
	}
	for _, r := range recs {
		t.Logf("%v %s: %q", r.level, r.component, r.msg)
		if r.level != slog.LevelError || r.component != "h264" || r.msg == "" || strings.HasSuffix(r.msg, "\n") || strings.HasPrefix(r.msg, "[") {
			t.Errorf("record %+v, want an error from h264, one bare line", r)
		}
	}
}

// Levels map (FFmpeg's INFO and below to debug), those the logger does
// not want are dropped inside FFmpeg, and
// SetLogger(nil) brings back FFmpeg's own output, errors only.
func TestSetLoggerLevels(t *testing.T) {
	t.Cleanup(func() { SetLogger(nil) })
	levels := []astiav.LogLevel{astiav.LogLevelFatal, astiav.LogLevelError, astiav.LogLevelWarning, astiav.LogLevelInfo, astiav.LogLevelVerbose, astiav.LogLevelDebug, 56 /* TRACE */}
	for _, tc := range []struct {
		level slog.Level
		av    astiav.LogLevel
		want  []slog.Level // for each of levels that gets through
	}{
		{slog.LevelDebug, astiav.LogLevelDebug, []slog.Level{slog.LevelError, slog.LevelError, slog.LevelWarn, slog.LevelDebug, slog.LevelDebug, slog.LevelDebug}},
		{slog.LevelInfo, astiav.LogLevelWarning, []slog.Level{slog.LevelError, slog.LevelError, slog.LevelWarn}},
		{slog.LevelWarn, astiav.LogLevelWarning, []slog.Level{slog.LevelError, slog.LevelError, slog.LevelWarn}},
		{slog.LevelError + 1, astiav.LogLevelQuiet, nil},
	} {
		h := &records{level: tc.level}
		SetLogger(slog.New(h))
		if l := astiav.GetLogLevel(); l != tc.av {
			t.Errorf("logger at %v: FFmpeg's level %d, want %d", tc.level, l, tc.av)
		}
		for _, l := range levels {
			astiav.Log(nil, l, "line at %s\n", strings.Repeat("x", int(l)))
		}
		var got []slog.Level
		for i, r := range h.take() {
			got = append(got, r.level)
			if want := "line at " + strings.Repeat("x", int(levels[i])); r.msg != want || r.component != "" {
				t.Errorf("logger at %v: record %d %+v, want %q without component", tc.level, i, r, want)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("logger at %v: records at %v, want %v", tc.level, got, tc.want)
		}
	}
	h := &records{level: slog.LevelDebug}
	SetLogger(slog.New(h))
	SetLogger(nil)
	if l := astiav.GetLogLevel(); l != astiav.LogLevelError {
		t.Errorf("after SetLogger(nil): FFmpeg's level %d, want errors only (%d)", l, astiav.LogLevelError)
	}
	astiav.Log(nil, astiav.LogLevelWarning, "%s", "a warning nobody should see on stderr")
	if r := h.take(); len(r) != 0 {
		t.Errorf("after SetLogger(nil) the old logger got %+v", r)
	}
}
