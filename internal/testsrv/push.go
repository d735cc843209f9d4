package testsrv

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Test pattern pushed by PushTestPattern.
const (
	PatternWidth  = 320
	PatternHeight = 240
	PatternFPS    = 25
	// PatternGOP is the key frame interval in frames (one second).
	PatternGOP = PatternFPS
)

// PushTestPattern publishes d of a test pattern to url (rtmp:// or
// rtmps://) in real time with the ffmpeg CLI: testsrc2 at
// PatternWidth×PatternHeight, PatternFPS frames a second, H.264 with a key
// frame every PatternGOP frames, and a 440 Hz tone as AAC, muxed as FLV.
// extra holds output options placed just before the URL (for instance
// "-tls_verify", "1", "-ca_file", cert). It returns ffmpeg's error with its
// messages, and gives up after d plus 30 seconds. It may be called from
// any goroutine.
func PushTestPattern(url string, d time.Duration, extra ...string) error {
	if err := lookBinary(FFmpegBinary, "ffmpeg"); err != nil {
		return err
	}
	limit := d + 30*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	secs := strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
	args := []string{
		"-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", PatternWidth, PatternHeight, PatternFPS),
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", secs,
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-threads", "1",
		"-g", strconv.Itoa(PatternGOP), "-keyint_min", strconv.Itoa(PatternGOP), "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "64k",
		"-f", "flv",
	}
	args = append(append(args, extra...), url)
	cmd := exec.CommandContext(ctx, FFmpegBinary, args...)
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("testsrv: ffmpeg push to %s: not done after %v: %s", url, limit, strings.TrimSpace(string(out)))
	}
	if err != nil {
		return fmt.Errorf("testsrv: ffmpeg push to %s: %v: %s", url, err, strings.TrimSpace(string(out)))
	}
	return nil
}
