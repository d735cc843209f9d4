package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/tessera-media/tessera/media"
)

// rtmpReader plays a live RTMP stream with the ffmpeg command-line tool and
// keeps the newest decoded picture (I420 of the expected size).
type rtmpReader struct {
	w, h   int
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}

	mu     sync.Mutex
	latest *media.VideoFrame
	frames int
}

// readRTMP starts playing url, expecting w×h pictures. The player is
// stopped by t.Cleanup.
func readRTMP(t *testing.T, url string, w, h int) *rtmpReader {
	t.Helper()
	r := &rtmpReader{w: w, h: h, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	r.cmd = exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
		"-rw_timeout", "15000000", "-i", url, "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1")
	r.cmd.Stderr = &r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting ffmpeg: %v", err)
	}
	go r.read(out)
	t.Cleanup(func() {
		cancel()
		<-r.done
		if t.Failed() && r.stderr.Len() > 0 {
			t.Logf("ffmpeg reading %s: %s", url, r.stderr.String())
		}
	})
	return r
}

func (r *rtmpReader) read(out io.Reader) {
	defer close(r.done)
	defer r.cmd.Wait() //nolint:errcheck // ended by cancel or the stream's end
	buf := make([]byte, r.w*r.h*3/2)
	for {
		if _, err := io.ReadFull(out, buf); err != nil {
			return
		}
		f := media.NewVideoFrame(r.w, r.h)
		ySize, cSize := r.w*r.h, r.w*r.h/4
		for p, plane := range [][]byte{buf[:ySize], buf[ySize : ySize+cSize], buf[ySize+cSize:]} {
			pw := f.PlaneWidth(p)
			for y := range f.PlaneHeight(p) {
				copy(f.Row(p, y), plane[y*pw:(y+1)*pw])
			}
		}
		r.mu.Lock()
		r.latest = f
		r.frames++
		r.mu.Unlock()
	}
}

// Latest returns the newest picture and how many were read; nil before the
// first.
func (r *rtmpReader) Latest() (*media.VideoFrame, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latest, r.frames
}

// errNoPicture is returned by waitFrames when the stream gave nothing.
var errNoPicture = errors.New("no picture from the RTMP stream")

// waitFrames waits until n more pictures than now were read.
func (r *rtmpReader) waitFrames(ctx context.Context, n int) error {
	_, start := r.Latest()
	for {
		if _, got := r.Latest(); got >= start+n {
			return nil
		}
		select {
		case <-ctx.Done():
			return errNoPicture
		case <-r.done:
			return errNoPicture
		case <-time.After(50 * time.Millisecond):
		}
	}
}
