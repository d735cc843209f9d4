package testsrv

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test pattern pushed by PushTestPattern and StartPush.
const (
	PatternWidth  = 320
	PatternHeight = 240
	PatternFPS    = 25
	// PatternGOP is the key frame interval in frames (one second).
	PatternGOP = PatternFPS
)

// PushOptions says what StartPush publishes.
type PushOptions struct {
	// Color, "#rrggbb", publishes a solid colour instead of the moving
	// testsrc2 pattern.
	Color string
	// ToneHz is the sine's frequency; default 440.
	ToneHz int
	// Extra holds output options placed just before the URL (for
	// instance "-tls_verify", "1", "-ca_file", cert).
	Extra []string
}

// pushArgs is the ffmpeg command line publishing d of o to url in real
// time: PatternWidth×PatternHeight at PatternFPS, H.264 with a key frame
// every PatternGOP frames and no B-frames, and the tone as AAC at 44.1 kHz,
// muxed as FLV.
func pushArgs(url string, d time.Duration, o PushOptions) []string {
	video := fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", PatternWidth, PatternHeight, PatternFPS)
	if o.Color != "" {
		video = fmt.Sprintf("color=c=0x%s:size=%dx%d:rate=%d", strings.TrimPrefix(o.Color, "#"), PatternWidth, PatternHeight, PatternFPS)
	}
	hz := o.ToneHz
	if hz == 0 {
		hz = 440
	}
	args := []string{
		"-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", video,
		"-re", "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=44100", hz),
		"-t", strconv.FormatFloat(d.Seconds(), 'f', 3, 64),
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-threads", "1",
		"-g", strconv.Itoa(PatternGOP), "-keyint_min", strconv.Itoa(PatternGOP), "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "64k",
		"-f", "flv",
	}
	return append(append(args, o.Extra...), url)
}

// PushTestPattern publishes d of the test pattern and a 440 Hz tone to url
// (rtmp:// or rtmps://) in real time with the ffmpeg CLI (see pushArgs).
// extra holds output options placed just before the URL. It returns
// ffmpeg's error with its messages, and gives up after d plus 30 seconds.
// It may be called from any goroutine.
func PushTestPattern(url string, d time.Duration, extra ...string) error {
	if err := lookBinary(FFmpegBinary, "ffmpeg"); err != nil {
		return err
	}
	limit := d + 30*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, FFmpegBinary, pushArgs(url, d, PushOptions{Extra: extra})...).CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("testsrv: ffmpeg push to %s: not done after %v: %s", url, limit, strings.TrimSpace(string(out)))
	}
	if err != nil {
		return fmt.Errorf("testsrv: ffmpeg push to %s: %v: %s", url, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Push is an ffmpeg CLI publisher running in the background.
type Push struct {
	cmd  *exec.Cmd
	out  SyncBuffer
	done chan struct{}
	err  error
	once sync.Once
}

// StartPush starts publishing d of o to url with the ffmpeg CLI; the test's
// end kills it.
func StartPush(t testing.TB, url string, d time.Duration, o PushOptions) *Push {
	t.Helper()
	if err := lookBinary(FFmpegBinary, "ffmpeg"); err != nil {
		t.Fatal(err)
	}
	p := &Push{done: make(chan struct{})}
	p.cmd = exec.Command(FFmpegBinary, pushArgs(url, d, o)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	return p
}

// Stop kills ffmpeg (at once, as a crashing encoder would end) and waits
// for it.
func (p *Push) Stop() {
	p.once.Do(func() { _ = p.cmd.Process.Kill() })
	<-p.done
}

// Wait waits up to timeout for ffmpeg to exit and returns its error with
// its messages (nil when it published to the end).
func (p *Push) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
	case <-time.After(timeout):
		return fmt.Errorf("testsrv: ffmpeg still publishing after %v", timeout)
	}
	if p.err != nil {
		return fmt.Errorf("testsrv: ffmpeg push: %v: %s", p.err, strings.TrimSpace(p.out.String()))
	}
	return nil
}
