package testsrv

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ScreenshotTimeout bounds one Screenshot: starting the browser, loading
// the page, waiting for it to be ready and capturing it.
const ScreenshotTimeout = 60 * time.Second

// Screenshot opens url in a fresh headless Chromium (chromiumFlags, a
// width×height window), waits until the JavaScript expression ready is
// true in the page (polled every 100 ms; "" waits for the load to
// complete), then for settle more, and writes a PNG of the page to out.
// Unlike Chromium's --screenshot, it captures the page as it runs in real
// time, so video that is playing shows. It drives the browser over the
// DevTools protocol on a pipe (--remote-debugging-pipe: file descriptors
// 3 and 4), so no port is opened.
func Screenshot(t testing.TB, url string, width, height int, ready string, settle time.Duration, out string) error {
	t.Helper()
	skipShort(t, "Chromium")
	if err := fileExists(ChromiumBinary, "chromium"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), ScreenshotTimeout)
	defer cancel()
	toChrome, ours, err := os.Pipe() // Chromium reads commands on fd 3
	if err != nil {
		return err
	}
	fromChrome, theirs, err := os.Pipe() // and writes answers on fd 4
	if err != nil {
		return err
	}
	dir := t.TempDir()
	args := append([]string{}, chromiumFlags...)
	args = append(args, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height), "--hide-scrollbars",
		"--remote-debugging-pipe", "--user-data-dir="+filepath.Join(dir, "profile"), "about:blank")
	unshared := canUnshare()
	p, err := startChromium(dir, args, unshared, toChrome, theirs)
	toChrome.Close() // the browser's ends
	theirs.Close()
	if err != nil {
		ours.Close()
		fromChrome.Close()
		return fmt.Errorf("testsrv: starting %s: %w", ChromiumBinary, err)
	}
	c := &devtools{w: ours, answers: map[int]chan devtoolsAnswer{}}
	go c.read(fromChrome)
	defer func() {
		ours.Close()
		if err := stopGroup(p, unshared); err != nil {
			t.Errorf("testsrv: screenshot: %v", err)
		}
		fromChrome.Close()
	}()
	var target struct{ TargetID string }
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": url}, &target); err != nil {
		return err
	}
	var attached struct{ SessionID string }
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return err
	}
	if err := c.call(ctx, attached.SessionID, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, &struct{}{}); err != nil {
		return err
	}
	if ready == "" {
		ready = `document.readyState === "complete"`
	}
	for {
		var res struct {
			Result struct{ Value any }
		}
		if err := c.call(ctx, attached.SessionID, "Runtime.evaluate", map[string]any{"expression": "!!(" + ready + ")", "returnByValue": true}, &res); err != nil {
			return err
		}
		if res.Result.Value == true {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testsrv: screenshot of %s: %s not true within %v", url, ready, ScreenshotTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settle):
	}
	var shot struct{ Data string }
	if err := c.call(ctx, attached.SessionID, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return fmt.Errorf("testsrv: screenshot: %w", err)
	}
	return os.WriteFile(out, png, 0o644)
}

// devtools is a DevTools protocol client on Chromium's debugging pipe:
// JSON messages, each ended by a NUL byte.
type devtools struct {
	mu      sync.Mutex
	w       *os.File
	next    int
	answers map[int]chan devtoolsAnswer
}

type devtoolsAnswer struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// read hands every answer to the call waiting for it until the pipe
// closes; events are dropped.
func (c *devtools) read(r *os.File) {
	br := bufio.NewReader(r)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var a devtoolsAnswer
		if json.Unmarshal(msg[:len(msg)-1], &a) != nil || a.ID == 0 {
			continue
		}
		c.mu.Lock()
		ch := c.answers[a.ID]
		delete(c.answers, a.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- a
		}
	}
}

// call sends one command (to a page's session, or the browser with
// session "") and decodes its result into out.
func (c *devtools) call(ctx context.Context, session, method string, params, out any) error {
	ch := make(chan devtoolsAnswer, 1)
	c.mu.Lock()
	c.next++
	id := c.next
	c.answers[id] = ch
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	_, err := c.w.Write(append(b, 0))
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("testsrv: devtools %s: %w", method, err)
	}
	select {
	case a := <-ch:
		if a.Error != nil {
			return fmt.Errorf("testsrv: devtools %s: %s", method, a.Error.Message)
		}
		return json.Unmarshal(a.Result, out)
	case <-ctx.Done():
		return fmt.Errorf("testsrv: devtools %s: no answer within %v", method, ScreenshotTimeout)
	}
}
