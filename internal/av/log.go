package av

/*
#cgo pkg-config: libavutil
#include <stdarg.h>
#include <libavutil/log.h>

// This file has an //export, so its preamble is compiled twice (here and
// in _cgo_export.c): what it defines must be static, and it keeps no C
// state of its own (the threshold is FFmpeg's av_log level).

extern void tsrLogLine(int level, char *component, char *line);

// tsr_log_callback is the av_log callback while a slog.Logger is set. It
// may run on any thread (FFmpeg's and libx264's workers included): it
// formats the line on the stack and hands it to Go, which copies it.
static inline void tsr_log_callback(void *avcl, int level, const char *fmt, va_list vl) {
	if (level > av_log_get_level()) return;
	char line[1024];
	int prefix = 0; // no "[h264 @ 0x…]": the component says it
	av_log_format_line(avcl, level, fmt, vl, line, sizeof line, &prefix);
	const char *name = NULL;
	if (avcl) {
		const AVClass *c = *(const AVClass **)avcl;
		if (c && c->item_name) name = c->item_name(avcl);
	}
	tsrLogLine(level, (char *)name, line);
}

static inline void tsr_log_to_go(int level) {
	av_log_set_level(level);
	av_log_set_callback(tsr_log_callback);
}

static inline void tsr_log_to_stderr(int level) {
	av_log_set_callback(av_log_default_callback);
	av_log_set_level(level);
}
*/
import "C"

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// logger is where FFmpeg's log goes, when SetLogger has set one.
var logger atomic.Pointer[slog.Logger]

func init() {
	// Quiet by default: FFmpeg's errors on stderr, not its warnings and
	// statistics.
	C.tsr_log_to_stderr(C.AV_LOG_ERROR)
}

// SetLogger routes FFmpeg's log (av_log, which libx264 and libvpx messages
// go through too) to l: AV_LOG_PANIC, FATAL and ERROR become slog errors,
// WARNING warnings, and INFO, VERBOSE and DEBUG debug records (TRACE is
// dropped): FFmpeg's INFO is chatter for an operator — an encoder's
// settings when it opens, its statistics when it closes — not events of
// the server. Each record carries the line without its trailing newline
// and, where FFmpeg says, the attribute "context": the name of FFmpeg's
// logging context ("h264", "libx264", "swscaler"…). Lines longer than
// 1 KiB are cut.
//
// Levels the logger does not enable are filtered inside FFmpeg, before
// the line is formatted; they are read from l when SetLogger is called,
// so call it again after changing the handler's level. At Debug, libx264
// alone logs a line per frame. SetLogger(nil)
// restores the default: FFmpeg writes its errors, and only those, to
// stderr.
//
// FFmpeg's log is process-wide: the last SetLogger wins, as does a later
// astiav.SetLogCallback or astiav.SetLogLevel. The handler is called from
// whichever thread logs, FFmpeg's own worker threads included, so it must
// be safe for concurrent use (slog handlers are) and should not block.
func SetLogger(l *slog.Logger) {
	if l == nil {
		logger.Store(nil)
		C.tsr_log_to_stderr(C.AV_LOG_ERROR)
		return
	}
	ctx := context.Background()
	level := C.int(C.AV_LOG_QUIET)
	switch {
	case l.Enabled(ctx, slog.LevelDebug):
		level = C.AV_LOG_DEBUG
	case l.Enabled(ctx, slog.LevelWarn):
		level = C.AV_LOG_WARNING
	case l.Enabled(ctx, slog.LevelError):
		level = C.AV_LOG_ERROR
	}
	logger.Store(l)
	C.tsr_log_to_go(level)
}

// slogLevel maps an av_log level to slog's.
func slogLevel(level int) slog.Level {
	switch {
	case level <= C.AV_LOG_ERROR:
		return slog.LevelError
	case level <= C.AV_LOG_WARNING:
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

//export tsrLogLine
func tsrLogLine(level C.int, component, line *C.char) {
	l := logger.Load()
	if l == nil || level > C.AV_LOG_DEBUG {
		return
	}
	msg := strings.TrimRight(C.GoString(line), "\r\n")
	if msg == "" {
		return
	}
	if component != nil {
		l.Log(context.Background(), slogLevel(int(level)), msg, "context", C.GoString(component))
		return
	}
	l.Log(context.Background(), slogLevel(int(level)), msg)
}
